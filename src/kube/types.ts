import type { Readable, Writable } from 'node:stream';

/**
 * What the rest of kindling needs from a cluster. `src/kube/` implements it over
 * @kubernetes/client-node; verify and backup take it as a parameter so their tests can pass a
 * stand-in where no API server can run.
 */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container?: string;
  command: readonly string[];
  /** Streamed with backpressure; its end closes the remote stdin (needs v5.channel.k8s.io). */
  stdin?: Readable;
  /** Written with backpressure (the socket waits while the stream is full) and left open: the caller ends it. */
  stdout?: Writable;
  stderr?: Writable;
  /** Kill the wait (not the remote process, which the API cannot do) after this many ms. */
  timeoutMs?: number;
}

export interface ExecResult {
  /** The remote command's exit status; a stream that closed without a status is an error, never 0. */
  exitCode: number;
}

export interface Forwarded {
  /** Local port on 127.0.0.1 that reaches the service's port. */
  localPort: number;
  close(): Promise<void>;
}

export interface ClusterAccess {
  exec(req: ExecRequest): Promise<ExecResult>;
  /** Forwards a local port to `port` of the Service `service` (through a ready pod behind it). */
  portForward(namespace: string, service: string, port: number): Promise<Forwarded>;
  /** Reads one key of a Secret, decoded; undefined when absent. */
  readSecret(namespace: string, name: string, key: string): Promise<string | undefined>;
}

/**
 * Read-only listing of a namespace for the seed's namespace-wide checks (pods Ready, Services with
 * ready endpoints, PVCs Bound) and for diagnostics. Objects are client-node's plain model shapes.
 */
export interface NamespaceReader {
  listPods(namespace: string): Promise<import('@kubernetes/client-node').V1Pod[]>;
  listServices(namespace: string): Promise<import('@kubernetes/client-node').V1Service[]>;
  listEndpointSlices(namespace: string): Promise<import('@kubernetes/client-node').V1EndpointSlice[]>;
  listPersistentVolumeClaims(
    namespace: string,
  ): Promise<import('@kubernetes/client-node').V1PersistentVolumeClaim[]>;
}

/** Everything verify and backup need on target kube. */
export type Cluster = ClusterAccess & NamespaceReader;

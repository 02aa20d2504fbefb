import type { RotationSpec } from '../catalog/types.ts';

/**
 * The four steps of AWS Secrets Manager's rotation (docs "How rotation works",
 * docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_how.html): createSecret makes the
 * pending credential (AWSPENDING), setSecret sets it in the service, testSecret logs in with it,
 * finishSecret promotes it (AWSCURRENT) and keeps the old one as AWSPREVIOUS.
 */
export const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type Step = (typeof STEPS)[number];

export type { RotationSpec };

export type Login = 'accepted' | 'rejected';

export interface RotatorContext {
  /** The endpoint URL without credentials. */
  url: URL;
  user: string;
  spec: RotationSpec;
  timeoutMs: number;
  /**
   * Target kube with the credential in a Secret the workloads read: their restart carries the new
   * credential, so the service need not persist it itself (no CONFIG REWRITE into a read-only
   * ConfigMap mount).
   */
  restartCarries?: boolean;
  /** Where this rotation's state lives: its key in the secrets file, and the file (for messages that point there). */
  key?: string;
  secretsFile?: string;
  /** Target kube: a way to run a client inside the endpoint's pod (see InPod). */
  inPod?: InPod;
}

/**
 * Target kube: the endpoint's pod, for a login that must not arrive on loopback (where a
 * port-forward lands, and where a server may trust every client). `run` is `kubectl exec` of
 * `command` with `stdin`: a credential goes on stdin, never in argv (exec arguments reach the API
 * server's request URL, which audit logs record).
 */
export interface InPod {
  resolve(): Promise<{
    /** The pod's own IP: a connection to it from inside the pod comes from that address. */
    podIP: string;
    /** The endpoint's port in the pod (the Service's target port). */
    port: number;
    run(
      command: readonly string[],
      stdin: string,
    ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  }>;
}

/** How one kind of service changes a password. One file per type, registered in registry.ts. */
export interface Rotator {
  type: string;
  params: string[];
  /** Parameter problems (messages), for the catalog check. */
  validate(spec: RotationSpec): string[];
  /** Logs in with `password` ('' = none): accepted or rejected; throws when the service cannot be reached. */
  login(ctx: RotatorContext, password: string): Promise<Login>;
  /** Changes the password of `ctx.user` from `current` to `next`, logged in with `current`. */
  set(ctx: RotatorContext, current: string, next: string): Promise<void>;
}

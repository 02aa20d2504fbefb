/** The stack catalog (`manifests/stack.yaml`) as plain data. Service knowledge lives in the file, not here. */

/** A value read from a Kubernetes Secret in the stack's namespace (on target local: from the endpoint URL). */
export interface SecretRef {
  secret: string;
  key: string;
  optional?: boolean;
}

/** A literal or a reference to a Secret key. */
export type Credential = string | SecretRef;

export interface Endpoint {
  /** Name used in checks (`endpoint:`) and on the command line (`--endpoint COMPONENT.NAME=URL`). */
  name: string;
  /** URL scheme: postgresql, redis, http, https, kafka, tcp, ... */
  scheme: string;
  service: string;
  port: number;
  path?: string;
  username?: Credential;
  password?: Credential;
}

export interface WorkloadRef {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';
  name: string;
}

export interface ServiceRef {
  name: string;
  ports: number[];
}

/** A health check: `type` picks the probe; the other keys are that probe's parameters. */
export interface CheckSpec {
  name: string;
  type: string;
  /** Which endpoint of the component (default: the first). */
  endpoint?: string;
  /** Only on this target (`kube` or `local`); default both. */
  target?: 'kube' | 'local';
  /** Per-check deadline override, e.g. `2m`. */
  timeout?: string;
  [param: string]: unknown;
}

/** A backup: `type` picks the source; the other keys are that source's parameters. */
export interface BackupSpec {
  name: string;
  type: string;
  endpoint?: string;
  [param: string]: unknown;
}

/** A rotation of a credential (`kindling rotate`): `type` picks the rotator (src/rotate); the rest are its parameters. */
export interface RotationSpec {
  name: string;
  type: string;
  /** Endpoint of the component the rotator connects to (default: the first). */
  endpoint?: string;
  /** The account whose password rotates (default: the endpoint's username). */
  user?: string;
  /** Where the stack keeps the credential (target kube; recorded in the secrets file). */
  secret?: SecretRef;
  [param: string]: unknown;
}

export interface Component {
  name: string;
  group: string;
  description?: string;
  manifests: string[];
  dependsOn: string[];
  workloads: WorkloadRef[];
  services: ServiceRef[];
  endpoints: Endpoint[];
  checks: CheckSpec[];
  backups: BackupSpec[];
  /** How its credentials rotate (`kindling rotate`): `type` picks the rotator (src/rotate). */
  rotation?: RotationSpec[];
  /** Timeout for this component to become ready when deploying, e.g. `10m`. */
  readyTimeout?: string;
  /** What the host kernel must provide when it runs (kind nodes share it): sysctl → minimum. */
  host?: { sysctls: Record<string, number> };
  /** How `kindling upgrade` changes its image (default: a rolling update with rollback). */
  upgrade?: UpgradeSpec;
}

/**
 * `rolling`: the workload's own update, verified, rolled back to the previous revision on failure.
 * `blue-green`: a green copy beside blue, verified through its own Service, then the Service switched.
 * `dump-restore`: blue-green filled from a fresh backup of blue (a major version a rolling update cannot do).
 */
export interface UpgradeSpec {
  strategy: 'rolling' | 'blue-green' | 'dump-restore';
  /** How long blue is kept after the switch when no `--finish` comes (default 1h). */
  keepBlue?: string;
  /** Use this strategy only when an image's major version changes (`16.6` → `17.2`); other changes roll. */
  majorOnly?: boolean;
  /** dump-restore: the catalog backup (of this component) that fills green. */
  backup?: string;
  /** dump-restore: checks whose answers must be the same on blue and green (e.g. the roles). */
  compare?: CheckSpec[];
}

/** Policy knobs for `kindling validate` that are facts about this stack, not about kindling. */
export interface StackPolicy {
  /** Published default passwords: a finding wherever they appear in a Secret or env value. */
  defaultCredentials: string[];
  /** Published defaults that only count in a password-like field (admin/admin, nacos/nacos). */
  defaultCredentialsInPasswordFields: string[];
  /** Sizing profiles where a default credential is an error (a warning elsewhere). */
  strictSizings: string[];
  /** Where images keep their database files: a data directory must not be a volume's root. */
  dataDirectories?: DataDirectoryRule[];
  /** What the generated NetworkPolicies admit besides `dependsOn` (src/security). */
  network?: NetworkData;
  /** Rules for replicated workloads under the strict sizings (src/security/hardening.ts). */
  hardening?: HardeningData;
}

/** How an image is told its data directory (`env` or `arg`), and where it is otherwise. */
export interface DataDirectoryRule {
  /** Image name without tag, e.g. `mysql` (also matches `docker.io/library/mysql`). */
  image: string;
  /** The image's data directory when neither `env` nor `arg` sets it. */
  default: string;
  /** Environment variable that sets it (PostgreSQL: `PGDATA`). */
  env?: string;
  /** Command-line option that sets it, as `--opt=DIR` or `--opt DIR` (MySQL: `--datadir`). */
  arg?: string;
}

export interface NetworkData {
  /** The component that scrapes every Service annotated `scrapeAnnotation: "true"` on `portAnnotation`. */
  metricsScraper?: { component: string; scrapeAnnotation?: string; portAnnotation: string };
  /** Namespaces outside the stack (the applications) and the components they may reach. */
  clientNamespaces: { namespace: string; components: string[] }[];
  /** Connections that are not deploy dependencies (no ordering), e.g. an optional datasource. */
  /** `ports`: only these of the target's pod ports (default: all its catalog Service ports). */
  connections: { from: string; to: string; why?: string; ports?: number[] }[];
}

export interface HardeningData {
  /** Replicas of a replicated workload must be spread over this topology key. */
  spreadTopologyKey?: string;
  /** Components that keep a majority quorum: a PDB may allow at most a minority down. */
  quorum: string[];
}

export interface Stack {
  /** Absolute path of the catalog file. */
  file: string;
  /** Absolute path of the directory the manifests and overlays are relative to. */
  dir: string;
  namespace: string;
  render: {
    base: string;
    overlays: Record<string, string>;
    defaultSizing: string;
  };
  shared: { manifests: string[] };
  groups: Record<string, string>;
  profiles: Record<string, string[]>;
  components: Record<string, Component>;
  policy: StackPolicy;
  /** Line of each component's key in the catalog, for error messages. */
  lines: Record<string, number>;
}

/**
 * The contract between the infrastructure and the sample app: the names of the
 * environment variables that `AppFleet` writes into the app's environment file
 * and that the app's config loader reads. Both sides import this module, so a
 * name can never drift between them.
 */
export const APP_ENV = {
  /** `blue` or `green` ({@link FleetColor}). */
  COLOR: 'SESSION_APP_COLOR',
  /** Free-form release label shown on the page, e.g. `v1.4.2`. */
  VERSION: 'SESSION_APP_VERSION',
  /** One of {@link SESSION_STRATEGIES}. */
  STRATEGY: 'SESSION_STRATEGY',
  /** Address the app listens on. */
  HOST: 'HOST',
  /** TCP port the app listens on; the target group sends traffic here. */
  PORT: 'PORT',
  /** Name of the app's session cookie (the application-cookie stickiness keys on it). */
  COOKIE_NAME: 'SESSION_COOKIE_NAME',
  /** Idle lifetime of a session, in seconds. */
  TTL_SECONDS: 'SESSION_TTL_SECONDS',
  /** `true` when users reach the app over HTTPS: cookies get the Secure attribute. */
  SECURE_COOKIE: 'SESSION_SECURE_COOKIE',
  /**
   * Secrets that seal `cookie` sessions: one or more, comma-separated, each at
   * least 32 characters; the first seals, all unseal (rotation).
   */
  COOKIE_SECRETS: 'SESSION_COOKIE_SECRETS',
  /**
   * Keys that sign session ids (HMAC-SHA256) for the server-side strategies:
   * one or more, comma-separated, each at least 32 characters, the same on
   * every instance of both colors; the first signs, all verify (rotation).
   * A forged id is then refused without a store read, and an id a lagging
   * read replica does not know is read from the primary before it counts as
   * absent. Required by `database` with read replicas; optional otherwise.
   */
  ID_KEYS: 'SESSION_ID_KEYS',
  /** `imds` to read the instance id and AZ from EC2 instance metadata (IMDSv2); `hostname` elsewhere. */
  INSTANCE_METADATA: 'SESSION_INSTANCE_METADATA',
  /**
   * With `hostname`: the instance name to show instead of the host name (the
   * lab runs several app processes on one host and tells them apart by it).
   */
  INSTANCE_NAME: 'SESSION_INSTANCE_NAME',
  /** `redis`: host of the primary. */
  REDIS_HOST: 'SESSION_REDIS_HOST',
  /** `redis`: port. */
  REDIS_PORT: 'SESSION_REDIS_PORT',
  /** `redis`: `true` to connect with TLS (ElastiCache with transit encryption). */
  REDIS_TLS: 'SESSION_REDIS_TLS',
  /** `redis`: the AUTH token, when the cache requires one. */
  REDIS_AUTH_TOKEN: 'SESSION_REDIS_AUTH_TOKEN',
  /** `file`: the directory that holds one file per session (an EFS mount on AWS). */
  FILE_DIR: 'SESSION_FILE_DIR',
  /** `database`: `postgres` or `mysql` (MySQL and MariaDB). */
  DB_ENGINE: 'SESSION_DB_ENGINE',
  /** `database`: host of the primary, or of the RDS Proxy in front of it; every write goes here. */
  DB_HOST: 'SESSION_DB_HOST',
  /** `database`: port of the primary (or proxy). */
  DB_PORT: 'SESSION_DB_PORT',
  /** `database`: the database (schema) that holds the sessions table. */
  DB_NAME: 'SESSION_DB_NAME',
  /** `database`: user name. */
  DB_USER: 'SESSION_DB_USER',
  /** `database`: password (on AWS, the `password` field of the RDS secret, fetched at boot). */
  DB_PASSWORD: 'SESSION_DB_PASSWORD',
  /** `database`: `true` to connect with TLS, verifying the server against {@link APP_ENV.DB_CA_FILE}. */
  DB_TLS: 'SESSION_DB_TLS',
  /** `database`: PEM file of the certificate authorities to trust (on AWS, the RDS global bundle user data downloads). */
  DB_CA_FILE: 'SESSION_DB_CA_FILE',
  /**
   * `database`: the read replicas, comma-separated `host:port` (or `host`, for
   * the primary's port); empty: every read goes to the primary.
   */
  DB_REPLICAS: 'SESSION_DB_REPLICAS',
  /**
   * `database`: `true` to keep a write-through copy of each session in Redis
   * (reached per the `SESSION_REDIS_*` variables), so most reads never reach
   * the database.
   */
  DB_CACHE: 'SESSION_DB_CACHE',
  /**
   * Seconds between two publications of the app's metrics in Embedded Metric
   * Format (to the CloudWatch agent, per the `AWS_EMF_*` variables); 0 turns
   * them off.
   */
  METRICS_INTERVAL: 'SESSION_METRICS_INTERVAL_SECONDS',
} as const;

/** A color of a blue/green release. */
export enum FleetColor {
  /** The color a tier starts with. */
  BLUE = 'blue',
  /** The other color: the release that replaces blue, or that blue replaces. */
  GREEN = 'green',
}

/**
 * A color as text, `blue` or `green`, for the code that reads it from
 * outside the constructs (the traffic shifter's properties, the app's
 * environment, the lab): a {@link FleetColor} is one, text is not a
 * {@link FleetColor} until checked.
 */
export type FleetColorName = `${FleetColor}`;

/** The two colors, blue first. */
export const FLEET_COLORS: readonly FleetColorName[] = [FleetColor.BLUE, FleetColor.GREEN];

/** The longest stickiness an Application Load Balancer accepts, for a target group or between target groups: 7 days. */
export const MAX_STICKINESS_SECONDS = 604_800;

/** The session strategies the sample app knows. */
export const SESSION_STRATEGIES = ['memory', 'cookie', 'redis', 'file', 'database'] as const;

/** A session strategy of the sample app. */
export type SessionStrategyName = (typeof SESSION_STRATEGIES)[number];

/** Path of the health check the load balancer calls. */
export const HEALTH_CHECK_PATH = '/health';

/** Port the sample app listens on by default. */
export const DEFAULT_APP_PORT = 8080;

/** Default name of the app's session cookie. */
export const DEFAULT_COOKIE_NAME = 'sid';

/** The CloudWatch namespace of the sample app's own metrics (Embedded Metric Format). */
export const APP_METRICS_NAMESPACE = 'SessionTier/App';

/**
 * The app's count, per window, of sessions it lost: ids it issued and the
 * store no longer has, or cookies sealed under a key the fleet lacks
 * (sample-app/README.md, "Sessions lost"). Published in
 * {@link APP_METRICS_NAMESPACE} with the dimension sets `[Color]` and
 * `[Color, Strategy, Version]`; the session-continuity alarm reads it.
 */
export const SESSIONS_LOST_METRIC = 'SessionsLost';

/** Where a Redis-backed store reaches its cache: ElastiCache on AWS, a local server in the lab. */
export interface RedisSettings {
  /** Host of the primary. */
  readonly host: string;
  /** Port, as text (CDK passes tokens). */
  readonly port: string;
  /** Whether to connect with TLS. */
  readonly tls: boolean;
}

/** Where the `database` strategy reaches its database. */
export interface DatabaseSettings {
  /** `postgres`, or `mysql` for MySQL and MariaDB. */
  readonly engine: 'postgres' | 'mysql';
  /** Every write goes here: the primary, or the proxy in front of it. */
  readonly host: string;
  /** Port of the writer, as text. */
  readonly port: string;
  /** The database that holds the sessions table. */
  readonly name: string;
  /** The read replicas, `host:port` each. */
  readonly replicas: string[];
  /** Whether to connect with TLS. */
  readonly tls: boolean;
  /** PEM file of the certificate authorities to trust, with `tls`. */
  readonly caFile?: string;
}

/** What a session store needs written into the app's environment, per strategy. */
export type StoreSettings =
  | { readonly strategy: 'memory' }
  | { readonly strategy: 'cookie' }
  | { readonly strategy: 'redis'; readonly redis: RedisSettings }
  | { readonly strategy: 'file'; readonly directory: string }
  | { readonly strategy: 'database'; readonly database: DatabaseSettings; readonly cache?: RedisSettings };

/** The settings of one strategy. */
type SettingsOf<N extends SessionStrategyName> = Extract<StoreSettings, { readonly strategy: N }>;

function redisVariables(r: RedisSettings): Record<string, string> {
  return { [APP_ENV.REDIS_HOST]: r.host, [APP_ENV.REDIS_PORT]: r.port, [APP_ENV.REDIS_TLS]: String(r.tls) };
}

/**
 * Each strategy's variables, but `SESSION_STRATEGY` and the secrets: its
 * entry in the contract (a new strategy adds its own, and the compiler asks for it).
 */
const STORE_VARIABLES: { readonly [N in SessionStrategyName]: (settings: SettingsOf<N>) => Record<string, string> } = {
  memory: () => ({}),
  cookie: () => ({}),
  redis: (s) => redisVariables(s.redis),
  file: (s) => ({ [APP_ENV.FILE_DIR]: s.directory }),
  database: ({ database: db, cache }) => ({
    [APP_ENV.DB_ENGINE]: db.engine,
    [APP_ENV.DB_HOST]: db.host,
    [APP_ENV.DB_PORT]: db.port,
    [APP_ENV.DB_NAME]: db.name,
    [APP_ENV.DB_REPLICAS]: db.replicas.join(','),
    [APP_ENV.DB_TLS]: String(db.tls),
    [APP_ENV.DB_CACHE]: String(cache !== undefined),
    ...db.caFile !== undefined ? { [APP_ENV.DB_CA_FILE]: db.caFile } : {},
    ...cache ? redisVariables(cache) : {},
  }),
};

/**
 * The app's environment for a session store, except the secrets (AUTH token,
 * cookie keys, database user and password, session id keys), whose names are in {@link APP_ENV}.
 * The constructs write it into the environment file on every instance; the
 * lab and the benchmarks start local app processes with it.
 */
export function storeEnvironment(store: StoreSettings): Record<string, string> {
  const variables = STORE_VARIABLES[store.strategy] as (settings: StoreSettings) => Record<string, string>;
  return { [APP_ENV.STRATEGY]: store.strategy, ...variables(store) };
}

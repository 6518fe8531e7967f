import { APP_ENV, DEFAULT_APP_PORT, DEFAULT_COOKIE_NAME, FLEET_COLORS, FleetColorName, SESSION_STRATEGIES, SessionStrategyName } from '../../lib/contract/app-env';

/** The app's settings, read once at start from the environment the fleet's user data writes. */
export interface AppConfig {
  readonly host: string;
  readonly port: number;
  readonly color: FleetColorName;
  readonly version: string;
  readonly strategy: SessionStrategyName;
  readonly cookieName: string;
  readonly ttlSeconds: number;
  readonly secureCookie: boolean;
  readonly cookieSecrets: readonly string[];
  /** Keys that sign session ids (the first signs, all verify); none: ids without a MAC. */
  readonly idKeys: readonly string[];
  readonly instanceMetadata: 'imds' | 'hostname';
  /** With `hostname`: the name to show instead of the host name. */
  readonly instanceName?: string;
  readonly redis?: { readonly host: string; readonly port: number; readonly tls: boolean; readonly password?: string };
  readonly fileDir?: string;
  readonly database?: DatabaseConfig;
  /** Seconds between two EMF publications; 0: none. */
  readonly metricsIntervalSeconds: number;
}

/** The `database` strategy's settings. */
export interface DatabaseConfig {
  readonly engine: 'postgres' | 'mysql';
  readonly primary: { readonly host: string; readonly port: number };
  readonly replicas: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  readonly tls: boolean;
  readonly caFile?: string;
  /** The write-through cache (the `SESSION_REDIS_*` settings), when `SESSION_DB_CACHE` is true. */
  readonly cache?: { readonly host: string; readonly port: number; readonly tls: boolean; readonly password?: string };
}

/** A host name or IPv4 address. */
const HOST = /^[A-Za-z0-9.-]{1,253}$/;

/** A setting is missing or malformed; the message names the variable, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the environment; throws one {@link ConfigError} listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  const problems: string[] = [];
  const get = (name: string, fallback: string) => env[name] ?? fallback;
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const value = get(name, fallback);
    if (!(allowed as readonly string[]).includes(value)) {
      problems.push(`${name}: must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value as T;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = get(name, String(fallback));
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return Number(value);
  };

  const strategy = oneOf(APP_ENV.STRATEGY, 'memory', SESSION_STRATEGIES);
  const cookieName = get(APP_ENV.COOKIE_NAME, DEFAULT_COOKIE_NAME);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName) || /^AWSALB/i.test(cookieName)) {
    problems.push(`${APP_ENV.COOKIE_NAME}: must be an RFC 6265 token not starting with AWSALB, got ${JSON.stringify(cookieName)}`);
  }
  const list = (name: string) => get(name, '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const lengths = (keys: string[]) => (keys.length === 0 ? 'none' : keys.map((s) => `${s.length} characters`).join(', '));
  const secrets = list(APP_ENV.COOKIE_SECRETS);
  if (strategy === 'cookie' && (secrets.length === 0 || secrets.some((s) => s.length < 32))) {
    problems.push(`${APP_ENV.COOKIE_SECRETS}: the cookie strategy needs one or more comma-separated secrets of at least 32 characters, got ${lengths(secrets)}`);
  }
  const bool = (name: string): boolean => oneOf(name, 'false', ['true', 'false']) === 'true';

  const readRedis = (purpose: string): NonNullable<AppConfig['redis']> => {
    const host = get(APP_ENV.REDIS_HOST, '');
    if (!HOST.test(host)) {
      problems.push(`${APP_ENV.REDIS_HOST}: ${purpose} needs the cache's host name or address, got ${JSON.stringify(host)}`);
    }
    return { host, port: int(APP_ENV.REDIS_PORT, 6379, 1, 65535), tls: bool(APP_ENV.REDIS_TLS), password: env[APP_ENV.REDIS_AUTH_TOKEN] || undefined };
  };
  const redis = strategy === 'redis' ? readRedis('the redis strategy') : undefined;
  let fileDir: string | undefined;
  if (strategy === 'file') {
    fileDir = get(APP_ENV.FILE_DIR, '');
    if (!fileDir.startsWith('/')) {
      problems.push(`${APP_ENV.FILE_DIR}: the file strategy needs an absolute directory, got ${JSON.stringify(fileDir)}`);
    }
  }

  const instanceName = (): string | undefined => {
    const name = env[APP_ENV.INSTANCE_NAME];
    if (name !== undefined && !/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
      problems.push(`${APP_ENV.INSTANCE_NAME}: must be 1 to 64 letters, digits, dots, hyphens or underscores, got ${JSON.stringify(name)}`);
    }
    return name;
  };
  let database: DatabaseConfig | undefined;
  if (strategy === 'database') {
    const engine = oneOf(APP_ENV.DB_ENGINE, 'postgres', ['postgres', 'mysql'] as const);
    const defaultPort = engine === 'mysql' ? 3306 : 5432;
    const host = get(APP_ENV.DB_HOST, '');
    if (!HOST.test(host)) {
      problems.push(`${APP_ENV.DB_HOST}: the database strategy needs the primary's host name or address, got ${JSON.stringify(host)}`);
    }
    const port = int(APP_ENV.DB_PORT, defaultPort, 1, 65535);
    const replicas = get(APP_ENV.DB_REPLICAS, '').split(',').map((r) => r.trim()).filter((r) => r !== '').map((text) => {
      const match = /^([A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(text);
      const replicaPort = match?.[2] === undefined ? port : Number(match[2]);
      if (!match || replicaPort < 1 || replicaPort > 65535) {
        problems.push(`${APP_ENV.DB_REPLICAS}: each replica must be host or host:port (port 1 to 65535), got ${JSON.stringify(text)}`);
      }
      return { host: match?.[1] ?? text, port: replicaPort };
    });
    const name = get(APP_ENV.DB_NAME, 'sessions');
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) {
      problems.push(`${APP_ENV.DB_NAME}: must be a database name of letters, digits and underscores, got ${JSON.stringify(name)}`);
    }
    const user = get(APP_ENV.DB_USER, '');
    if (user === '' || user.length > 63) {
      problems.push(`${APP_ENV.DB_USER}: the database strategy needs a user name of 1 to 63 characters, got ${JSON.stringify(user)}`);
    }
    const caFile = env[APP_ENV.DB_CA_FILE] || undefined;
    if (caFile !== undefined && !caFile.startsWith('/')) {
      problems.push(`${APP_ENV.DB_CA_FILE}: must be an absolute path, got ${JSON.stringify(caFile)}`);
    }
    const tls = bool(APP_ENV.DB_TLS);
    if (caFile !== undefined && !tls) {
      problems.push(`${APP_ENV.DB_CA_FILE}: only applies with ${APP_ENV.DB_TLS}=true, got ${APP_ENV.DB_TLS}=false`);
    }
    database = {
      engine,
      primary: { host, port },
      replicas,
      database: name,
      user,
      password: env[APP_ENV.DB_PASSWORD] || undefined,
      tls,
      caFile,
      cache: bool(APP_ENV.DB_CACHE) ? readRedis(`${APP_ENV.DB_CACHE}=true`) : undefined,
    };
  }

  const idKeys = list(APP_ENV.ID_KEYS);
  if (idKeys.some((k) => k.length < 32)) {
    problems.push(`${APP_ENV.ID_KEYS}: must be comma-separated keys of at least 32 characters, got ${lengths(idKeys)}`);
  } else if (idKeys.length === 0 && (database?.replicas.length ?? 0) > 0) {
    problems.push(`${APP_ENV.ID_KEYS}: the database strategy with read replicas (${APP_ENV.DB_REPLICAS}) needs one or more comma-separated keys of at least 32 characters, `
      + 'the same on every instance, so that a session a replica has not replayed yet is read from the primary instead of lost; got none');
  }

  const config: AppConfig = {
    host: get(APP_ENV.HOST, '127.0.0.1'),
    port: int(APP_ENV.PORT, DEFAULT_APP_PORT, 0, 65535),
    color: oneOf(APP_ENV.COLOR, 'blue', FLEET_COLORS),
    version: get(APP_ENV.VERSION, 'dev').slice(0, 64),
    strategy,
    cookieName,
    ttlSeconds: int(APP_ENV.TTL_SECONDS, 86_400, 60, 30 * 86_400),
    secureCookie: bool(APP_ENV.SECURE_COOKIE),
    cookieSecrets: secrets,
    idKeys,
    instanceMetadata: oneOf(APP_ENV.INSTANCE_METADATA, 'hostname', ['imds', 'hostname'] as const),
    instanceName: instanceName(),
    redis,
    fileDir,
    database,
    metricsIntervalSeconds: int(APP_ENV.METRICS_INTERVAL, 0, 0, 3600),
  };
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}

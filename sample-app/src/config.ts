import { APP_ENV, DEFAULT_APP_PORT, DEFAULT_COOKIE_NAME, IMPLEMENTED_STRATEGIES, SESSION_STRATEGIES, SessionStrategyName } from '../../lib/shared/app-env';

/** The app's settings, read once at start from the environment the fleet's user data writes. */
export interface AppConfig {
  readonly host: string;
  readonly port: number;
  readonly color: 'blue' | 'green';
  readonly version: string;
  readonly strategy: SessionStrategyName;
  readonly cookieName: string;
  readonly ttlSeconds: number;
  readonly secureCookie: boolean;
  readonly cookieSecrets: readonly string[];
  readonly instanceMetadata: 'imds' | 'hostname';
  readonly redis?: { readonly host: string; readonly port: number; readonly tls: boolean; readonly password?: string };
  readonly fileDir?: string;
  /** Seconds between two EMF publications; 0: none. */
  readonly metricsIntervalSeconds: number;
}

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
  if (SESSION_STRATEGIES.includes(strategy) && !IMPLEMENTED_STRATEGIES.includes(strategy)) {
    problems.push(`${APP_ENV.STRATEGY}: the ${strategy} strategy is not implemented yet, got ${JSON.stringify(strategy)}; use one of ${IMPLEMENTED_STRATEGIES.join(', ')}`);
  }
  const cookieName = get(APP_ENV.COOKIE_NAME, DEFAULT_COOKIE_NAME);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookieName) || /^AWSALB/i.test(cookieName)) {
    problems.push(`${APP_ENV.COOKIE_NAME}: must be an RFC 6265 token not starting with AWSALB, got ${JSON.stringify(cookieName)}`);
  }
  const secrets = get(APP_ENV.COOKIE_SECRETS, '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (strategy === 'cookie' && (secrets.length === 0 || secrets.some((s) => s.length < 32))) {
    problems.push(`${APP_ENV.COOKIE_SECRETS}: the cookie strategy needs one or more comma-separated secrets of at least 32 characters, got ${secrets.length === 0 ? 'none' : secrets.map((s) => `${s.length} characters`).join(', ')}`);
  }
  const bool = (name: string): boolean => oneOf(name, 'false', ['true', 'false']) === 'true';

  let redis: AppConfig['redis'];
  if (strategy === 'redis') {
    const host = get(APP_ENV.REDIS_HOST, '');
    if (host === '') {
      problems.push(`${APP_ENV.REDIS_HOST}: the redis strategy needs the cache's host, got nothing`);
    }
    redis = { host, port: int(APP_ENV.REDIS_PORT, 6379, 1, 65535), tls: bool(APP_ENV.REDIS_TLS), password: env[APP_ENV.REDIS_AUTH_TOKEN] || undefined };
  }
  let fileDir: string | undefined;
  if (strategy === 'file') {
    fileDir = get(APP_ENV.FILE_DIR, '');
    if (!fileDir.startsWith('/')) {
      problems.push(`${APP_ENV.FILE_DIR}: the file strategy needs an absolute directory, got ${JSON.stringify(fileDir)}`);
    }
  }

  const config: AppConfig = {
    host: get(APP_ENV.HOST, '127.0.0.1'),
    port: int(APP_ENV.PORT, DEFAULT_APP_PORT, 0, 65535),
    color: oneOf(APP_ENV.COLOR, 'blue', ['blue', 'green'] as const),
    version: get(APP_ENV.VERSION, 'dev').slice(0, 64),
    strategy,
    cookieName,
    ttlSeconds: int(APP_ENV.TTL_SECONDS, 86_400, 60, 30 * 86_400),
    secureCookie: bool(APP_ENV.SECURE_COOKIE),
    cookieSecrets: secrets,
    instanceMetadata: oneOf(APP_ENV.INSTANCE_METADATA, 'hostname', ['imds', 'hostname'] as const),
    redis,
    fileDir,
    metricsIntervalSeconds: int(APP_ENV.METRICS_INTERVAL, 0, 0, 3600),
  };
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}

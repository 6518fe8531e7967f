import { ConfigError, loadConfig } from '../../sample-app/src/config';
import { ID_KEY, SECRET_A } from '../../local/secrets';

describe('loadConfig', () => {
  /** The settings the database strategy cannot do without; a row that tests another of its settings adds that one. */
  const database = { SESSION_STRATEGY: 'database', SESSION_DB_HOST: 'h', SESSION_DB_USER: 'u' };

  test('the defaults: memory sessions on 127.0.0.1:8080 as blue, a day of TTL, the sid cookie', () => {
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1', port: 8080, color: 'blue', version: 'dev', strategy: 'memory', cookieName: 'sid',
      ttlSeconds: 86_400, secureCookie: false, cookieSecrets: [], idKeys: [], instanceMetadata: 'hostname', redis: undefined, fileDir: undefined,
      metricsIntervalSeconds: 0,
    });
  });

  test('reads every setting the fleet writes', () => {
    expect(loadConfig({
      SESSION_STRATEGY: 'redis', SESSION_APP_COLOR: 'green', SESSION_APP_VERSION: 'v9', HOST: '0.0.0.0', PORT: '80',
      SESSION_COOKIE_NAME: 'app_sid', SESSION_TTL_SECONDS: '3600', SESSION_SECURE_COOKIE: 'true', SESSION_INSTANCE_METADATA: 'imds',
      SESSION_REDIS_HOST: 'master.cache.example', SESSION_REDIS_PORT: '6380', SESSION_REDIS_TLS: 'true', SESSION_REDIS_AUTH_TOKEN: 'token',
    })).toMatchObject({
      strategy: 'redis', color: 'green', version: 'v9', host: '0.0.0.0', port: 80, cookieName: 'app_sid', ttlSeconds: 3600,
      secureCookie: true, instanceMetadata: 'imds', redis: { host: 'master.cache.example', port: 6380, tls: true, password: 'token' },
    });
    expect(loadConfig({ SESSION_STRATEGY: 'file', SESSION_FILE_DIR: '/mnt/sessions' }).fileDir).toBe('/mnt/sessions');
    expect(loadConfig({
      SESSION_STRATEGY: 'database', SESSION_DB_ENGINE: 'mysql', SESSION_DB_HOST: 'proxy.example', SESSION_DB_USER: 'admin', SESSION_DB_PASSWORD: 'pw',
      SESSION_DB_REPLICAS: 'r1.example:3307, r2.example', SESSION_DB_TLS: 'true', SESSION_DB_CA_FILE: '/etc/session-app/rds-ca.pem',
      SESSION_DB_CACHE: 'true', SESSION_REDIS_HOST: 'cache.example', SESSION_REDIS_PORT: '6380', SESSION_REDIS_TLS: 'true',
      SESSION_ID_KEYS: ID_KEY,
    }).database).toEqual({
      engine: 'mysql', primary: { host: 'proxy.example', port: 3306 }, database: 'sessions', user: 'admin', password: 'pw',
      replicas: [{ host: 'r1.example', port: 3307 }, { host: 'r2.example', port: 3306 }], tls: true, caFile: '/etc/session-app/rds-ca.pem',
      cache: { host: 'cache.example', port: 6380, tls: true, password: undefined },
    });
    expect(loadConfig({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: ` ${SECRET_A} , ${SECRET_A.toUpperCase()} ` }).cookieSecrets)
      .toEqual([SECRET_A, SECRET_A.toUpperCase()]);
    expect(loadConfig({ SESSION_STRATEGY: 'redis', SESSION_REDIS_HOST: 'h', SESSION_ID_KEYS: ` ${ID_KEY} , ${SECRET_A} ` }).idKeys).toEqual([ID_KEY, SECRET_A]);
  });

  test('SESSION_ID_KEYS is optional for the database strategy without read replicas, as for the other strategies', () => {
    expect(loadConfig(database).idKeys).toEqual([]);
    expect(loadConfig({ SESSION_STRATEGY: 'file', SESSION_FILE_DIR: '/mnt/sessions' }).idKeys).toEqual([]);
  });

  test.each([
    [{ SESSION_STRATEGY: 'sticky' }, 'SESSION_STRATEGY: must be one of memory, cookie, redis, file, database, got "sticky"'],
    [{ SESSION_STRATEGY: 'database', SESSION_DB_USER: 'u' }, 'SESSION_DB_HOST: the database strategy needs the primary\'s host name or address, got ""'],
    [{ SESSION_STRATEGY: 'database', SESSION_DB_HOST: 'h' }, 'SESSION_DB_USER: the database strategy needs a user name of 1 to 63 characters, got ""'],
    [{ ...database, SESSION_DB_ENGINE: 'oracle' }, 'SESSION_DB_ENGINE: must be one of postgres, mysql, got "oracle"'],
    [{ ...database, SESSION_DB_REPLICAS: 'r1:5432,r2:99999' }, 'SESSION_DB_REPLICAS: each replica must be host or host:port (port 1 to 65535), got "r2:99999"'],
    [{ ...database, SESSION_DB_REPLICAS: 'a b' }, 'SESSION_DB_REPLICAS: each replica must be host or host:port (port 1 to 65535), got "a b"'],
    [{ ...database, SESSION_DB_NAME: 'x;drop' }, 'SESSION_DB_NAME: must be a database name of letters, digits and underscores, got "x;drop"'],
    [{ ...database, SESSION_DB_CACHE: 'true' }, 'SESSION_REDIS_HOST: SESSION_DB_CACHE=true needs the cache\'s host name or address, got ""'],
    [{ ...database, SESSION_DB_CA_FILE: '/ca.pem' }, 'SESSION_DB_CA_FILE: only applies with SESSION_DB_TLS=true, got SESSION_DB_TLS=false'],
    [{ PORT: '70000' }, 'PORT: must be a whole number from 0 to 65535, got "70000"'],
    [{ PORT: '8o8o' }, 'PORT: must be a whole number from 0 to 65535, got "8o8o"'],
    [{ SESSION_TTL_SECONDS: '30' }, 'SESSION_TTL_SECONDS: must be a whole number from 60 to 2592000, got "30"'],
    [{ SESSION_APP_COLOR: 'red' }, 'SESSION_APP_COLOR: must be one of blue, green, got "red"'],
    [{ SESSION_COOKIE_NAME: 'AWSALBAPP-0' }, 'SESSION_COOKIE_NAME: must be an RFC 6265 token not starting with AWSALB, got "AWSALBAPP-0"'],
    [{ SESSION_COOKIE_NAME: 'my sid' }, 'SESSION_COOKIE_NAME: must be an RFC 6265 token not starting with AWSALB, got "my sid"'],
    [{ SESSION_SECURE_COOKIE: 'yes' }, 'SESSION_SECURE_COOKIE: must be one of true, false, got "yes"'],
    [{ SESSION_STRATEGY: 'cookie' }, 'SESSION_COOKIE_SECRETS: the cookie strategy needs one or more comma-separated secrets of at least 32 characters, got none'],
    [{ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: `${SECRET_A},short` }, 'got 48 characters, 5 characters'],
    [{ ...database, SESSION_DB_REPLICAS: 'r1' },
      'SESSION_ID_KEYS: the database strategy with read replicas (SESSION_DB_REPLICAS) needs one or more comma-separated keys of at least 32 characters, '
      + 'the same on every instance, so that a session a replica has not replayed yet is read from the primary instead of lost; got none'],
    [{ SESSION_ID_KEYS: `${ID_KEY},short` }, 'SESSION_ID_KEYS: must be comma-separated keys of at least 32 characters, got 48 characters, 5 characters'],
    [{ SESSION_STRATEGY: 'redis' }, 'SESSION_REDIS_HOST: the redis strategy needs the cache\'s host name or address, got ""'],
    [{ SESSION_STRATEGY: 'redis', SESSION_REDIS_HOST: 'h', SESSION_REDIS_PORT: '0' }, 'SESSION_REDIS_PORT: must be a whole number from 1 to 65535, got "0"'],
    [{ SESSION_STRATEGY: 'file', SESSION_FILE_DIR: 'sessions' }, 'SESSION_FILE_DIR: the file strategy needs an absolute directory, got "sessions"'],
    [{ SESSION_METRICS_INTERVAL_SECONDS: '1h' }, 'SESSION_METRICS_INTERVAL_SECONDS: must be a whole number from 0 to 3600, got "1h"'],
    [{ SESSION_INSTANCE_METADATA: 'ec2' }, 'SESSION_INSTANCE_METADATA: must be one of imds, hostname, got "ec2"'],
    [{ SESSION_INSTANCE_NAME: 'blue 1' }, 'SESSION_INSTANCE_NAME: must be 1 to 64 letters, digits, dots, hyphens or underscores, got "blue 1"'],
  ])('refuses %j, naming the variable, the value and what is allowed', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test('lists every problem at once', () => {
    expect(() => loadConfig({ PORT: '-1', SESSION_APP_COLOR: 'red', SESSION_STRATEGY: 'file' })).toThrow(
      'invalid configuration:\n'
      + '  - SESSION_FILE_DIR: the file strategy needs an absolute directory, got ""\n'
      + '  - PORT: must be a whole number from 0 to 65535, got "-1"\n'
      + '  - SESSION_APP_COLOR: must be one of blue, green, got "red"',
    );
  });
});

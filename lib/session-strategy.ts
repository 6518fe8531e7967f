import { Tokenization } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct, IDependable } from 'constructs';
import { RDS_CA_BUNDLE_URL } from './contract/database-setup';
import { APP_ENV, FleetColor, RedisSettings, SESSION_STRATEGIES, SessionStrategyName, StoreSettings, storeEnvironment } from './contract/app-env';
import { SessionTierValidationError } from './errors';
import { createCookieSecret } from './private/session-keys';
import { INSTANCE_PATHS } from './private/user-data';
import type { ISessionCache } from './redis-session-cache';
import type { ISessionDatabase } from './session-database';
import type { ISessionFileSystem } from './session-file-system';

/**
 * What a strategy wires itself into: one fleet's network, role, application
 * environment and boot. `AppFleet` is one; the strategy calls only these.
 */
export interface ISessionStrategyTarget extends ec2.IConnectable, iam.IGrantable, IConstruct {
  /** The fleet's color, for the descriptions of the rules it opens. */
  readonly color: FleetColor;
  /** Adds a variable to the application's environment file. */
  addEnvironment(name: string, value: string): void;
  /** Adds a variable whose value is a secret's (or one JSON field of it), fetched at boot; grants its read. */
  addSecretEnvironment(name: string, secret: secretsmanager.ISecret, field?: string): void;
  /** Adds Amazon Linux 2023 packages to install at boot. */
  addPackages(...packages: string[]): void;
  /** Adds shell commands that prepare the store before the application starts. */
  addBootCommands(...commands: string[]): void;
  /** Adds `[Unit]` settings to the application's systemd unit. */
  addUnitSetting(...settings: string[]): void;
  /** Adds `[Service]` settings to the application's systemd unit. */
  addServiceSetting(...settings: string[]): void;
  /** Makes the instances wait, at deploy time, for these to exist. */
  addBootDependency(...dependables: IDependable[]): void;
}

/** Options of {@link SessionStrategy.cookie}. */
export interface CookieStrategyOptions {
  /**
   * The key that seals the sessions: a secret of at least 32 characters (or
   * several, comma-separated: the first seals, all open). Give both colors
   * the same secret so a user moving between them keeps the session.
   * @default a new generated secret per fleet (`SessionTier` shares one between its fleets)
   */
  readonly secret?: secretsmanager.ISecret;
}

/** Options of {@link SessionStrategy.database}. */
export interface DatabaseStrategyOptions {
  /**
   * A write-through cache: every save also puts the session in Redis, and
   * most reads never reach the database.
   * @default no cache when a database is given; `SessionStrategy.database()` in a `SessionTier` gets the tier's cache
   */
  readonly cache?: ISessionCache;
}

/** The stores a strategy may use; `SessionTier` fills in those a strategy was given none of. */
export interface SessionStores {
  /** The cache of `redis`, or the write-through cache of `database`. */
  readonly cache?: ISessionCache;
  /** The file system of `file`. */
  readonly fileSystem?: ISessionFileSystem;
  /** The database of `database`. */
  readonly database?: ISessionDatabase;
  /** The sealing key of `cookie`. */
  readonly cookieSecret?: secretsmanager.ISecret;
}

/** What binding a strategy to a fleet made, for the fleet to expose. */
export interface SessionStrategyBinding {
  /** The key that seals `cookie` sessions, when the strategy is `cookie`. */
  readonly cookieSecret?: secretsmanager.ISecret;
}

/** Where the `file` strategy mounts the file system on every instance. */
export const SESSION_FILES_MOUNT = '/mnt/sessions';

/** The certificate authorities the `database` strategy trusts: AL2023's system store plus the RDS bundle. */
const DB_CA_FILE = `${INSTANCE_PATHS.configDir}/db-ca.pem`;
/** AL2023's system trust store (Mozilla's, with Amazon Root CA 1 to 4): RDS Proxy presents ACM certificates that chain to them. */
const SYSTEM_TRUST_STORE = '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem';

/**
 * Where the app keeps a user's session, and with it what a fleet needs: the
 * store, its network access, its permissions, the application's environment
 * and the boot steps. A fleet given a strategy wires itself by
 * {@link SessionStrategy.bind}; `SessionTier` and a standalone `AppFleet`
 * use the same code.
 *
 * | strategy | session lives in | survives losing the instance |
 * |---|---|---|
 * | `memory` | the instance's RAM; needs stickiness | no |
 * | `cookie` | the browser, sealed (encrypted and authenticated) under 4 KB | yes |
 * | `redis` | ElastiCache (Valkey or Redis OSS), Multi-AZ, TLS, AUTH | yes |
 * | `file` | EFS, one file per session, mounted on every instance | yes |
 * | `database` | RDS (primary writes, replica reads), optionally with a write-through copy in ElastiCache | yes |
 */
export class SessionStrategy {
  /**
   * Sessions in the app process's memory. Cheapest, but a session lives only as
   * long as its instance, and only stickiness brings the user back to it.
   */
  public static memory(): SessionStrategy {
    return new SessionStrategy('memory', {});
  }

  /**
   * The whole session sealed in the cookie (encrypted and authenticated with a
   * key from Secrets Manager). Survives any instance; limited to 4 KB and
   * cannot be revoked server-side.
   */
  public static cookie(options: CookieStrategyOptions = {}): SessionStrategy {
    return new SessionStrategy('cookie', { cookieSecret: options.secret });
  }

  /**
   * Sessions in a Multi-AZ ElastiCache replication group, with a TTL on every
   * key and optimistic concurrency. The fleet lets itself in on the cache's
   * port, reads its AUTH token at boot and finds it through the environment.
   * @param cache a `RedisSessionCache`, or yours through `RedisSessionCache.fromRedisSessionCacheAttributes`;
   * required for a standalone `AppFleet`, filled in by `SessionTier` (which then creates one) when omitted
   */
  public static redis(cache?: ISessionCache): SessionStrategy {
    return new SessionStrategy('redis', { cache });
  }

  /**
   * Sessions as files on EFS, one per session, written atomically with a
   * version check. The fleet lets itself in on NFS, may mount through the
   * access point only, and mounts it before the application starts.
   * @param fileSystem a `SessionFileSystem`, or yours through `SessionFileSystem.fromSessionFileSystemAttributes`;
   * required for a standalone `AppFleet`, filled in by `SessionTier` when omitted
   */
  public static file(fileSystem?: ISessionFileSystem): SessionStrategy {
    return new SessionStrategy('file', { fileSystem });
  }

  /**
   * Sessions in RDS (PostgreSQL or MySQL): writes to the primary (or its
   * proxy) with optimistic concurrency, reads from the read replicas in turn,
   * optionally a write-through copy in a cache. The fleet lets itself in to
   * the writer and every replica, reads the credentials at boot, and trusts
   * the certificates of both RDS and RDS Proxy.
   * @param database a `SessionDatabase`, or yours through `SessionDatabase.fromSessionDatabaseAttributes`;
   * required for a standalone `AppFleet`, filled in by `SessionTier` (with its cache) when omitted
   */
  public static database(database?: ISessionDatabase, options: DatabaseStrategyOptions = {}): SessionStrategy {
    return new SessionStrategy('database', { database, cache: options.cache });
  }

  /**
   * The strategy of the given name, with no store yet, as the demo app's
   * context writes it. Fails for an unknown name.
   * @param name `memory`, `cookie`, `redis`, `file` or `database`
   * @param prop the prop or context key named in an error
   */
  public static fromName(name: string, prop = 'strategy'): SessionStrategy {
    if (!(SESSION_STRATEGIES as readonly string[]).includes(name)) {
      throw new SessionTierValidationError(
        `${prop}: unknown session strategy, got ${JSON.stringify(name)}; use one of ${SESSION_STRATEGIES.join(', ')}`,
      );
    }
    return new SessionStrategy(name as SessionStrategyName, {});
  }

  private constructor(
    /** The strategy's name, as the app's `SESSION_STRATEGY` reads it. */
    public readonly name: SessionStrategyName,
    /** The stores this strategy was given. */
    public readonly stores: SessionStores,
  ) {}

  /** Whether a session outlives the instance that created it. */
  public get survivesInstanceLoss(): boolean {
    return this.name !== 'memory';
  }

  /** The stores this strategy needs and has not been given: what `SessionTier` creates for it. */
  public get missingStores(): ReadonlyArray<'cache' | 'fileSystem' | 'database'> {
    switch (this.name) {
      case 'redis':
        return this.stores.cache ? [] : ['cache'];
      case 'file':
        return this.stores.fileSystem ? [] : ['fileSystem'];
      case 'database':
        // A database given without a cache runs without one; a strategy given nothing gets both.
        return this.stores.database ? [] : this.stores.cache ? ['database'] : ['database', 'cache'];
      default:
        return [];
    }
  }

  /**
   * This strategy with `stores` in the places it was given nothing (its own
   * stores win); what `SessionTier` does with the stores it creates or is given.
   */
  public withStores(stores: SessionStores): SessionStrategy {
    const missing = new Set<string>(this.missingStores);
    const pick = <K extends keyof SessionStores>(key: K, needed: boolean) => this.stores[key] ?? (needed ? stores[key] : undefined);
    return new SessionStrategy(this.name, {
      cache: pick('cache', missing.has('cache')),
      fileSystem: pick('fileSystem', missing.has('fileSystem')),
      database: pick('database', missing.has('database')),
      cookieSecret: pick('cookieSecret', this.name === 'cookie'),
    });
  }

  /**
   * Wires `fleet` to the store: opens the store's port to the fleet's security
   * group (and the fleet's egress to it), grants the reads the application
   * needs at boot, writes where to find the store into the application's
   * environment, and adds the boot steps (mount, certificate authorities).
   * Fails when the strategy needs a store it was not given.
   */
  public bind(fleet: ISessionStrategyTarget): SessionStrategyBinding {
    const missing = this.missingStores.filter((store) => store !== 'cache' || this.name === 'redis');
    if (missing.length > 0) {
      throw new SessionTierValidationError(
        `strategy: SessionStrategy.${this.name}() needs its ${missing.join(' and ')}, got none; ` +
        `pass it (${STORE_HELP[this.name]}), or use SessionTier, which creates one`, fleet);
    }
    const description = `${fleet.color} fleet sessions`;
    switch (this.name) {
      case 'memory':
        this.addEnvironment(fleet, { strategy: 'memory' });
        return {};
      case 'cookie': {
        const cookieSecret = this.stores.cookieSecret ?? createCookieSecret(fleet, 'CookieSecret');
        this.addEnvironment(fleet, { strategy: 'cookie' });
        fleet.addSecretEnvironment(APP_ENV.COOKIE_SECRETS, cookieSecret);
        return { cookieSecret };
      }
      case 'redis':
        this.addEnvironment(fleet, { strategy: 'redis', redis: connectCache(fleet, this.stores.cache!, description) });
        return {};
      case 'file':
        this.bindFileSystem(fleet, this.stores.fileSystem!, description);
        return {};
      case 'database':
        this.bindDatabase(fleet, this.stores.database!, description);
        return {};
    }
  }

  /** The strategy's name. */
  public toString(): string {
    return this.name;
  }

  private addEnvironment(fleet: ISessionStrategyTarget, store: StoreSettings): void {
    for (const [name, value] of Object.entries(storeEnvironment(store))) {
      fleet.addEnvironment(name, value);
    }
  }

  private bindFileSystem(fleet: ISessionStrategyTarget, files: ISessionFileSystem, description: string): void {
    files.connections.allowDefaultPortFrom(fleet, description);
    files.grantReadWrite(fleet);
    fleet.addPackages('amazon-efs-utils');
    fleet.addBootCommands(
      `mkdir -p ${SESSION_FILES_MOUNT}`,
      // _netdev: mounted after the network on every boot; tls and iam: what the file-system policy demands.
      `echo "${files.fileSystem.fileSystemId}:/ ${SESSION_FILES_MOUNT} efs _netdev,noresvport,tls,iam,accesspoint=${files.accessPoint.accessPointId} 0 0" >> /etc/fstab`,
      `mount ${SESSION_FILES_MOUNT}`,
    );
    // The application starts only once the file system is mounted, on every boot; without it,
    // it could write sessions into the instance's own /mnt/sessions.
    fleet.addUnitSetting(`RequiresMountsFor=${SESSION_FILES_MOUNT}`);
    // The unit's file system is read-only but for this.
    fleet.addServiceSetting(`ReadWritePaths=${SESSION_FILES_MOUNT}`);
    fleet.addBootDependency(files.fileSystem.mountTargetsAvailable);
    this.addEnvironment(fleet, { strategy: 'file', directory: SESSION_FILES_MOUNT });
  }

  private bindDatabase(fleet: ISessionStrategyTarget, db: ISessionDatabase, description: string): void {
    db.allowFrom(fleet, description);
    if (db.readyForClients) {
      // The application user exists only once the setup has run.
      fleet.addBootDependency(db.readyForClients);
    }
    fleet.addSecretEnvironment(APP_ENV.DB_USER, db.credentials, 'username');
    fleet.addSecretEnvironment(APP_ENV.DB_PASSWORD, db.credentials, 'password');
    // Signed ids: one a replica does not know yet is read from the primary, a forged one from nowhere.
    if (db.sessionIdKey) {
      fleet.addSecretEnvironment(APP_ENV.ID_KEYS, db.sessionIdKey);
    }
    fleet.addBootCommands(
      // One file for every server the app verifies: the RDS bundle for the instances, the system store
      // for RDS Proxy (ACM certificates). Node, PHP and Java take one CA file that replaces their defaults.
      `curl -fsS --retry 5 --max-time 30 -o ${INSTANCE_PATHS.configDir}/rds-ca.pem ${RDS_CA_BUNDLE_URL}`,
      `cat ${SYSTEM_TRUST_STORE} ${INSTANCE_PATHS.configDir}/rds-ca.pem > ${DB_CA_FILE}`,
      `chmod 0644 ${DB_CA_FILE}`,
    );
    const endpoint = (e: { hostname: string; port: number }) => `${e.hostname}:${Tokenization.stringifyNumber(e.port)}`;
    const cache = this.stores.cache ? connectCache(fleet, this.stores.cache, description) : undefined;
    this.addEnvironment(fleet, {
      strategy: 'database',
      database: {
        engine: db.engine,
        host: db.writerEndpoint.hostname,
        port: Tokenization.stringifyNumber(db.writerEndpoint.port),
        name: db.databaseName,
        replicas: db.replicaEndpoints.map(endpoint),
        tls: true,
        caFile: DB_CA_FILE,
      },
      cache,
    });
  }
}

/** Lets the fleet into the cache and to its AUTH token; where the app finds it. */
function connectCache(fleet: ISessionStrategyTarget, cache: ISessionCache, description: string): RedisSettings {
  cache.connections.allowDefaultPortFrom(fleet, description);
  if (cache.authTokenSecret) {
    fleet.addSecretEnvironment(APP_ENV.REDIS_AUTH_TOKEN, cache.authTokenSecret);
  }
  return { host: cache.primaryEndpoint, port: Tokenization.stringifyNumber(cache.port), tls: cache.transitEncryption };
}

/** How to give each strategy its store, for the error that says one is missing. */
const STORE_HELP: Record<SessionStrategyName, string> = {
  memory: '',
  cookie: '',
  redis: 'SessionStrategy.redis(cache) with a RedisSessionCache or RedisSessionCache.fromRedisSessionCacheAttributes(...)',
  file: 'SessionStrategy.file(files) with a SessionFileSystem or SessionFileSystem.fromSessionFileSystemAttributes(...)',
  database: 'SessionStrategy.database(db) with a SessionDatabase or SessionDatabase.fromSessionDatabaseAttributes(...)',
};

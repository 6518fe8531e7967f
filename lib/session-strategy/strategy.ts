import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct, IDependable } from 'constructs';
import { FleetColor, SESSION_STRATEGIES, SessionStrategyName } from '../contract/app-env';
import { SessionTierValidationError } from '../errors';
import type { ISessionCache } from '../redis-session-cache';
import type { ISessionDatabase } from '../session-database';
import type { ISessionFileSystem } from '../session-file-system';

/**
 * What a strategy wires itself into: one fleet's network, role, application
 * environment and boot. `AppFleet` is one; the strategy calls only these.
 */
export interface ISessionStrategyTarget extends ec2.IConnectable, iam.IGrantable, IConstruct {
  /** The fleet's color, for the descriptions of the rules it opens. */
  readonly color: FleetColor;
  /**
   * The fleet's VPC: a store in another one is out of its reach.
   * @default not known: the store's VPC is not checked
   */
  readonly vpc?: ec2.IVpc;
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
   * several, comma-separated: the first seals, all open).
   * @default a new generated secret, created when the strategy binds its first
   * fleet and given to every fleet it binds after (`SessionTier` gives both colors one)
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

/**
 * What a strategy may be given, by its factory or by `SessionTier`: the
 * stores it keeps sessions in and the keys it would otherwise create.
 */
export interface SessionStores {
  /** The cache of `redis`, or the write-through cache of `database`. */
  readonly cache?: ISessionCache;
  /** The file system of `file`. */
  readonly fileSystem?: ISessionFileSystem;
  /** The database of `database`. */
  readonly database?: ISessionDatabase;
  /** The sealing key of `cookie`. */
  readonly cookieSecret?: secretsmanager.ISecret;
  /** The key that signs the session ids of `memory` (the server-side stores bring their own). */
  readonly sessionIdKey?: secretsmanager.ISecret;
}

/** One thing a strategy may lack, named as the field of {@link SessionStores} that gives it. */
export enum SessionStoreKind {
  /** A cache (`redis`, `database`'s write-through cache). */
  CACHE = 'cache',
  /** A file system (`file`). */
  FILE_SYSTEM = 'fileSystem',
  /** A database (`database`). */
  DATABASE = 'database',
  /** The key that seals `cookie` sessions. */
  COOKIE_SECRET = 'cookieSecret',
  /** The key that signs `memory` session ids. */
  SESSION_ID_KEY = 'sessionIdKey',
}

/** What binding a strategy to a fleet made, for the fleet to expose. */
export interface SessionStrategyBinding {
  /**
   * The key that seals the fleet's sessions.
   * @default none: the strategy does not keep sessions in cookies
   */
  readonly cookieSecret?: secretsmanager.ISecret;
  /**
   * The key that signs the fleet's session ids (`SESSION_ID_KEYS`).
   * @default none: ids are not signed (`cookie`, or a store of yours imported without its key)
   */
  readonly sessionIdKey?: secretsmanager.ISecret;
}

/**
 * Where the app keeps a user's session, and with it what a fleet needs: the
 * store, its network access, its permissions, the application's environment
 * and the boot steps. A fleet given a strategy wires itself by
 * {@link SessionStrategy.bind}; `SessionTier` and a standalone `AppFleet`
 * use the same code.
 *
 * A strategy object is shared state: the keys it creates when it binds its
 * first fleet (the sealing key of `cookie`, the id key of `memory`) are the
 * ones every later fleet bound to it gets, so two fleets given one strategy
 * object keep a user's session between them. `redis`, `file` and `database`
 * sign their session ids with their store's key.
 *
 * | strategy | session lives in | survives losing the instance |
 * |---|---|---|
 * | `memory` | the instance's RAM; needs stickiness | no |
 * | `cookie` | the browser, sealed (encrypted and authenticated) under 4 KB | yes |
 * | `redis` | ElastiCache (Valkey or Redis OSS), Multi-AZ, TLS, AUTH | yes |
 * | `file` | EFS, one file per session, mounted on every instance | yes |
 * | `database` | RDS (primary writes, replica reads), optionally with a write-through copy in ElastiCache | yes |
 */
export abstract class SessionStrategy {
  /**
   * Sessions in the app process's memory. Cheapest, but a session lives only as
   * long as its instance, and only stickiness brings the user back to it.
   * Its session ids are signed with a key created when it binds its first
   * fleet, so the app tells a lost session from a forged id.
   */
  public static memory(): SessionStrategy {
    return strategyOf('memory', {});
  }

  /**
   * The whole session sealed in the cookie (encrypted and authenticated with a
   * key from Secrets Manager). Survives any instance; limited to 4 KB and
   * cannot be revoked server-side.
   */
  public static cookie(options: CookieStrategyOptions = {}): SessionStrategy {
    return strategyOf('cookie', { cookieSecret: options.secret });
  }

  /**
   * Sessions in a Multi-AZ ElastiCache replication group, with a TTL on every
   * key and optimistic concurrency. The fleet lets itself in on the cache's
   * port, reads its AUTH token and its session-id key at boot and finds it
   * through the environment.
   * @param cache a `RedisSessionCache`, or yours through `RedisSessionCache.fromRedisSessionCacheAttributes`;
   * required for a standalone `AppFleet`, filled in by `SessionTier` (which then creates one) when omitted
   */
  public static redis(cache?: ISessionCache): SessionStrategy {
    return strategyOf('redis', { cache });
  }

  /**
   * Sessions as files on EFS, one per session, written atomically with a
   * version check. The fleet lets itself in on NFS, may mount through the
   * access point only, and mounts it before the application starts.
   * @param fileSystem a `SessionFileSystem`, or yours through `SessionFileSystem.fromSessionFileSystemAttributes`;
   * required for a standalone `AppFleet`, filled in by `SessionTier` when omitted
   */
  public static file(fileSystem?: ISessionFileSystem): SessionStrategy {
    return strategyOf('file', { fileSystem });
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
    return strategyOf('database', { database, cache: options.cache });
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
    return strategyOf(name as SessionStrategyName, {});
  }

  /** The strategy's name, as the app's `SESSION_STRATEGY` reads it. */
  public abstract readonly name: string;

  /** Whether a session outlives the instance that created it. */
  public abstract readonly survivesInstanceLoss: boolean;

  /**
   * What `SessionTier` supplies to this strategy: the stores it needs and was
   * not given, and the keys it would otherwise create itself (the tier gives
   * both colors one).
   */
  public abstract readonly missingStores: SessionStoreKind[];

  /**
   * @param stores what this strategy was given: its stores and keys
   */
  protected constructor(
    /** What this strategy was given: its stores and keys. */
    public readonly stores: SessionStores,
  ) {}

  /**
   * This strategy with `stores` in the places it was given nothing (its own
   * stores win); what `SessionTier` does with the stores it creates or is given.
   * A strategy that lacks none of them is returned as it is, keys and all.
   */
  public abstract withStores(stores: SessionStores): SessionStrategy;

  /**
   * Wires `fleet` to the store: opens the store's port to the fleet's security
   * group (and the fleet's egress to it), grants the reads the application
   * needs at boot, writes where to find the store into the application's
   * environment, and adds the boot steps (mount, certificate authorities).
   * Fails when the strategy needs a store it was not given, or one in another VPC.
   */
  public abstract bind(fleet: ISessionStrategyTarget): SessionStrategyBinding;

  /** The strategy's name. */
  public toString(): string {
    return this.name;
  }
}

/** How each strategy is made from what it is given. */
export type StrategyKinds = { readonly [N in SessionStrategyName]: (stores: SessionStores) => SessionStrategy };

let kinds: StrategyKinds | undefined;

/**
 * Gives the factories above the strategies' classes. The folder's index.ts
 * calls it: each class extends {@link SessionStrategy}, so this file cannot
 * import them (a cycle that bundlers and jest resolve in the wrong order).
 */
export function provideStrategyKinds(all: StrategyKinds): void {
  kinds = all;
}

function strategyOf(name: SessionStrategyName, stores: SessionStores): SessionStrategy {
  if (kinds === undefined) {
    throw new Error(`SessionStrategy.${name}(): the strategies are not loaded; import SessionStrategy from lib/session-strategy, not from its strategy.ts`);
  }
  return kinds[name](stores);
}

import { SessionTierValidationError } from './errors';
import { SESSION_STRATEGIES, SessionStrategyName } from './contract/app-env';

/**
 * Where the sample app keeps a user's session, and so what a fleet needs.
 *
 * | strategy | session lives in | survives losing the instance |
 * |---|---|---|
 * | `memory` | the instance's RAM; needs stickiness | no |
 * | `cookie` | the browser, sealed (encrypted and authenticated) under 4 KB | yes |
 * | `redis` | ElastiCache (Valkey or Redis OSS), Multi-AZ, TLS, AUTH | yes |
 * | `file` | EFS, one file per session, mounted on every instance | yes |
 * | `database` | RDS (primary writes, replica reads) with a write-through copy in ElastiCache | yes |
 */
export class SessionStrategy {
  /**
   * Sessions in the app process's memory. Cheapest, but a session lives only as
   * long as its instance, and only stickiness brings the user back to it.
   */
  public static memory(): SessionStrategy {
    return new SessionStrategy('memory', false);
  }

  /**
   * The whole session sealed in the cookie (encrypted and authenticated with a
   * key from Secrets Manager that every instance of both colors shares).
   * Survives any instance; limited to 4 KB and cannot be revoked server-side.
   */
  public static cookie(): SessionStrategy {
    return new SessionStrategy('cookie', true);
  }

  /**
   * Sessions in a Multi-AZ ElastiCache replication group (`RedisSessionCache`),
   * with a TTL on every key and optimistic concurrency. `SessionTier` creates
   * the cache (or uses yours) and opens it to exactly the fleets that use it.
   */
  public static redis(): SessionStrategy {
    return new SessionStrategy('redis', true);
  }

  /**
   * Sessions as files on EFS (`SessionFileSystem`), one per session, written
   * atomically with a version check. `SessionTier` creates the file system (or
   * uses yours) and mounts it on exactly the fleets that use it.
   */
  public static file(): SessionStrategy {
    return new SessionStrategy('file', true);
  }

  /**
   * Sessions in RDS (`SessionDatabase`, PostgreSQL or MySQL): writes to the
   * primary (or its proxy) with optimistic concurrency, reads from the read
   * replicas in turn, and a write-through copy in a `RedisSessionCache` so
   * most reads never reach the database. `SessionTier` creates both (or uses
   * yours) and opens them to exactly the fleets that use them.
   */
  public static database(): SessionStrategy {
    return new SessionStrategy('database', true);
  }

  /**
   * The strategy of the given name, as written in the demo app's context.
   * Fails for an unknown name.
   * @param name `memory`, `cookie`, `redis`, `file` or `database`
   * @param prop the prop or context key named in an error
   */
  public static fromName(name: string, prop = 'strategy'): SessionStrategy {
    if (!(SESSION_STRATEGIES as readonly string[]).includes(name)) {
      throw new SessionTierValidationError(
        `${prop}: unknown session strategy, got ${JSON.stringify(name)}; use one of ${SESSION_STRATEGIES.join(', ')}`,
      );
    }
    switch (name as SessionStrategyName) {
      case 'memory':
        return SessionStrategy.memory();
      case 'cookie':
        return SessionStrategy.cookie();
      case 'redis':
        return SessionStrategy.redis();
      case 'file':
        return SessionStrategy.file();
      case 'database':
        return SessionStrategy.database();
    }
  }

  private constructor(
    /** The strategy's name, as the app's `SESSION_STRATEGY` reads it. */
    public readonly name: SessionStrategyName,
    /** Whether a session outlives the instance that created it. */
    public readonly survivesInstanceLoss: boolean,
  ) {}

  /** The strategy's name. */
  public toString(): string {
    return this.name;
  }
}

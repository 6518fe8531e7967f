import { createClient } from '@redis/client';
import { CommandDeadline, RedisEndpoint, redisClientOptions, sessionScript } from '../redis-client';
import { Row } from './dialect';

/**
 * Saves a cache entry only when it is newer than the one there: KEYS[1] the
 * session's hash, ARGV[1] the version, ARGV[2] the JSON, ARGV[3] the TTL in
 * seconds. A writer that finishes late never puts an older version back.
 */
const PUT_IF_NEWER = `
local found = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if found >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;

const CACHE_SCRIPTS = {
  putIfNewer: sessionScript(PUT_IF_NEWER),
};

function cacheClient(endpoint: RedisEndpoint) {
  return createClient({ ...redisClientOptions(endpoint), scripts: CACHE_SCRIPTS });
}

/** Sessions whose cache entry may be out of date, remembered at most: about 100 bytes each. */
const UNSYNCED_MAX = 100_000;
/** How often the ids whose cache write failed are deleted from the cache again, while there are any. */
const RESYNC_MS = 1000;

/** Where the cache is, and the prefix of its keys. */
export interface CacheOptions extends RedisEndpoint {
  /** @default 'session-db:' */
  readonly keyPrefix?: string;
}

/** The write-through cache: latest version and JSON per session, with the session's TTL. */
export class CacheClient {
  private readonly redis: ReturnType<typeof cacheClient>;
  /** A cache that does not answer must not hold requests up for long. */
  private readonly deadline: CommandDeadline;
  private readonly prefix: string;
  /**
   * Sessions whose write or delete in the cache failed, each with the number
   * of its last failure. The cache may still hold an older version of them (a
   * node that fails over keeps its data) or a destroyed one, which other
   * instances would read as current; so once the cache answers again they are
   * deleted from it, and cost a miss instead.
   */
  private readonly unsynced = new Map<string, number>();
  private failures = 0;
  private resyncTimer?: NodeJS.Timeout;
  private resyncing = false;

  constructor(options: CacheOptions, timeoutMs: number) {
    // Its own key space: the redis strategy's keys (same cache, other fleet) count versions of their own.
    this.prefix = options.keyPrefix ?? 'session-db:';
    // A cache that is down must not hold requests up: commands fail at once (no offline queue) and the read goes to the database.
    this.redis = cacheClient(options);
    this.redis.on('error', () => undefined);
    // Back after an outage: clear what it missed before the timer would.
    this.redis.on('ready', () => void this.resync());
    // Connects, and drops a connection that leaves a command unanswered for 500 ms (or the store's timeout when shorter).
    this.deadline = new CommandDeadline(this.redis, Math.min(timeoutMs, 500));
  }

  public async get(id: string): Promise<Row | undefined> {
    const [version, json] = await this.deadline.run(this.redis.hmGet(this.prefix + id, ['v', 'd']));
    return version === null || json === null ? undefined : { version: Number(version), json };
  }

  public async put(id: string, row: Row, ttlSeconds: number): Promise<void> {
    await this.tracked(id, () => this.redis.putIfNewer(this.prefix + id, row.version, row.json, ttlSeconds));
  }

  public async remove(id: string): Promise<void> {
    await this.tracked(id, () => this.redis.unlink(this.prefix + id));
  }

  public async expire(id: string, ttlSeconds: number): Promise<void> {
    await this.deadline.run(this.redis.expire(this.prefix + id, ttlSeconds));
  }

  public close(): void {
    clearInterval(this.resyncTimer);
    this.deadline.close();
  }

  /**
   * Runs a write of one session's entry; when it fails, marks the session
   * unsynced. A later write that succeeds does not clear the mark: it may
   * carry an older version (a cache fill from a read that began before the
   * failed write), and the delete the mark brings costs only one miss.
   */
  private async tracked(id: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await this.deadline.run(write());
    } catch (e) {
      this.unsynced.delete(id);
      this.unsynced.set(id, ++this.failures);
      if (this.unsynced.size > UNSYNCED_MAX) {
        // The oldest failure goes: its entry may stay stale until its TTL, the price of bounded memory.
        this.unsynced.delete(this.unsynced.keys().next().value!);
      }
      if (!this.resyncTimer) {
        this.resyncTimer = setInterval(() => void this.resync(), RESYNC_MS);
        this.resyncTimer.unref();
      }
      throw e;
    }
  }

  /** Deletes the unsynced sessions' entries from the cache, in batches; stops the timer once none is left. */
  private async resync(): Promise<void> {
    if (this.resyncing || this.unsynced.size === 0) {
      return;
    }
    this.resyncing = true;
    try {
      const pending = [...this.unsynced];
      for (let i = 0; i < pending.length; i += 500) {
        const batch = pending.slice(i, i + 500);
        await this.deadline.run(this.redis.unlink(batch.map(([id]) => this.prefix + id)));
        for (const [id, failure] of batch) {
          // Unless it failed again meanwhile: that failure's write may have come after the delete.
          if (this.unsynced.get(id) === failure) {
            this.unsynced.delete(id);
          }
        }
      }
      if (this.unsynced.size === 0) {
        clearInterval(this.resyncTimer);
        this.resyncTimer = undefined;
      }
    } catch {
      // Still down: the timer tries again.
    } finally {
      this.resyncing = false;
    }
  }
}

import { createClient } from '@redis/client';
import { CommandDeadline, RedisEndpoint, redisClientOptions, sessionScript } from './redis-client';
import { SessionData, asSessionData } from './session';
import { SessionConflictError, SessionStore, StoreUnavailableError, StoredSession } from './store';

/** Where and how to reach Redis, and how long to wait for it. */
export interface RedisStoreOptions extends RedisEndpoint {
  /** Prefix of every key. @default 'session:' */
  readonly keyPrefix?: string;
  /** How long one command may wait for its answer before its request gets a 503 (cut off after this, a quarter more at most: see CommandDeadline). @default 1000 */
  readonly commandTimeoutMs?: number;
}

/**
 * Saves when the stored version is the one the request read, atomically on
 * the server: KEYS[1] the session's hash, ARGV[1] the expected version (0: must
 * not exist), ARGV[2] the JSON, ARGV[3] the TTL in seconds. Returns the new
 * version, or minus the version found when it did not match.
 */
const SAVE_IF_VERSION = `
local found = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if found ~= tonumber(ARGV[1]) then
  return -found
end
redis.call('HSET', KEYS[1], 'v', found + 1, 'd', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return found + 1
`;

const SCRIPTS = {
  saveIfVersion: sessionScript(SAVE_IF_VERSION),
};

function sessionClient(options: RedisStoreOptions) {
  return createClient({ ...redisClientOptions(options), scripts: SCRIPTS });
}

/**
 * Sessions in Redis (ElastiCache Valkey or Redis OSS): a hash per session with
 * the version and the JSON, a TTL on every key that each save and touch slides
 * on, and a compare-and-set on the version in one Lua script, so two requests
 * that write one session at once never lose an update.
 *
 * While Redis is unreachable, commands fail at once (no offline queue) with
 * {@link StoreUnavailableError}, which the app answers with a 503; the client
 * reconnects by itself, and the next request after Redis is back succeeds.
 */
export class RedisStore implements SessionStore {
  /** Connects and waits up to `readyTimeoutMs` for the server; starts anyway when it is down (requests get 503s until it is up). */
  public static async connect(options: RedisStoreOptions, readyTimeoutMs = 5000): Promise<RedisStore> {
    const store = new RedisStore(options);
    await store.ready(readyTimeoutMs);
    return store;
  }

  private readonly redis: ReturnType<typeof sessionClient>;
  private readonly deadline: CommandDeadline;
  private readonly prefix: string;
  /** The last connection error, for the 503's log line. */
  private lastError: Error | undefined;

  private constructor(options: RedisStoreOptions) {
    this.prefix = options.keyPrefix ?? 'session:';
    this.redis = sessionClient(options);
    this.redis.on('error', (e: Error) => {
      this.lastError = e;
    });
    // Connects; ready() waits for the first answer.
    this.deadline = new CommandDeadline(this.redis, options.commandTimeoutMs ?? 1000);
  }

  public async load(id: string): Promise<StoredSession | undefined> {
    const [version, json] = await this.call(this.redis.hmGet(this.key(id), ['v', 'd']));
    if (version === null || json === null) {
      return undefined;
    }
    const data = parse(json);
    return data ? { data, version: Number(version) } : undefined;
  }

  public async save(id: string, data: SessionData, expectedVersion: number, ttlSeconds: number): Promise<number> {
    const result = await this.call(this.redis.saveIfVersion(this.key(id), expectedVersion, JSON.stringify(data), ttlSeconds));
    if (result <= 0) {
      throw new SessionConflictError(id, expectedVersion, -result || undefined);
    }
    return result;
  }

  public async destroy(id: string): Promise<void> {
    await this.call(this.redis.unlink(this.key(id)));
  }

  public async touch(id: string, ttlSeconds: number): Promise<void> {
    await this.call(this.redis.expire(this.key(id), ttlSeconds));
  }

  /** Never: Redis removes a key the moment its TTL runs out (the browser drops the cookie at the same moment). */
  public async holdsExpired(): Promise<boolean> {
    return false;
  }

  public async close(): Promise<void> {
    this.deadline.close();
  }

  private key(id: string): string {
    return this.prefix + id;
  }

  /** Waits for a command; any failure but a script's answer becomes a 503. */
  private async call<T>(command: Promise<T>): Promise<T> {
    try {
      return await this.deadline.run(command);
    } catch (e) {
      const cause = e instanceof Error ? e : new Error(String(e));
      throw new StoreUnavailableError(`redis: ${cause.message}${this.lastError && this.lastError !== cause ? ` (last connection error: ${this.lastError.message})` : ''}`, { cause });
    }
  }

  private async ready(timeoutMs: number): Promise<void> {
    if (this.redis.isReady) {
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.redis.once('ready', done);
    });
  }
}

/** The session in a stored JSON string, or undefined when it is not one (counts as no session). */
function parse(json: string): SessionData | undefined {
  try {
    return asSessionData(JSON.parse(json));
  } catch {
    return undefined;
  }
}

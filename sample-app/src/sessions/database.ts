import { readFileSync } from 'fs';
import { createClient } from '@redis/client';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { CommandDeadline, RedisEndpoint, redisClientOptions, sessionScript } from './redis-client';
import { SessionData, asSessionData } from './session';
import { SessionConflictError, SessionStore, StoreUnavailableError, StoredSession } from './store';

/** One database server: the primary (or the proxy in front of it) or a read replica. */
export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
}

/** Where and how to reach the database, its replicas and the write-through cache. */
export interface DatabaseStoreOptions {
  /** `postgres`, or `mysql` for MySQL and MariaDB. */
  readonly engine: 'postgres' | 'mysql';
  /** Every write goes here. */
  readonly primary: DatabaseEndpoint;
  /** Reads go to these in turn; empty: to the primary. */
  readonly replicas: readonly DatabaseEndpoint[];
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  /** TLS, verifying the server against `caFile` (or the system's authorities). */
  readonly tls: boolean;
  readonly caFile?: string;
  /** The write-through cache; none: every read reaches the database. */
  readonly cache?: RedisEndpoint & { readonly keyPrefix?: string };
  /** Connections per pool (the primary's, and each replica's). @default 10 */
  readonly poolSize?: number;
  /** How long one query or connection attempt may take before it fails. @default 2000 */
  readonly timeoutMs?: number;
  /** Seconds between two sweeps of expired rows; 0: no sweeper. @default 60 */
  readonly sweepIntervalSeconds?: number;
  /** Rows one sweep statement deletes at most. @default 500 */
  readonly sweepBatchSize?: number;
}

/** Where the reads were answered from, since the store opened (for tests, the lab and the metrics). */
export interface DatabaseReadCounts {
  cache: number;
  replica: number;
  primary: number;
  /** Replica answers older than this process's last write of the session, read again elsewhere. */
  staleReplica: number;
  /** Replica or cache failures that fell back to the primary. */
  fallbacks: number;
}

/** A session row as read. */
interface Row {
  readonly version: number;
  readonly json: string;
  /** When it expires, in ms since the epoch (as the database holds it). */
  readonly expiresAt?: number;
}

/**
 * The SQL of one engine. Every statement takes parameters; no value is ever
 * written into SQL text. Expiry is an integer of milliseconds since the
 * epoch, so both engines compare it the same way, without time zones.
 */
interface Dialect {
  migrate(): Promise<void>;
  select(replica: number, id: string, now: number): Promise<Row | undefined>;
  /** Inserts version 1, or replaces an expired row (one version on); undefined when a live row exists. */
  insert(id: string, json: string, expiresAt: number, now: number): Promise<number | undefined>;
  /** Whether the live row at `expected` became `expected + 1`. */
  update(id: string, json: string, expected: number, expiresAt: number, now: number): Promise<boolean>;
  remove(id: string): Promise<void>;
  touch(id: string, expiresAt: number, now: number): Promise<void>;
  /** Deletes up to `limit` expired rows; returns how many. */
  sweep(now: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

const TABLE = 'sessions';

/**
 * Sessions in PostgreSQL or MySQL, with read replicas and a write-through
 * cache in Redis.
 *
 * - Writes go to the primary with optimistic concurrency: an UPDATE that
 *   matches only the version the request read, so two instances that write
 *   one session at once never lose an update (the loser gets a conflict and
 *   the manager retries).
 * - Every successful write also puts the new version in the cache, only if the
 *   cache holds an older one (a slow writer never overwrites a newer entry).
 * - A read tries the cache, then a replica (in turn), then the primary. A
 *   replica may lag: when this process wrote the session to version n, an
 *   answer older than n is stale and the read goes to the primary instead
 *   (read-your-writes). That memory is per process, which is enough: with
 *   stickiness the user comes back to this process, and a request that lands
 *   on another instance finds the latest version in the cache, which every
 *   write fills; if it still reads a stale row, its save conflicts, and the
 *   conflict itself raises the version this process expects, so the retry
 *   reads the primary.
 * - A replica or cache that fails is skipped (a replica for a few seconds);
 *   the primary failing is a {@link StoreUnavailableError} (503), and the
 *   pools reconnect by themselves. The sessions whose cache write failed are
 *   deleted from the cache once it is back, so it does not go on serving what
 *   it missed.
 */
export class DatabaseStore implements SessionStore {
  /** Connects, creates the table if missing, and starts the sweeper. */
  public static async open(options: DatabaseStoreOptions): Promise<DatabaseStore> {
    const store = new DatabaseStore(options);
    try {
      await store.primaryCall(() => store.dialect.migrate());
    } catch (e) {
      await store.close();
      throw e;
    }
    store.startSweeper();
    return store;
  }

  public readonly reads: DatabaseReadCounts = { cache: 0, replica: 0, primary: 0, staleReplica: 0, fallbacks: 0 };

  private readonly dialect: Dialect;
  /** Per replica, until when it is left alone after a failure. */
  private readonly replicaDownUntil: number[];
  private nextReplica = 0;
  private readonly cache?: CacheClient;
  /** The version this process last wrote (or knows exists) per session, with when; `DELETED` after a destroy. */
  private readonly written = new Map<string, { version: number; at: number }>();
  private sweeper?: NodeJS.Timeout;
  private sweeping = false;
  private readonly options: DatabaseStoreOptions;

  private constructor(options: DatabaseStoreOptions) {
    this.options = options;
    const ssl = options.tls
      ? { rejectUnauthorized: true, ca: options.caFile ? readFileSync(options.caFile, 'utf8') : undefined }
      : undefined;
    const settings = { ...options, ssl, poolSize: options.poolSize ?? 10, timeoutMs: options.timeoutMs ?? 2000 };
    this.dialect = options.engine === 'postgres' ? new Postgres(settings) : new MySql(settings);
    this.replicaDownUntil = options.replicas.map(() => 0);
    if (options.cache) {
      this.cache = new CacheClient(options.cache, settings.timeoutMs);
    }
  }

  public async load(id: string): Promise<StoredSession | undefined> {
    const known = this.knownVersion(id);
    // A session this process destroyed is read from the primary only: the cache or a replica may still hold it.
    if (known !== DELETED) {
      const cached = await this.cache?.get(id).catch(() => {
        this.reads.fallbacks++;
        return undefined;
      });
      const stored = cached && cached.version >= known ? toStored(cached) : undefined;
      if (stored) {
        this.reads.cache++;
        return stored;
      }
      const fromReplica = await this.readReplica(id, known);
      if (fromReplica !== STALE) {
        return toStored(fromReplica);
      }
    }
    this.reads.primary++;
    const row = await this.primaryCall(() => this.dialect.select(PRIMARY, id, Date.now()));
    if (row?.expiresAt) {
      // Only the primary's answers fill the cache: a lagging replica's could put an old version there.
      const ttlSeconds = Math.ceil((row.expiresAt - Date.now()) / 1000);
      if (ttlSeconds > 0) {
        void this.cache?.put(id, row, ttlSeconds).catch(() => undefined);
      }
    }
    return toStored(row);
  }

  public async save(id: string, data: SessionData, expectedVersion: number, ttlSeconds: number): Promise<number> {
    const json = JSON.stringify(data);
    const now = Date.now();
    const expiresAt = now + ttlSeconds * 1000;
    let version: number | undefined;
    if (expectedVersion === 0) {
      version = await this.primaryCall(() => this.dialect.insert(id, json, expiresAt, now));
    } else if (await this.primaryCall(() => this.dialect.update(id, json, expectedVersion, expiresAt, now))) {
      version = expectedVersion + 1;
    }
    if (version === undefined) {
      // Someone saved a newer version: from now on, read nothing older than the next one.
      this.remember(id, Math.max(this.knownVersion(id), expectedVersion + 1));
      throw new SessionConflictError(id, expectedVersion, undefined);
    }
    this.remember(id, version);
    await this.cache?.put(id, { version, json }, ttlSeconds).catch(() => {
      this.reads.fallbacks++;
    });
    return version;
  }

  public async destroy(id: string): Promise<void> {
    await this.primaryCall(() => this.dialect.remove(id));
    this.remember(id, DELETED);
    await this.cache?.remove(id).catch(() => {
      this.reads.fallbacks++;
    });
  }

  public async touch(id: string, ttlSeconds: number): Promise<void> {
    const now = Date.now();
    await this.primaryCall(() => this.dialect.touch(id, now + ttlSeconds * 1000, now));
    await this.cache?.expire(id, ttlSeconds).catch(() => undefined);
  }

  public async close(): Promise<void> {
    if (this.sweeper) {
      clearInterval(this.sweeper);
    }
    this.cache?.close();
    await this.dialect.close();
  }

  /** Deletes expired rows in batches until none is left or `maxBatches` ran; returns how many. */
  public async sweep(maxBatches = 20): Promise<number> {
    const limit = this.options.sweepBatchSize ?? 500;
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const deleted = await this.primaryCall(() => this.dialect.sweep(Date.now(), limit));
      total += deleted;
      if (deleted < limit) {
        break;
      }
      // Let requests in between two batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return total;
  }

  /** A replica's answer, or STALE when there is none to ask or its answer may be older than what this process wrote. */
  private async readReplica(id: string, known: number): Promise<Row | undefined | typeof STALE> {
    const count = this.replicaDownUntil.length;
    for (let tried = 0; tried < count; tried++) {
      const replica = this.nextReplica;
      this.nextReplica = (this.nextReplica + 1) % count;
      if (this.replicaDownUntil[replica] > Date.now()) {
        continue;
      }
      let row: Row | undefined;
      try {
        row = await this.dialect.select(replica, id, Date.now());
      } catch {
        // Skip it for a while rather than make every request wait for its timeout.
        this.replicaDownUntil[replica] = Date.now() + REPLICA_BACKOFF_MS;
        this.reads.fallbacks++;
        continue;
      }
      if (known > 0 && (row === undefined || row.version < known)) {
        this.reads.staleReplica++;
        return STALE;
      }
      this.reads.replica++;
      return row;
    }
    return STALE;
  }

  private knownVersion(id: string): number {
    const entry = this.written.get(id);
    if (!entry) {
      return 0;
    }
    if (Date.now() - entry.at > REMEMBER_MS) {
      this.written.delete(id);
      return 0;
    }
    return entry.version;
  }

  private remember(id: string, version: number): void {
    // Re-inserted at the end: the map's order is the age order, so the oldest go first when full.
    this.written.delete(id);
    this.written.set(id, { version, at: Date.now() });
    if (this.written.size > REMEMBER_MAX) {
      this.written.delete(this.written.keys().next().value!);
    }
  }

  private startSweeper(): void {
    const seconds = this.options.sweepIntervalSeconds ?? 60;
    if (seconds <= 0) {
      return;
    }
    this.sweeper = setInterval(() => {
      if (this.sweeping) {
        return;
      }
      this.sweeping = true;
      this.sweep().catch(() => undefined).finally(() => {
        this.sweeping = false;
      });
    }, seconds * 1000);
    this.sweeper.unref();
  }

  /** Runs a statement on the primary; a failure to reach it is a 503. */
  private async primaryCall<T>(statement: () => Promise<T>): Promise<T> {
    try {
      return await statement();
    } catch (e) {
      if (isConnectionError(e)) {
        throw new StoreUnavailableError(`${this.options.engine} primary: ${(e as Error).message}`, { cause: e });
      }
      throw e;
    }
  }
}

const PRIMARY = -1;
const STALE = Symbol('stale');
/** A destroyed session: read it from the primary only (a replica may still hold it). */
const DELETED = Number.MAX_SAFE_INTEGER;
/** How long a replica that failed is left alone. */
const REPLICA_BACKOFF_MS = 5000;
/** How long this process remembers what it wrote: far longer than any replica lag we would read through (alarmed at 30 s). */
const REMEMBER_MS = 10 * 60 * 1000;
/** Most sessions remembered, about 100 bytes each. */
const REMEMBER_MAX = 100_000;

function toStored(row: Row | undefined): StoredSession | undefined {
  if (!row) {
    return undefined;
  }
  try {
    const data = asSessionData(JSON.parse(row.json));
    return data ? { data, version: row.version } : undefined;
  } catch {
    return undefined;
  }
}

/** Errors that mean "cannot reach or use the server", as opposed to a bug in a statement. */
function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) {
    return false;
  }
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Node's socket errors, PostgreSQL's class 08 (connection) and 57P (shutdown), MySQL's lost-connection family.
    if (/^(E[A-Z]+|08...|57P0\d|PROTOCOL_CONNECTION_LOST|ER_CON_COUNT_ERROR|ER_SERVER_SHUTDOWN|ETIMEDOUT)$/.test(code)) {
      return true;
    }
  }
  // The last: mysql2's pool when that many requests already wait for a connection (an overloaded primary).
  return /timeout|terminat|connect|closed|ECONNREFUSED|queue limit/i.test(e.message);
}

interface ConnectionSettings extends DatabaseStoreOptions {
  readonly ssl?: { rejectUnauthorized: boolean; ca?: string };
  readonly poolSize: number;
  readonly timeoutMs: number;
}

class Postgres implements Dialect {
  private readonly primary: pg.Pool;
  private readonly replicas: pg.Pool[];

  constructor(settings: ConnectionSettings) {
    const pool = (endpoint: DatabaseEndpoint) => {
      const p = new pg.Pool({
        host: endpoint.host,
        port: endpoint.port,
        database: settings.database,
        user: settings.user,
        password: settings.password,
        ssl: settings.ssl,
        max: settings.poolSize,
        connectionTimeoutMillis: settings.timeoutMs,
        query_timeout: settings.timeoutMs,
        idleTimeoutMillis: 30_000,
      });
      // An idle client whose server went away emits here; without a listener the process would exit.
      p.on('error', () => undefined);
      return p;
    };
    this.primary = pool(settings.primary);
    this.replicas = settings.replicas.map(pool);
  }

  public async migrate(): Promise<void> {
    const client = await this.primary.connect();
    try {
      await client.query('BEGIN');
      // Instances that start together would race on CREATE TABLE IF NOT EXISTS; one at a time.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${TABLE} migration`]);
      await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
        id varchar(22) PRIMARY KEY,
        version bigint NOT NULL,
        data text NOT NULL,
        expires_at bigint NOT NULL
      )`);
      await client.query(`CREATE INDEX IF NOT EXISTS ${TABLE}_expires_at ON ${TABLE} (expires_at)`);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  public async select(replica: number, id: string, now: number): Promise<Row | undefined> {
    const pool = replica === PRIMARY ? this.primary : this.replicas[replica];
    const result = await pool.query<{ version: string; data: string; expires_at: string }>(
      `SELECT version, data, expires_at FROM ${TABLE} WHERE id = $1 AND expires_at > $2`, [id, now]);
    const row = result.rows[0];
    return row ? { version: Number(row.version), json: row.data, expiresAt: Number(row.expires_at) } : undefined;
  }

  public async insert(id: string, json: string, expiresAt: number, now: number): Promise<number | undefined> {
    // A row that expired but was not swept yet counts as absent; its version carries on, so no cache or
    // process can mistake the new session for the old one.
    const result = await this.primary.query<{ version: string }>(
      `INSERT INTO ${TABLE} (id, version, data, expires_at) VALUES ($1, 1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET version = ${TABLE}.version + 1, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at
       WHERE ${TABLE}.expires_at <= $4
       RETURNING version`, [id, json, expiresAt, now]);
    return result.rows[0] ? Number(result.rows[0].version) : undefined;
  }

  public async update(id: string, json: string, expected: number, expiresAt: number, now: number): Promise<boolean> {
    const result = await this.primary.query(
      `UPDATE ${TABLE} SET version = version + 1, data = $1, expires_at = $2 WHERE id = $3 AND version = $4 AND expires_at > $5`,
      [json, expiresAt, id, expected, now]);
    return result.rowCount === 1;
  }

  public async remove(id: string): Promise<void> {
    await this.primary.query(`DELETE FROM ${TABLE} WHERE id = $1`, [id]);
  }

  public async touch(id: string, expiresAt: number, now: number): Promise<void> {
    await this.primary.query(`UPDATE ${TABLE} SET expires_at = $1 WHERE id = $2 AND expires_at > $3`, [expiresAt, id, now]);
  }

  public async sweep(now: number, limit: number): Promise<number> {
    const result = await this.primary.query(
      // The outer test again: a row that a new session replaced after the subquery picked it is re-checked
      // at its new version (and kept), where the id match alone would delete it.
      `DELETE FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2) AND expires_at <= $1`, [now, limit]);
    return result.rowCount ?? 0;
  }

  public async close(): Promise<void> {
    await Promise.all([this.primary, ...this.replicas].map((p) => p.end().catch(() => undefined)));
  }
}

class MySql implements Dialect {
  private readonly primary: mysql.Pool;
  private readonly replicas: mysql.Pool[];
  private readonly timeoutMs: number;

  constructor(settings: ConnectionSettings) {
    const pool = (endpoint: DatabaseEndpoint) => mysql.createPool({
      host: endpoint.host,
      port: endpoint.port,
      database: settings.database,
      user: settings.user,
      password: settings.password,
      ssl: settings.ssl,
      connectionLimit: settings.poolSize,
      connectTimeout: settings.timeoutMs,
      // Requests wait for a connection, but a bounded number: beyond it they fail (503) at once.
      waitForConnections: true,
      queueLimit: 1000,
      enableKeepAlive: true,
      // Affected rows count rows changed, not rows found: an upsert that changed nothing reports 0.
      flags: ['-FOUND_ROWS'],
    });
    this.timeoutMs = settings.timeoutMs;
    this.primary = pool(settings.primary);
    this.replicas = settings.replicas.map(pool);
  }

  public async migrate(): Promise<void> {
    // One statement: MySQL takes a metadata lock, so instances that start together do not race.
    await this.primary.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
      id varchar(22) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY,
      version bigint NOT NULL,
      data text NOT NULL,
      expires_at bigint NOT NULL,
      KEY ${TABLE}_expires_at (expires_at)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  }

  public async select(replica: number, id: string, now: number): Promise<Row | undefined> {
    const pool = replica === PRIMARY ? this.primary : this.replicas[replica];
    const [rows] = await pool.query<mysql.RowDataPacket[]>(
      { sql: `SELECT version, data, expires_at FROM ${TABLE} WHERE id = ? AND expires_at > ?`, timeout: this.timeoutMs }, [id, now]);
    const row = rows[0];
    return row ? { version: Number(row.version), json: String(row.data), expiresAt: Number(row.expires_at) } : undefined;
  }

  public async insert(id: string, json: string, expiresAt: number, now: number): Promise<number | undefined> {
    // One statement, no explicit transaction: a SELECT ... FOR UPDATE of an absent row takes gap locks,
    // and concurrent inserts of different ids then deadlock. MySQL applies these assignments left to
    // right, so each test of expires_at reads the old value until the last one changes it; an expired
    // row is replaced one version on, and LAST_INSERT_ID(expr) hands that version back.
    const [result] = await this.primary.query<mysql.ResultSetHeader>({
      sql: `INSERT INTO ${TABLE} (id, version, data, expires_at) VALUES (?, 1, ?, ?)
        ON DUPLICATE KEY UPDATE
          data = IF(expires_at <= ?, ?, data),
          version = LAST_INSERT_ID(IF(expires_at <= ?, version + 1, version)),
          expires_at = IF(expires_at <= ?, ?, expires_at)`,
      timeout: this.timeoutMs,
    }, [id, json, expiresAt, now, json, now, now, expiresAt]);
    switch (result.affectedRows) {
      case 1:
        return 1;
      case 2:
        return Number(result.insertId);
      default:
        return undefined;
    }
  }

  public async update(id: string, json: string, expected: number, expiresAt: number, now: number): Promise<boolean> {
    const [result] = await this.primary.query<mysql.ResultSetHeader>(
      { sql: `UPDATE ${TABLE} SET version = version + 1, data = ?, expires_at = ? WHERE id = ? AND version = ? AND expires_at > ?`, timeout: this.timeoutMs },
      [json, expiresAt, id, expected, now]);
    return result.affectedRows === 1;
  }

  public async remove(id: string): Promise<void> {
    await this.primary.query({ sql: `DELETE FROM ${TABLE} WHERE id = ?`, timeout: this.timeoutMs }, [id]);
  }

  public async touch(id: string, expiresAt: number, now: number): Promise<void> {
    await this.primary.query({ sql: `UPDATE ${TABLE} SET expires_at = ? WHERE id = ? AND expires_at > ?`, timeout: this.timeoutMs }, [expiresAt, id, now]);
  }

  public async sweep(now: number, limit: number): Promise<number> {
    const [result] = await this.primary.query<mysql.ResultSetHeader>(
      { sql: `DELETE FROM ${TABLE} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`, timeout: this.timeoutMs }, [now, limit]);
    return result.affectedRows;
  }

  public async close(): Promise<void> {
    await Promise.all([this.primary, ...this.replicas].map((p) => p.end().catch(() => undefined)));
  }
}

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

/** The write-through cache: latest version and JSON per session, with the session's TTL. */
class CacheClient {
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

  constructor(options: NonNullable<DatabaseStoreOptions['cache']>, timeoutMs: number) {
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

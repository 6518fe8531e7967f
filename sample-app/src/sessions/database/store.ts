import { readFileSync } from 'fs';
import { SessionData, asSessionData } from '../session';
import { LoadOptions, SessionConflictError, SessionStore, StoreUnavailableError, StoredSession } from '../store';
import { CacheClient, CacheOptions } from './cache';
import { DatabaseEndpoint, Dialect, PRIMARY, Row, isConnectionError } from './dialect';
import { MySql } from './mysql';
import { Postgres } from './postgres';

export type { DatabaseEndpoint } from './dialect';

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
  readonly cache?: CacheOptions;
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
  /** Issued ids (their MAC verified) that a replica did not know, read again from the primary. */
  absentOnReplica: number;
  /** Replica or cache failures that fell back to the primary. */
  fallbacks: number;
}

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
 *   reads the primary. A replica that does not know an id another instance
 *   issued (its MAC verified) may not have replayed its creation yet: that
 *   read goes to the primary too, before the session counts as absent.
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

  public readonly reads: DatabaseReadCounts = { cache: 0, replica: 0, primary: 0, staleReplica: 0, absentOnReplica: 0, fallbacks: 0 };

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

  public async load(id: string, options: LoadOptions = {}): Promise<StoredSession | undefined> {
    const known = this.knownVersion(id);
    // A session this process destroyed is read from the primary only: the cache or a replica may still hold it.
    if (known !== DELETED && !options.latest) {
      const cached = await this.cache?.get(id).catch(() => {
        this.reads.fallbacks++;
        return undefined;
      });
      const stored = cached && cached.version >= known ? toStored(cached) : undefined;
      if (stored) {
        this.reads.cache++;
        return stored;
      }
      const fromReplica = await this.readReplica(id, known, options.issued === true);
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

  /** Asks the primary: a replica or the cache may lag behind a save that pushed the expiry out. */
  public async holdsExpired(id: string): Promise<boolean> {
    // `now` 0: the row whatever its expiry.
    const row = await this.primaryCall(() => this.dialect.select(PRIMARY, id, 0));
    return row?.expiresAt !== undefined && row.expiresAt <= Date.now();
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

  /**
   * A replica's answer, or STALE when there is none to ask, its answer may be
   * older than what this process wrote, or it does not know an `issued` id.
   */
  private async readReplica(id: string, known: number, issued: boolean): Promise<Row | undefined | typeof STALE> {
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
      if (row === undefined && issued) {
        // A session another instance created a moment ago that this replica has not replayed yet.
        this.reads.absentOnReplica++;
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

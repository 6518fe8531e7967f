import { SessionData } from './session';
import { SessionConflictError, SessionStore, StoredSession } from './store';

interface Entry {
  readonly json: string;
  readonly version: number;
  expiresAt: number;
}

/**
 * Sessions in this process's memory. Lost with the process; only load-balancer
 * stickiness brings a user back to it. Bounded: past `maxSessions` the entry
 * closest to expiry goes first.
 */
export class MemoryStore implements SessionStore {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly maxSessions = 100_000, private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  public async load(id: string): Promise<StoredSession | undefined> {
    const entry = this.live(id);
    return entry ? { data: JSON.parse(entry.json) as SessionData, version: entry.version } : undefined;
  }

  public async save(id: string, data: SessionData, expectedVersion: number, ttlSeconds: number): Promise<number> {
    const found = this.live(id)?.version ?? 0;
    if (found !== expectedVersion) {
      throw new SessionConflictError(id, expectedVersion, found || undefined);
    }
    if (found === 0 && this.entries.size >= this.maxSessions) {
      this.sweep();
      this.evictOne();
    }
    this.entries.set(id, { json: JSON.stringify(data), version: found + 1, expiresAt: this.now() + ttlSeconds * 1000 });
    return found + 1;
  }

  public async destroy(id: string): Promise<void> {
    this.entries.delete(id);
  }

  public async touch(id: string, ttlSeconds: number): Promise<void> {
    const entry = this.live(id);
    if (entry) {
      entry.expiresAt = this.now() + ttlSeconds * 1000;
    }
  }

  public async holdsExpired(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.expiresAt <= this.now();
  }

  public async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** How many sessions are held (for tests and /metrics). */
  public get size(): number {
    return this.entries.size;
  }

  /** The entry unless it expired; an expired one stays until the sweep or a save replaces it, so that holdsExpired can tell. */
  private live(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    return entry && entry.expiresAt > this.now() ? entry : undefined;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(id);
      }
    }
  }

  private evictOne(): void {
    let oldest: string | undefined;
    let oldestAt = Infinity;
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt < oldestAt) {
        oldest = id;
        oldestAt = entry.expiresAt;
      }
    }
    if (oldest !== undefined) {
      this.entries.delete(oldest);
    }
  }
}

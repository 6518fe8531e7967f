import { SessionData } from './session';

/** A session as a store holds it: the data and the version it was saved as. */
export interface StoredSession {
  readonly data: SessionData;
  /** 1 after the first save, one more after each. */
  readonly version: number;
}

/** How current a load must be, and what the caller knows of the id. */
export interface LoadOptions {
  /**
   * Read where the writes go (the database's primary), not a copy that may
   * lag (a replica, the cache): for a decision that must not rest on an old
   * version, such as refusing a change. Stores without copies ignore it.
   * @default false
   */
  readonly latest?: boolean;
  /**
   * The id carries a MAC that verified: this fleet issued it, so a copy that
   * does not know it may only be behind, and a store with lagging copies
   * confirms the absence where the writes go. Forged ids never get here, so
   * they cost no such read.
   * @default false
   */
  readonly issued?: boolean;
}

/**
 * The one interface every server-side store implements (memory, redis, file,
 * database). Small on purpose: load, save with the version it read, destroy,
 * touch, all with a TTL.
 */
export interface SessionStore {
  /** The session, or undefined when absent or expired. The data is a fresh copy the caller may change. */
  load(id: string, options?: LoadOptions): Promise<StoredSession | undefined>;
  /**
   * Saves if the stored version still equals `expectedVersion` (0: the
   * session must not exist yet) and returns the new version.
   * @throws SessionConflictError when someone saved in between
   */
  save(id: string, data: SessionData, expectedVersion: number, ttlSeconds: number): Promise<number>;
  /** Removes the session; absent is fine. */
  destroy(id: string): Promise<void>;
  /** Pushes the expiry out by `ttlSeconds` without changing the data. */
  touch(id: string, ttlSeconds: number): Promise<void>;
  /**
   * Whether the store still holds the session past its expiry (not yet swept),
   * where the writes go: asked when a session the fleet issued is not there,
   * to tell an expired session from a lost one. False for a store that drops a
   * session when it expires (Redis), and for one that never had it.
   */
  holdsExpired(id: string): Promise<boolean>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}

/** Another request saved the session since this one loaded it. */
export class SessionConflictError extends Error {
  constructor(id: string, expected: number, found: number | undefined) {
    super(`session ${id.slice(0, 6)}…: expected version ${expected}, found ${found ?? 'none'}`);
    this.name = 'SessionConflictError';
  }
}

/** The store cannot be reached; the app answers 503 and keeps serving what does not need it. */
export class StoreUnavailableError extends Error {
  public readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

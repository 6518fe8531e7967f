import { SessionData } from './session';

/** A session as a store holds it: the data and the version it was saved as. */
export interface StoredSession {
  readonly data: SessionData;
  /** 1 after the first save, one more after each. */
  readonly version: number;
}

/**
 * The one interface every server-side store implements (memory, redis, file,
 * database). Small on purpose: load, save with the version it read, destroy,
 * touch, all with a TTL.
 */
export interface SessionStore {
  /** The session, or undefined when absent or expired. The data is a fresh copy the caller may change. */
  load(id: string): Promise<StoredSession | undefined>;
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

import { randomBytes } from 'crypto';
import { constants } from 'fs';
import { access, mkdir, open, opendir, rename, rm, stat, utimes, writeFile } from 'fs/promises';
import { join } from 'path';
import { setImmediate as yieldToRequests } from 'timers/promises';
import { SessionData, asSessionData, isValidSessionId } from './session';
import { FsDeadline } from './fs-deadline';
import { SESSION_ID_SOURCE } from './session-id';
import { SessionConflictError, SessionStore, StoreUnavailableError, StoredSession } from './store';

/** The deadline on one filesystem call when `callTimeoutMs` is not given. */
export const DEFAULT_CALL_TIMEOUT_MS = 2_000;

/** A session's file (`<id>.json`) or a temporary file of one being written (`<id>.<12 hex>.tmp`). */
const SESSION_FILE = new RegExp(`^(${SESSION_ID_SOURCE})(\\.json|\\.[0-9a-f]{12}\\.tmp)$`);

/** Tuning of the file store; the defaults suit EFS. */
export interface FileStoreOptions {
  /** How often expired files are swept. @default 60_000 */
  readonly sweepIntervalMs?: number;
  /** A lock file older than this was left by a crashed writer and is broken. @default 10_000 */
  readonly staleLockMs?: number;
  /** How long a writer waits for another's lock before the request gets a 503. @default 3_000 */
  readonly lockWaitMs?: number;
  /**
   * How long one filesystem call may take before its request gets a 503: a
   * call that takes longer means the directory hangs (see FsDeadline).
   * @default 2_000
   */
  readonly callTimeoutMs?: number;
}

/** What a session file holds; its expiry is the file's modification time. */
interface SessionFile {
  readonly v: number;
  readonly d: SessionData;
}

/**
 * Sessions as files in one directory (an EFS mount on AWS, shared by every
 * instance): `<id>.json` per session, holding the version and the data, with
 * the expiry as the file's modification time so that touching a session is
 * one `utimes` and the sweeper needs only `stat`.
 *
 * A save takes the session's lock (`<id>.lock`, created with O_EXCL, which
 * NFSv4.1 makes atomic across clients), checks the version, writes a
 * temporary file and renames it over the old one: readers see the old file or
 * the new one, never a torn one, and no update is lost. The id is checked
 * against the exact shape of the ids the app issues before it becomes part of
 * a path.
 */
export class FileStore implements SessionStore {
  /** Creates the directory if needed, checks it is writable, and starts the sweeper. */
  public static async open(dir: string, options: FileStoreOptions = {}): Promise<FileStore> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await access(dir, constants.R_OK | constants.W_OK);
    } catch (e) {
      throw new Error(`file store: cannot use ${dir}: ${(e as Error).message}`);
    }
    return new FileStore(dir, options);
  }

  private readonly staleLockMs: number;
  private readonly lockWaitMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private sweeping: Promise<number> | undefined;
  private readonly fs: FsDeadline;

  private constructor(private readonly dir: string, options: FileStoreOptions) {
    this.staleLockMs = options.staleLockMs ?? 10_000;
    this.lockWaitMs = options.lockWaitMs ?? 3_000;
    this.fs = new FsDeadline('file', options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
  }

  public async load(id: string): Promise<StoredSession | undefined> {
    const file = await this.read(id);
    return file && { data: file.d, version: file.v };
  }

  public async save(id: string, data: SessionData, expectedVersion: number, ttlSeconds: number): Promise<number> {
    return this.locked(id, async () => {
      const found = (await this.read(id))?.v ?? 0;
      if (found !== expectedVersion) {
        throw new SessionConflictError(id, expectedVersion, found || undefined);
      }
      const version = found + 1;
      const temp = join(this.dir, `${id}.${randomBytes(6).toString('hex')}.tmp`);
      try {
        const handle = await this.fs.run(() => open(temp, 'wx', 0o600), { dispose: (late) => late.close().then(() => rm(temp, { force: true })) });
        try {
          await this.fs.run(() => handle.writeFile(JSON.stringify({ v: version, d: data } satisfies SessionFile)));
          await this.fs.run(() => handle.sync());
        } finally {
          await this.fs.run(() => handle.close(), { cleanup: true });
        }
        await this.setExpiry(temp, ttlSeconds);
        await this.fs.run(() => rename(temp, this.path(id)));
      } catch (e) {
        await this.fs.run(() => rm(temp, { force: true }), { cleanup: true }).catch(() => undefined);
        throw unavailable(e);
      }
      return version;
    });
  }

  public async destroy(id: string): Promise<void> {
    await this.locked(id, () => this.fs.run(() => rm(this.path(id), { force: true })).catch((e) => Promise.reject(unavailable(e))));
  }

  public async touch(id: string, ttlSeconds: number): Promise<void> {
    await this.locked(id, async () => {
      // An expired session stays expired: only a live one is pushed out.
      if (await this.read(id)) {
        await this.setExpiry(this.path(id), ttlSeconds).catch((e) => Promise.reject(unavailable(e)));
      }
    });
  }

  public async holdsExpired(id: string): Promise<boolean> {
    const stats = await this.fs.run(() => stat(this.path(id))).catch((e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw unavailable(e);
    });
    return stats !== undefined && stats.mtimeMs <= Date.now();
  }

  public async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.sweeping;
  }

  /**
   * Removes expired session files, and temporary files left by a crashed
   * writer, a few at a time so that requests keep being served. Runs on a
   * timer; returns how many sessions it removed.
   */
  public sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let removed = 0;
    let seen = 0;
    const dir = await this.fs.run(() => opendir(this.dir), { dispose: (late) => late.close() });
    try {
      for (let entry = await this.fs.run(() => dir.read()); entry !== null; entry = await this.fs.run(() => dir.read())) {
        if (++seen % 100 === 0) {
          await yieldToRequests();
        }
        removed += await this.sweepEntry(entry.name);
      }
    } finally {
      await this.fs.run(() => dir.close(), { cleanup: true }).catch(() => undefined);
    }
    return removed;
  }

  /** Removes one directory entry if it is an expired session or an abandoned temporary file; returns 1 for a session removed. */
  private async sweepEntry(name: string): Promise<number> {
    const match = SESSION_FILE.exec(name);
    if (!match) {
      return 0;
    }
    const path = join(this.dir, name);
    const stats = await this.fs.run(() => stat(path)).catch(() => undefined);
    if (!stats) {
      return 0;
    }
    if (match[2] !== '.json') {
      // A temporary file a minute old (by its change time: utimes moves the modification time) lost its writer.
      if (stats.ctimeMs < Date.now() - 60_000) {
        await this.fs.run(() => rm(path, { force: true }));
      }
      return 0;
    }
    let removed = 0;
    if (stats.mtimeMs <= Date.now()) {
      // Under the lock, so that a save renaming a fresh file in is never swept away.
      await this.locked(match[1], async () => {
        const again = await this.fs.run(() => stat(path)).catch(() => undefined);
        if (again && again.mtimeMs <= Date.now()) {
          await this.fs.run(() => rm(path, { force: true }));
          removed = 1;
        }
      }).catch(() => undefined);
    }
    return removed;
  }

  /** The session's file, or undefined when absent, expired or not a session. */
  private async read(id: string): Promise<SessionFile | undefined> {
    let handle;
    try {
      handle = await this.fs.run(() => open(this.path(id), 'r'), { dispose: (late) => late.close() });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        return undefined;
      }
      throw unavailable(e);
    }
    try {
      // One handle for both: the stat and the content belong to the same file even if a save renames another over it.
      const stats = await this.fs.run(() => handle.stat());
      if (stats.mtimeMs <= Date.now()) {
        return undefined;
      }
      const parsed = JSON.parse(await this.fs.run(() => handle.readFile('utf8'))) as Partial<SessionFile>;
      const data = asSessionData(parsed.d);
      return data && Number.isSafeInteger(parsed.v) && parsed.v! > 0 ? { v: parsed.v!, d: data } : undefined;
    } catch (e) {
      if (e instanceof SyntaxError) {
        return undefined;
      }
      throw unavailable(e);
    } finally {
      await this.fs.run(() => handle.close(), { cleanup: true }).catch(() => undefined);
    }
  }

  private path(id: string): string {
    if (!isValidSessionId(id)) {
      // The manager never passes such an id; this guards the path all the same.
      throw new Error(`file store: refusing a session id that is not ours: ${JSON.stringify(String(id).slice(0, 40))}`);
    }
    return join(this.dir, `${id}.json`);
  }

  private setExpiry(path: string, ttlSeconds: number): Promise<void> {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    return this.fs.run(() => utimes(path, expiresAt, expiresAt));
  }

  /** Runs `fn` holding the session's lock file; breaks a lock older than `staleLockMs`. */
  private async locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const lock = `${this.path(id).slice(0, -'.json'.length)}.lock`;
    const deadline = Date.now() + this.lockWaitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        // A lock taken after its deadline is no one's: it goes at once.
        await this.fs.run(() => writeFile(lock, String(process.pid), { flag: 'wx', mode: 0o600 }), { dispose: () => rm(lock, { force: true }) });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw unavailable(e);
        }
      }
      const held = await this.fs.run(() => stat(lock)).catch((e: unknown) => {
        if (e instanceof StoreUnavailableError) {
          throw e;
        }
        return undefined; // released meanwhile
      });
      if (held && held.mtimeMs < Date.now() - this.staleLockMs) {
        await this.fs.run(() => rm(lock, { force: true }));
        continue;
      }
      if (Date.now() > deadline) {
        throw new StoreUnavailableError(`file: session ${id.slice(0, 6)}… has been locked for more than ${this.lockWaitMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 ** attempt, 20)));
    }
    try {
      return await fn();
    } finally {
      await this.fs.run(() => rm(lock, { force: true }), { cleanup: true }).catch(() => undefined);
    }
  }
}

/** A filesystem failure as the app reports it: a 503, the store is unusable for now. */
function unavailable(e: unknown): Error {
  if (e instanceof SessionConflictError || e instanceof StoreUnavailableError) {
    return e;
  }
  return new StoreUnavailableError(`file: ${(e as Error).message}`, { cause: e });
}

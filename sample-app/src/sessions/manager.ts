import type { FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from '../metrics';
import { Sealer } from './seal';
import { LIMITS, SessionData, SessionTooLargeError, asSessionData, newSessionData, serializeSession } from './session';
import { SessionIds } from './session-id';
import { SessionConflictError, SessionStore, StoredSession } from './store';

/** Changes a session in place. May throw to refuse the change (nothing is saved then). */
export type Mutation = (data: SessionData) => void;

/** How routes reach the session, whatever the strategy. */
export interface SessionManager {
  /**
   * Loads the request's session (or starts one), applies `mutate`, saves, and
   * sets the cookie. With `regenerate`, the session moves to a new id and the
   * old one is destroyed (log in, log out).
   */
  use(req: FastifyRequest, reply: FastifyReply, mutate: Mutation, options?: { regenerate?: boolean }): Promise<SessionData>;
  /** Releases the store. */
  close(): Promise<void>;
}

/** Cookie settings shared by both managers. */
export interface CookieSettings {
  readonly name: string;
  readonly secure: boolean;
  readonly ttlSeconds: number;
}

/** Session ids and sealed tokens: URL-safe by construction, so they need no encoding in a cookie. */
const URL_SAFE = /^[A-Za-z0-9._-]+$/;

/**
 * Reads and writes the session cookie with the cookie library that
 * @fastify/cookie decorates the server with, without the plugin's hooks on
 * every request (it is registered with `hook: false`): the app has one
 * cookie, so parsing every cookie and serializing per reply is work for
 * nothing. The attributes never change, so Set-Cookie is the value plus a
 * suffix the library serialized once.
 */
class SessionCookie {
  private suffix: string | undefined;

  constructor(private readonly settings: CookieSettings, private readonly metrics: Metrics) {}

  /** The raw cookie value, or undefined when absent or too long to consider. */
  public read(req: FastifyRequest): string | undefined {
    const header = req.headers.cookie;
    const value = header === undefined ? undefined : req.server.parseCookie(header)[this.settings.name];
    if (value === undefined || value === '') {
      return undefined;
    }
    if (value.length > LIMITS.cookieBytes) {
      this.metrics.rejected++;
      return undefined;
    }
    return value;
  }

  /** The Set-Cookie header that stores `value`. */
  public header(reply: FastifyReply, value: string): string {
    if (!URL_SAFE.test(value)) {
      throw new Error('session cookie: the value must be URL-safe (an id or a sealed token)');
    }
    const { name, secure, ttlSeconds } = this.settings;
    this.suffix ??= reply.server.serializeCookie(name, '-', { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: ttlSeconds }).slice(name.length + 2);
    return `${name}=${value}${this.suffix}`;
  }
}

/** Counts a saved session: its size, and its age when it existed before this request. */
function countSave(metrics: Metrics, json: string, before: SessionData | undefined, now: number): void {
  metrics.saved++;
  metrics.recordSize(Buffer.byteLength(json));
  if (before) {
    metrics.recordAge(Math.max(0, (now - before.createdAt) / 1000));
  } else {
    metrics.created++;
  }
}

/** Conflicts are retried this many times before the request gets a 409. */
const MAX_ATTEMPTS = 25;

/**
 * The sessions this process saved last, as saved: a sticky user's next
 * request starts from this copy instead of a load from the store. The copy
 * may be stale (another instance saved since, or the session was destroyed or
 * expired there); the save's version check then fails and the request loads
 * from the store, so a stale copy costs one failed save, never an update.
 * Bounded: past `capacity`, the session saved longest ago goes.
 */
class RecentSaves {
  private readonly entries = new Map<string, { readonly json: string; readonly version: number; readonly expiresAt: number }>();

  constructor(private readonly capacity: number) {}

  /** A fresh copy of the session as this process last saved it, unless that copy has expired. */
  public get(id: string, now: number): StoredSession | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.expiresAt <= now) {
      return undefined;
    }
    return { data: JSON.parse(entry.json) as SessionData, version: entry.version };
  }

  public set(id: string, json: string, version: number, expiresAt: number): void {
    if (this.capacity === 0) {
      return;
    }
    this.entries.delete(id);
    this.entries.set(id, { json, version, expiresAt });
    if (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
  }

  public delete(id: string): void {
    this.entries.delete(id);
  }
}

/**
 * The sessions whose absence this process has accounted for, by id (or a
 * sealed token's key id and nonce): it destroyed them (a log-in or log-out
 * moved the session to a new id) or it counted them lost or expired. A
 * request that still carries one (sent before the browser took the new
 * cookie, or replayed) is not counted again. Bounded: past
 * `capacity`, the one accounted for longest ago goes. The order is kept in a
 * ring rather than read from the set: V8 leaves a deleted entry's slot at the
 * front of a Set until it rehashes, so taking the first of a set that is
 * emptied from the front costs a walk over those slots (about 20 µs at 10,000).
 */
class Accounted {
  private readonly keys = new Set<string>();
  private readonly order: (string | undefined)[];
  private next = 0;

  constructor(capacity = 10_000) {
    this.order = new Array<string | undefined>(capacity);
  }

  /** Whether `key` was accounted for already; records it if not. */
  public check(key: string): boolean {
    if (this.keys.has(key)) {
      return true;
    }
    this.add(key);
    return false;
  }

  public add(key: string): void {
    if (this.keys.has(key)) {
      return;
    }
    const oldest = this.order[this.next];
    if (oldest !== undefined) {
      this.keys.delete(oldest);
    }
    this.order[this.next] = key;
    this.next = (this.next + 1) % this.order.length;
    this.keys.add(key);
  }
}

/** Options of {@link ServerSideSessions}. */
export interface ServerSideOptions {
  /**
   * How many sessions this process remembers as it last saved them, so that
   * a sticky user's next request needs no load (see {@link RecentSaves}).
   * 0 for a store in this process's memory, which gains nothing from it.
   * @default 10000
   */
  readonly recentSaves?: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /** Issues and checks the ids. @default ids without a MAC (`new SessionIds([])`) */
  readonly ids?: SessionIds;
}

/** Sessions in a server-side store; the cookie holds only the id. */
export class ServerSideSessions implements SessionManager {
  private readonly cookie: SessionCookie;
  private readonly ttlSeconds: number;
  private readonly recent: RecentSaves;
  private readonly now: () => number;
  private readonly ids: SessionIds;
  private readonly accounted = new Accounted();

  constructor(private readonly store: SessionStore, settings: CookieSettings, private readonly metrics: Metrics, options: ServerSideOptions = {}) {
    this.cookie = new SessionCookie(settings, metrics);
    this.ttlSeconds = settings.ttlSeconds;
    this.recent = new RecentSaves(options.recentSaves ?? 10_000);
    this.now = options.now ?? Date.now;
    this.ids = options.ids ?? new SessionIds([]);
  }

  /** The tail of each session's queue of requests in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();

  public async use(req: FastifyRequest, reply: FastifyReply, mutate: Mutation, options: { regenerate?: boolean } = {}): Promise<SessionData> {
    const id = this.cookie.read(req);
    if (id === undefined) {
      return this.apply(undefined, false, reply, mutate, options);
    }
    const check = this.ids.check(id);
    if (check === 'rejected') {
      this.metrics.rejected++;
      return this.apply(undefined, false, reply, mutate, options);
    }
    // One session's requests take turns within a process, so that only other
    // instances can race a save; the version check settles those.
    const previous = this.queues.get(id) ?? Promise.resolve();
    const result = previous.then(() => this.apply(id, check === 'issued', reply, mutate, options));
    const tail = result.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) {
        this.queues.delete(id);
      }
    });
    return result;
  }

  private async apply(id: string | undefined, issued: boolean, reply: FastifyReply, mutate: Mutation, options: { regenerate?: boolean }): Promise<SessionData> {
    // A log-in or log-out copies the session to a new id, which no version check guards: it always loads.
    let fromRecent = id !== undefined && !options.regenerate;
    const load = { latest: false, issued };
    let unaccounted = issued;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const recent = fromRecent ? this.recent.get(id!, this.now()) : undefined;
      fromRecent = recent !== undefined;
      const loaded = recent ?? (id ? await this.store.load(id, load) : undefined);
      if (loaded) {
        this.metrics.loaded++;
      } else if (unaccounted) {
        unaccounted = false;
        await this.countMissing(id!);
      }
      // Stores hand out a fresh copy on every load: the mutation cannot touch what they hold.
      const data = loaded?.data ?? newSessionData(this.now());
      let json: string;
      try {
        mutate(data);
        json = serializeSession(data); // throws when too large, before anything is saved
      } catch (refusal) {
        // A refusal never reaches the version check, so one decided on a copy that may be behind (this
        // process's last save, a replica's or the cache's answer) is decided again on the latest version.
        if (loaded && !load.latest) {
          this.recent.delete(id!);
          fromRecent = false;
          load.latest = true;
          continue;
        }
        throw refusal;
      }
      // An unknown id is never adopted (no session fixation): a new session gets a new id.
      const target = loaded && !options.regenerate ? id! : this.ids.issue();
      let version: number;
      try {
        version = await this.store.save(target, data, target === id ? loaded!.version : 0, this.ttlSeconds);
      } catch (e) {
        if (e instanceof SessionConflictError && fromRecent) {
          // This process's copy was stale: start again from the store, at once.
          this.recent.delete(id!);
          fromRecent = false;
          continue;
        }
        if (e instanceof SessionConflictError) {
          this.metrics.conflicted++;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * (attempt + 1)));
          continue;
        }
        throw e;
      }
      this.recent.set(target, json, version, this.now() + this.ttlSeconds * 1000);
      countSave(this.metrics, json, loaded?.data, this.now());
      if (loaded && target !== id) {
        this.recent.delete(id!);
        await this.store.destroy(id!);
        this.accounted.add(id!);
        this.metrics.destroyed++;
      }
      reply.header('set-cookie', this.cookie.header(reply, target));
      return data;
    }
    throw Object.assign(new Error('the session changed too often at once; try again'), { statusCode: 409 });
  }

  /**
   * An id this fleet issued (its MAC verified) that the store does not have:
   * the browser sent it, so its cookie's Max-Age, which each save sets with
   * the store's TTL, has not run out, and the session was lost, unless the
   * store still holds it expired (a client that kept the cookie too long) or
   * this process already accounted for it. An id without a MAC cannot be told
   * from a forged one, and is never counted.
   */
  private async countMissing(id: string): Promise<void> {
    if (this.accounted.check(id)) {
      return;
    }
    // A failure to ask leaves the loss counted: the user has no session either way.
    if (await this.store.holdsExpired(id).catch(() => false)) {
      this.metrics.expired++;
    } else {
      this.metrics.lost++;
    }
  }

  public close(): Promise<void> {
    return this.store.close();
  }
}

/**
 * The whole session sealed in the cookie (XChaCha20-Poly1305 with an expiry,
 * see {@link Sealer}): nothing server-side, any instance opens it. The first
 * secret seals; every secret opens, so a new one can be prepended without
 * logging anyone out.
 */
export class CookieSessions implements SessionManager {
  private readonly sealer: Sealer;
  private readonly cookie: SessionCookie;
  private readonly ttlMs: number;
  private readonly accounted = new Accounted();

  /** `sealer`: from `Sealer.create(secrets)`. */
  constructor(sealer: Sealer, settings: CookieSettings, private readonly metrics: Metrics, private readonly now: () => number = Date.now) {
    this.sealer = sealer;
    this.cookie = new SessionCookie(settings, metrics);
    this.ttlMs = settings.ttlSeconds * 1000;
  }

  public async use(req: FastifyRequest, reply: FastifyReply, mutate: Mutation): Promise<SessionData> {
    const raw = this.cookie.read(req);
    // One request, no await: one reading of the clock.
    const now = this.now();
    let loaded: SessionData | undefined;
    if (raw !== undefined) {
      const opened = this.sealer.open(raw, now);
      loaded = opened.status === 'opened' ? asSessionData(opened.value) : undefined;
      if (loaded) {
        this.metrics.loaded++;
      } else if (opened.status === 'expired') {
        this.metrics.expired++;
      } else if (opened.status === 'unknown-key') {
        // Once per token (its key id and nonce, the first 38 characters after the format tag).
        if (!this.accounted.check(raw.slice(0, 41))) {
          this.metrics.lost++;
        }
      } else {
        this.metrics.rejected++;
      }
    }
    const data = loaded ?? newSessionData(now);
    mutate(data);
    const json = serializeSession(data);
    const header = this.cookie.header(reply, this.sealer.seal(json, this.ttlMs, now));
    // All ASCII: its length is its size in bytes.
    if (header.length >= 4096) {
      throw new SessionTooLargeError(`the sealed session cookie would be ${header.length} bytes; browsers keep at most 4096`);
    }
    reply.header('set-cookie', header);
    countSave(this.metrics, json, loaded, now);
    return data;
  }

  public async close(): Promise<void> {
    // Nothing held.
  }
}

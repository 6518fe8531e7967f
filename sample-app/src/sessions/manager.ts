import type { FastifyReply, FastifyRequest } from 'fastify';
import { Metrics } from '../metrics';
import {
  LIMITS, SessionData, SessionTooLargeError, asSessionData, isValidSessionId, newSessionData, newSessionId, serializeSession,
} from './session';
import { Sealer } from './seal';
import { SessionConflictError, SessionStore } from './store';

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
 * every request (it is registered with `hook: false`: its parse-everything
 * hook, per-reply bookkeeping and per-call serialization cost about 12 us a
 * request, measured). The attributes never change, so Set-Cookie is the value
 * plus a suffix the library serialized once.
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

/** Sessions in a server-side store; the cookie holds only the id. */
export class ServerSideSessions implements SessionManager {
  private readonly cookie: SessionCookie;
  private readonly ttlSeconds: number;

  constructor(
    private readonly store: SessionStore,
    settings: CookieSettings,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {
    this.cookie = new SessionCookie(settings, metrics);
    this.ttlSeconds = settings.ttlSeconds;
  }

  /** The tail of each session's queue of requests in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();

  public async use(req: FastifyRequest, reply: FastifyReply, mutate: Mutation, options: { regenerate?: boolean } = {}): Promise<SessionData> {
    const id = this.cookie.read(req);
    if (id === undefined) {
      return this.apply(undefined, reply, mutate, options);
    }
    if (!isValidSessionId(id)) {
      this.metrics.rejected++;
      return this.apply(undefined, reply, mutate, options);
    }
    // One session's requests take turns within a process, so that only other
    // instances can race a save; the version check settles those.
    const previous = this.queues.get(id) ?? Promise.resolve();
    const result = previous.then(() => this.apply(id, reply, mutate, options));
    const tail = result.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) {
        this.queues.delete(id);
      }
    });
    return result;
  }

  private async apply(id: string | undefined, reply: FastifyReply, mutate: Mutation, options: { regenerate?: boolean }): Promise<SessionData> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const loaded = id ? await this.store.load(id) : undefined;
      if (loaded) {
        this.metrics.loaded++;
      }
      // Stores hand out a fresh copy on every load: the mutation cannot touch what they hold.
      const data = loaded?.data ?? newSessionData(this.now());
      mutate(data);
      const json = serializeSession(data); // throws when too large, before anything is saved
      // An unknown id is never adopted (no session fixation): a new session gets a new id.
      const target = loaded && !options.regenerate ? id! : newSessionId();
      try {
        await this.store.save(target, data, target === id ? loaded!.version : 0, this.ttlSeconds);
      } catch (e) {
        if (e instanceof SessionConflictError) {
          this.metrics.conflicted++;
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * (attempt + 1)));
          continue;
        }
        throw e;
      }
      countSave(this.metrics, json, loaded?.data, this.now());
      if (loaded && target !== id) {
        await this.store.destroy(id!);
        this.metrics.destroyed++;
      }
      reply.header('set-cookie', this.cookie.header(reply, target));
      return data;
    }
    throw Object.assign(new Error('the session changed too often at once; try again'), { statusCode: 409 });
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

  constructor(secrets: readonly string[], settings: CookieSettings, private readonly metrics: Metrics, private readonly now: () => number = Date.now) {
    this.sealer = new Sealer(secrets);
    this.cookie = new SessionCookie(settings, metrics);
    this.ttlMs = settings.ttlSeconds * 1000;
  }

  public async use(req: FastifyRequest, reply: FastifyReply, mutate: Mutation): Promise<SessionData> {
    const raw = this.cookie.read(req);
    let loaded: SessionData | undefined;
    if (raw !== undefined) {
      loaded = asSessionData(this.sealer.open(raw, this.now()));
      if (loaded) {
        this.metrics.loaded++;
      } else {
        this.metrics.rejected++;
      }
    }
    const data = loaded ?? newSessionData(this.now());
    mutate(data);
    const json = serializeSession(data);
    const header = this.cookie.header(reply, this.sealer.seal(json, this.ttlMs, this.now()));
    // All ASCII: its length is its size in bytes.
    if (header.length >= 4096) {
      throw new SessionTooLargeError(`the sealed session cookie would be ${header.length} bytes; browsers keep at most 4096`);
    }
    reply.header('set-cookie', header);
    countSave(this.metrics, json, loaded, this.now());
    return data;
  }

  public async close(): Promise<void> {
    // Nothing held.
  }
}

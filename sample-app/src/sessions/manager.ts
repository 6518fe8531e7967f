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

/**
 * The session's Set-Cookie header. Serialized here and set as a header rather
 * than with reply.setCookie, whose per-reply bookkeeping measured about a
 * third of the memory strategy's request cost (bench/).
 */
function cookieHeader(reply: FastifyReply, settings: CookieSettings, value: string): string {
  return reply.server.serializeCookie(settings.name, value, { path: '/', httpOnly: true, sameSite: 'lax', secure: settings.secure, maxAge: settings.ttlSeconds });
}

/** The raw cookie value, or undefined when absent or too long to consider. */
function rawCookie(req: FastifyRequest, name: string, metrics: Metrics): string | undefined {
  const value = req.cookies[name];
  if (value === undefined || value === '') {
    return undefined;
  }
  if (value.length > LIMITS.cookieBytes) {
    metrics.rejected++;
    return undefined;
  }
  return value;
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
  constructor(
    private readonly store: SessionStore,
    private readonly cookie: CookieSettings,
    private readonly metrics: Metrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** The tail of each session's queue of requests in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();

  public async use(req: FastifyRequest, reply: FastifyReply, mutate: Mutation, options: { regenerate?: boolean } = {}): Promise<SessionData> {
    const id = rawCookie(req, this.cookie.name, this.metrics);
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
        await this.store.save(target, data, target === id ? loaded!.version : 0, this.cookie.ttlSeconds);
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
      reply.header('set-cookie', cookieHeader(reply, this.cookie, target));
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

  constructor(secrets: readonly string[], private readonly cookie: CookieSettings, private readonly metrics: Metrics, private readonly now: () => number = Date.now) {
    this.sealer = new Sealer(secrets);
  }

  public async use(req: FastifyRequest, reply: FastifyReply, mutate: Mutation): Promise<SessionData> {
    const raw = rawCookie(req, this.cookie.name, this.metrics);
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
    const sealed = this.sealer.seal(json, this.cookie.ttlSeconds * 1000, this.now());
    const header = cookieHeader(reply, this.cookie, sealed);
    if (Buffer.byteLength(header) >= 4096) {
      throw new SessionTooLargeError(`the sealed session cookie would be ${Buffer.byteLength(header)} bytes; browsers keep at most 4096`);
    }
    reply.header('set-cookie', header);
    countSave(this.metrics, json, loaded, this.now());
    return data;
  }

  public async close(): Promise<void> {
    // Nothing held.
  }
}

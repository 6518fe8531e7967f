import { randomBytes } from 'crypto';
import { SESSION_ID_SOURCE } from './session-id';

/** What a session holds. Every strategy stores exactly this, so a user keeps it when the strategy changes. */
export interface SessionData {
  /** When the session began, in ms since the epoch. */
  createdAt: number;
  /** Page and API loads of the session. */
  visits: number;
  /** The counter `POST /api/counter` increments. */
  counter: number;
  /** Items in the cart. */
  cart: string[];
  /** The logged-in name, or null. */
  user: string | null;
}

/** Limits that keep sessions, and so cookies, small. */
export const LIMITS = {
  /** Most items in a cart. */
  cartItems: 50,
  /** Longest item name. */
  itemLength: 100,
  /** Longest user name. */
  userLength: 64,
  /** Largest serialized session, in bytes (any strategy). */
  sessionBytes: 3072,
  /** Largest request body, in bytes. */
  bodyBytes: 16 * 1024,
  /** Largest Cookie header value we look at, in bytes. */
  cookieBytes: 8 * 1024,
} as const;

/** A session id: 128 random bits, base64url (22 characters), and with keys their MAC (43 in all; see SessionIds). */
const SESSION_ID = new RegExp(`^(?:${SESSION_ID_SOURCE})$`);

/** A new session id of 128 random bits, without a MAC (as {@link SessionIds} issues them without keys). */
export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

/** Whether `id` has the exact shape of an id we issue, signed or not; checked before any store or path sees it. */
export function isValidSessionId(id: unknown): id is string {
  return typeof id === 'string' && SESSION_ID.test(id);
}

/** A fresh session. */
export function newSessionData(now: number): SessionData {
  return { createdAt: now, visits: 0, counter: 0, cart: [], user: null };
}

/**
 * Checks that an object read from a store or a cookie is a well-formed
 * session; anything else counts as no session.
 */
export function asSessionData(value: unknown): SessionData | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  const count = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
  if (!count(v.createdAt) || !count(v.visits) || !count(v.counter)) {
    return undefined;
  }
  if (!Array.isArray(v.cart) || v.cart.length > LIMITS.cartItems
    || !v.cart.every((i) => typeof i === 'string' && i.length <= LIMITS.itemLength)) {
    return undefined;
  }
  if (v.user !== null && (typeof v.user !== 'string' || v.user.length > LIMITS.userLength)) {
    return undefined;
  }
  return { createdAt: v.createdAt as number, visits: v.visits as number, counter: v.counter as number, cart: [...v.cart as string[]], user: v.user as string | null };
}

/** The serialized session; throws {@link SessionTooLargeError} past the limit. */
export function serializeSession(data: SessionData): string {
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) > LIMITS.sessionBytes) {
    throw new SessionTooLargeError(`session would be ${Buffer.byteLength(json)} bytes, more than ${LIMITS.sessionBytes}`);
  }
  return json;
}

/** A change would make the session too large; the old session stays. */
export class SessionTooLargeError extends Error {
  public readonly statusCode = 413;
  constructor(message: string) {
    super(message);
    this.name = 'SessionTooLargeError';
  }
}

/** A request asks for something the session refuses (bad item, full cart). */
export class SessionInputError extends Error {
  public readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'SessionInputError';
  }
}

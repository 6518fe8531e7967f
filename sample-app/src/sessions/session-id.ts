import { KeyObject, createHmac, createSecretKey, hkdfSync, randomBytes, timingSafeEqual } from 'crypto';

/** Random bytes of an id: 128 bits, as ids have always had. */
const RANDOM_BYTES = 16;
/** Bytes of HMAC-SHA256 kept: half the output, the least RFC 2104 (section 5) advises. */
const MAC_BYTES = 16;
/** base64url of the random bytes alone: the ids issued without a key (22 characters). */
const UNSIGNED = /^[A-Za-z0-9_-]{22}$/;
/** base64url of the random bytes and their MAC (43 characters). */
const SIGNED = /^[A-Za-z0-9_-]{43}$/;
/** Either shape, unanchored, for the patterns that find ids in other text (a session file's name). */
export const SESSION_ID_SOURCE = `${UNSIGNED.source.slice(1, -1)}|${SIGNED.source.slice(1, -1)}`;

/** What an id from a cookie is, as far as this process can tell. */
export type IdCheck =
  /** Its MAC verified under one of the keys: this fleet issued it. */
  | 'issued'
  /** An id of the shape we issue that this process cannot verify: one issued without a key, or, without keys here, any. */
  | 'unverified'
  /** Not one of ours (wrong shape, or a MAC that does not verify): counts as no session. */
  | 'rejected';

/**
 * Issues and checks session ids. With keys, an id is 16 random bytes and
 * their HMAC-SHA256 truncated to 16 bytes, base64url (43 characters), under
 * a key every instance of both colors shares: a forged id is refused before
 * any store sees it. The first key signs, every key verifies, so a new key
 * is prepended to rotate without logging anyone out.
 *
 * Ids without a MAC (22 characters, as a fleet without keys issues them)
 * keep working, unverified, so a rolling release logs nobody out; only they
 * cannot earn the primary read that an issued id gets when a replica does
 * not know it yet. Without keys, ids are issued without a MAC
 * and either shape is accepted unverified (a fleet rolled back to no keys
 * keeps the users a keyed one gave ids to).
 */
export class SessionIds {
  private readonly keys: readonly KeyObject[];

  /** `secrets`: none, or strings of 32 characters or more (config.ts checks them); the first signs. */
  constructor(secrets: readonly string[]) {
    // A key of its own for ids, so that a secret also used elsewhere gives MACs unrelated to its other uses.
    this.keys = secrets.map((secret) => createSecretKey(Buffer.from(hkdfSync('sha256', secret, 'cdk-session-tier', 'session id v1', 32))));
  }

  /** Whether ids are signed. */
  public get signing(): boolean {
    return this.keys.length > 0;
  }

  /** A new id: signed with the first key, or 22 random characters without keys. */
  public issue(): string {
    const random = randomBytes(RANDOM_BYTES);
    return this.keys.length === 0 ? random.toString('base64url') : this.sign(this.keys[0], random).toString('base64url');
  }

  /** What `id` is; a signed id whose MAC no key verifies is rejected without any store read. */
  public check(id: string): IdCheck {
    if (UNSIGNED.test(id)) {
      return 'unverified';
    }
    if (!SIGNED.test(id)) {
      return 'rejected';
    }
    if (this.keys.length === 0) {
      return 'unverified';
    }
    const bytes = Buffer.from(id, 'base64url');
    const random = bytes.subarray(0, RANDOM_BYTES);
    for (const key of this.keys) {
      // Compared as the whole id re-encoded: only the canonical spelling of an issued id verifies.
      const expected = Buffer.from(this.sign(key, random).toString('base64url'));
      if (timingSafeEqual(expected, Buffer.from(id))) {
        return 'issued';
      }
    }
    return 'rejected';
  }

  private sign(key: KeyObject, random: Buffer): Buffer {
    return Buffer.concat([random, createHmac('sha256', key).update(random).digest().subarray(0, MAC_BYTES)]);
  }
}

import { createHash, hkdfSync, randomFillSync } from 'crypto';
import { AeadKey, NONCE_BYTES, XChaCha20Poly1305 } from './xchacha';

/** Format tag; bound into the authenticated data, so a token of another format never opens. */
const VERSION = 's1';
const KEY_ID_BYTES = 4;

/** What {@link Sealer.open} found in a token. */
export type Unsealed =
  /** Opened under one of our keys, before its expiry. */
  | { readonly status: 'opened'; readonly value: unknown }
  /** Opened under one of our keys, after its expiry. */
  | { readonly status: 'expired' }
  /** Of our format and size, under a key id none of our keys has: sealed by a fleet with another key. Nothing in it can be checked here. */
  | { readonly status: 'unknown-key' }
  /** Not of our format, or its tag does not verify under the key its id names (tampered). */
  | { readonly status: 'rejected' };

const EXPIRED: Unsealed = { status: 'expired' };
const UNKNOWN_KEY: Unsealed = { status: 'unknown-key' };
const REJECTED: Unsealed = { status: 'rejected' };

interface Key {
  readonly id: Buffer;
  readonly key: AeadKey;
  readonly aad: Buffer;
}

/**
 * Seals small JSON values into URL-safe tokens, encrypted and authenticated
 * with XChaCha20-Poly1305 (libsodium's, see {@link XChaCha20Poly1305}), with
 * an expiry inside. The 192-bit random nonce makes random nonces safe at any
 * volume. Each secret becomes a 256-bit key through HKDF-SHA-256; the first
 * key seals, every key opens (a new secret is prepended to rotate without
 * logging anyone out).
 *
 * Token: `s1.` + base64url(key id (4 bytes) | nonce (24) | ciphertext + tag),
 * the plaintext being `{"e": <expiry in ms>, "d": <value>}`.
 */
export class Sealer {
  /** A sealer for `secrets` (the first seals, all open), once libsodium is loaded. */
  public static async create(secrets: readonly string[]): Promise<Sealer> {
    return new Sealer(secrets, await XChaCha20Poly1305.load(8192, KEY_ID_BYTES));
  }

  private readonly keys: readonly Key[];

  private constructor(secrets: readonly string[], private readonly aead: XChaCha20Poly1305) {
    if (secrets.length === 0) {
      throw new Error('Sealer: at least one secret is needed');
    }
    this.keys = secrets.map((secret) => {
      const id = createHash('sha256').update(secret).digest().subarray(0, KEY_ID_BYTES);
      const key = aead.key(new Uint8Array(hkdfSync('sha256', secret, 'cdk-session-tier', 'session cookie v1', 32)));
      return { id, key, aad: Buffer.concat([Buffer.from(VERSION), id]) };
    });
  }

  /** Seals `json` (already serialized) to expire `ttlMs` after `now`. */
  public seal(json: string, ttlMs: number, now: number): string {
    const key = this.keys[0];
    return `${VERSION}.${this.aead.seal(key.key, key.aad, key.id, randomNonce(), `{"e":${now + ttlMs},"d":${json}}`)}`;
  }

  /** What `token` holds: its value, or why it has none (expired, sealed under a key we lack, or not ours). */
  public open(token: string, now: number): Unsealed {
    if (!token.startsWith(`${VERSION}.`)) {
      return REJECTED;
    }
    let unknownKey = false;
    const plaintext = this.aead.open(token.slice(VERSION.length + 1), (id) => {
      const key = this.keys.find((k) => k.id.equals(id));
      unknownKey = key === undefined;
      return key;
    });
    if (plaintext === undefined) {
      // The key is looked up only in a token of a possible size, so an unknown key is a well-formed token's.
      return unknownKey ? UNKNOWN_KEY : REJECTED;
    }
    const opened = JSON.parse(plaintext) as { e: unknown; d: unknown };
    if (typeof opened.e !== 'number') {
      return REJECTED;
    }
    return opened.e > now ? { status: 'opened', value: opened.d } : EXPIRED;
  }
}

/**
 * Random bytes for nonces, drawn from the CSPRNG 4 KB at a time: a
 * synchronous call to it costs about the same whatever the size, so one call
 * per nonce would be paid on every request. Every nonce is a fresh slice,
 * never handed out twice (as Node's randomUUID does).
 */
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomNonce(): Buffer {
  if (poolOffset + NONCE_BYTES > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  // A view, not a copy: every caller uses it before the next call can refill the pool.
  const nonce = pool.subarray(poolOffset, poolOffset + NONCE_BYTES);
  poolOffset += NONCE_BYTES;
  return nonce;
}

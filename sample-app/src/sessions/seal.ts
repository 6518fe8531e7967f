import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createHash, hkdfSync, randomBytes } from 'crypto';

/** Format tag; bound into the authenticated data, so a token of another format never opens. */
const VERSION = 's1';
const KEY_ID_BYTES = 4;
const NONCE_BYTES = 24;

interface Key {
  readonly id: Buffer;
  readonly key: Uint8Array;
}

/**
 * Seals small JSON values into URL-safe tokens, encrypted and authenticated
 * with XChaCha20-Poly1305 (@noble/ciphers, audited), with an expiry inside.
 * The 192-bit random nonce makes random nonces safe at any volume. Each secret
 * becomes a 256-bit key through HKDF-SHA-256; the first key seals, every key
 * opens (a new secret is prepended to rotate without logging anyone out).
 *
 * Token: `s1.` + base64url(key id (4 bytes) | nonce (24) | ciphertext + tag),
 * the plaintext being `{"e": <expiry in ms>, "d": <value>}`.
 */
export class Sealer {
  private readonly keys: readonly Key[];

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) {
      throw new Error('Sealer: at least one secret is needed');
    }
    this.keys = secrets.map((secret) => ({
      id: createHash('sha256').update(secret).digest().subarray(0, KEY_ID_BYTES),
      key: new Uint8Array(hkdfSync('sha256', secret, 'cdk-session-tier', 'session cookie v1', 32)),
    }));
  }

  /** Seals `json` (already serialized) to expire `ttlMs` after `now`. */
  public seal(json: string, ttlMs: number, now: number): string {
    const { id, key } = this.keys[0];
    const nonce = randomBytes(NONCE_BYTES);
    const plaintext = Buffer.from(`{"e":${now + ttlMs},"d":${json}}`);
    const sealed = xchacha20poly1305(key, nonce, associatedData(id)).encrypt(plaintext);
    return `${VERSION}.${Buffer.concat([id, nonce, sealed]).toString('base64url')}`;
  }

  /** The value sealed in `token`, or undefined when it is malformed, tampered with, sealed with an unknown key, or expired. */
  public open(token: string, now: number): unknown {
    if (!token.startsWith(`${VERSION}.`)) {
      return undefined;
    }
    const bytes = Buffer.from(token.slice(VERSION.length + 1), 'base64url');
    if (bytes.length < KEY_ID_BYTES + NONCE_BYTES + 16) {
      return undefined;
    }
    const id = bytes.subarray(0, KEY_ID_BYTES);
    const key = this.keys.find((k) => k.id.equals(id));
    if (!key) {
      return undefined;
    }
    let plaintext: Uint8Array;
    try {
      const nonce = bytes.subarray(KEY_ID_BYTES, KEY_ID_BYTES + NONCE_BYTES);
      plaintext = xchacha20poly1305(key.key, nonce, associatedData(id)).decrypt(bytes.subarray(KEY_ID_BYTES + NONCE_BYTES));
    } catch {
      return undefined; // the tag did not verify
    }
    const opened = JSON.parse(Buffer.from(plaintext).toString('utf8')) as { e: unknown; d: unknown };
    return typeof opened.e === 'number' && opened.e > now ? opened.d : undefined;
  }
}

function associatedData(keyId: Buffer): Uint8Array {
  return Buffer.concat([Buffer.from(VERSION), keyId]);
}

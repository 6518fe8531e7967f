import { hchacha } from '@noble/ciphers/chacha.js';
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomFillSync } from 'crypto';

/** Format tag; bound into the authenticated data, so a token of another format never opens. */
const VERSION = 's1';
const KEY_ID_BYTES = 4;
const NONCE_BYTES = 24;

const TAG_BYTES = 16;
/** ChaCha's constants, "expand 32-byte k", as little-endian words. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

interface Key {
  readonly id: Buffer;
  /** The key as eight little-endian words, as HChaCha20 takes it. */
  readonly words: Uint32Array;
  readonly aad: Buffer;
}

/**
 * Seals small JSON values into URL-safe tokens, encrypted and authenticated
 * with XChaCha20-Poly1305, with an expiry inside. XChaCha20-Poly1305 is
 * HChaCha20 (from @noble/ciphers, audited) deriving a subkey from the key and
 * the first 16 nonce bytes, then Node's native ChaCha20-Poly1305 (OpenSSL)
 * under that subkey with the last 8 (draft-irtf-cfrg-xchacha, section 2.3):
 * the same tokens as noble's pure-JS xchacha20poly1305 (a test checks both
 * ways), at a fraction of its cost.
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
    this.keys = secrets.map((secret) => {
      const id = createHash('sha256').update(secret).digest().subarray(0, KEY_ID_BYTES);
      const key = new Uint8Array(hkdfSync('sha256', secret, 'cdk-session-tier', 'session cookie v1', 32));
      return { id, words: littleEndianWords(key), aad: Buffer.concat([Buffer.from(VERSION), id]) };
    });
  }

  /** Seals `json` (already serialized) to expire `ttlMs` after `now`. */
  public seal(json: string, ttlMs: number, now: number): string {
    const key = this.keys[0];
    const nonce = randomNonce();
    const plaintext = Buffer.from(`{"e":${now + ttlMs},"d":${json}}`);
    const cipher = createCipheriv('chacha20-poly1305', subkey(key, nonce), innerNonce(nonce), { authTagLength: TAG_BYTES });
    cipher.setAAD(key.aad, { plaintextLength: plaintext.length });
    const sealed = Buffer.concat([key.id, nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${sealed.toString('base64url')}`;
  }

  /** The value sealed in `token`, or undefined when it is malformed, tampered with, sealed with an unknown key, or expired. */
  public open(token: string, now: number): unknown {
    if (!token.startsWith(`${VERSION}.`)) {
      return undefined;
    }
    const bytes = Buffer.from(token.slice(VERSION.length + 1), 'base64url');
    if (bytes.length < KEY_ID_BYTES + NONCE_BYTES + TAG_BYTES) {
      return undefined;
    }
    const id = bytes.subarray(0, KEY_ID_BYTES);
    const key = this.keys.find((k) => k.id.equals(id));
    if (!key) {
      return undefined;
    }
    let plaintext: Buffer;
    try {
      const nonce = bytes.subarray(KEY_ID_BYTES, KEY_ID_BYTES + NONCE_BYTES);
      const ciphertext = bytes.subarray(KEY_ID_BYTES + NONCE_BYTES, bytes.length - TAG_BYTES);
      const decipher = createDecipheriv('chacha20-poly1305', subkey(key, nonce), innerNonce(nonce), { authTagLength: TAG_BYTES });
      decipher.setAAD(key.aad, { plaintextLength: ciphertext.length });
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      plaintext = decipher.update(ciphertext);
      decipher.final(); // a stream cipher: update gave all the plaintext; final checks the tag (throws when it does not verify)
    } catch {
      return undefined; // the tag did not verify
    }
    const opened = JSON.parse(plaintext.toString('utf8')) as { e: unknown; d: unknown };
    return typeof opened.e === 'number' && opened.e > now ? opened.d : undefined;
  }
}

/**
 * Random bytes for nonces, drawn from the CSPRNG 4 KB at a time: each
 * synchronous call to it costs several microseconds whatever the size, which
 * at one nonce per request was a fifth of a cookie session's crypto. Every
 * nonce is a fresh slice, never handed out twice (as Node's randomUUID does).
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

/** Bytes as little-endian 32-bit words (copied: a view would need aligned, little-endian memory). */
function littleEndianWords(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < words.length; i++) {
    words[i] = view.getUint32(i * 4, true);
  }
  return words;
}

/**
 * Scratch space for one seal or open at a time (they run synchronously):
 * createCipheriv copies the key and the nonce into OpenSSL's context, so the
 * same few bytes serve every token instead of five new buffers each.
 */
const scratch = { nonceWords: new Uint32Array(4), subkeyWords: new Uint32Array(8), subkey: Buffer.alloc(32), innerNonce: Buffer.alloc(12) };

/** HChaCha20(key, nonce[0..16]): the ChaCha20-Poly1305 key of this one token. Valid until the next call. */
function subkey(key: Key, nonce: Buffer): Buffer {
  for (let i = 0; i < 4; i++) {
    scratch.nonceWords[i] = nonce.readUInt32LE(i * 4);
  }
  hchacha(SIGMA, key.words, scratch.nonceWords, scratch.subkeyWords);
  for (let i = 0; i < 8; i++) {
    scratch.subkey.writeUInt32LE(scratch.subkeyWords[i], i * 4);
  }
  return scratch.subkey;
}

/** The inner 96-bit nonce: four zero bytes, then the last 8 bytes of the 24-byte nonce. Valid until the next call. */
function innerNonce(nonce: Buffer): Buffer {
  nonce.copy(scratch.innerNonce, 4, 16, NONCE_BYTES);
  return scratch.innerNonce;
}

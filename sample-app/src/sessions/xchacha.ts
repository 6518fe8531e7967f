/**
 * The C functions of libsodium (the `libsodium` package: libsodium itself,
 * compiled to WebAssembly by its author) that this module calls. 64-bit
 * lengths are passed as two 32-bit halves, as the build takes them.
 */
interface Libsodium {
  readonly ready: Promise<unknown>;
  /** The module's memory; replaced when it grows, so read it anew on every call. */
  readonly HEAPU8: Uint8Array;
  _sodium_init(): number;
  _malloc(bytes: number): number;
  _crypto_aead_xchacha20poly1305_ietf_keybytes(): number;
  _crypto_aead_xchacha20poly1305_ietf_npubbytes(): number;
  _crypto_aead_xchacha20poly1305_ietf_abytes(): number;
  _crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: number, clenP: number, m: number, mlenLow: number, mlenHigh: number,
    ad: number, adlenLow: number, adlenHigh: number, nsec: number, npub: number, k: number): number;
  _crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: number, mlenP: number, nsec: number, c: number, clenLow: number, clenHigh: number,
    ad: number, adlenLow: number, adlenHigh: number, npub: number, k: number): number;
}

export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
const MAX_AAD_BYTES = 64;

/** A key held in the module's memory, as {@link XChaCha20Poly1305.key} returns it. */
export interface AeadKey {
  readonly pointer: number;
}

/** The key and associated data that open a token, picked by its header. */
export interface OpeningKey {
  readonly key: AeadKey;
  readonly aad: Uint8Array;
}

/**
 * XChaCha20-Poly1305 (IETF, as draft-irtf-cfrg-xchacha defines it) by
 * libsodium's own `crypto_aead_xchacha20poly1305_ietf_*`, called directly,
 * for tokens of the form base64url(header | nonce | ciphertext and tag). The
 * keys live in the module's memory, and each call works in one scratch area
 * allocated once, laid out as the token is: the text is written into it as
 * UTF-8, encrypted into the space after the header and nonce, and the token read
 * out of it as base64url (opening, the other way round), so a token costs no
 * buffer of its own: no OpenSSL context and no allocation per call, since
 * every request with a cookie session seals or opens one ("Why the code is
 * as it is" in bench/results.md weighs the alternatives). A test checks the
 * tokens against @noble/ciphers' pure-JavaScript implementation in both
 * directions.
 *
 * One call at a time (they are synchronous); texts up to `maxMessageBytes`.
 */
export class XChaCha20Poly1305 {
  /** Loads and starts libsodium (it instantiates its WebAssembly, so once per process), then allocates the scratch area. */
  public static async load(maxMessageBytes = 8192, headerBytes = 4): Promise<XChaCha20Poly1305> {
    // Required here, not at the top: only the cookie strategy pays for instantiating the WebAssembly.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sodium = require('libsodium') as Libsodium;
    await sodium.ready;
    if (sodium._sodium_init() < 0) {
      throw new Error('libsodium: sodium_init failed');
    }
    const sizes = [sodium._crypto_aead_xchacha20poly1305_ietf_keybytes(), sodium._crypto_aead_xchacha20poly1305_ietf_npubbytes(), sodium._crypto_aead_xchacha20poly1305_ietf_abytes()];
    if (sizes.join() !== [KEY_BYTES, NONCE_BYTES, TAG_BYTES].join()) {
      throw new Error(`libsodium: unexpected XChaCha20-Poly1305 sizes ${sizes.join(', ')}`);
    }
    return new XChaCha20Poly1305(sodium, maxMessageBytes, headerBytes);
  }

  /** Where the associated data goes. */
  private readonly aad: number;
  /** Where the text goes, and where an opened token's text comes out. */
  private readonly message: number;
  /** The token's bytes: header, then nonce, then ciphertext and tag. */
  private readonly token: number;
  private readonly nonce: number;
  private readonly sealed: number;
  private view: Buffer;

  private constructor(private readonly sodium: Libsodium, public readonly maxMessageBytes: number, public readonly headerBytes: number) {
    this.aad = this.allocate(MAX_AAD_BYTES + maxMessageBytes + headerBytes + NONCE_BYTES + maxMessageBytes + TAG_BYTES);
    this.message = this.aad + MAX_AAD_BYTES;
    this.token = this.message + maxMessageBytes;
    this.nonce = this.token + headerBytes;
    this.sealed = this.nonce + NONCE_BYTES;
    this.view = this.heap();
  }

  /** Copies a 32-byte key into the module's memory, for the life of the process. */
  public key(bytes: Uint8Array): AeadKey {
    if (bytes.length !== KEY_BYTES) {
      throw new Error(`XChaCha20-Poly1305: the key must be ${KEY_BYTES} bytes, got ${bytes.length}`);
    }
    const pointer = this.allocate(KEY_BYTES);
    this.heap().set(bytes, pointer);
    return { pointer };
  }

  /** base64url(header | nonce | ciphertext and tag) of `text` (as UTF-8) under `key`, bound to `aad`. */
  public seal(key: AeadKey, aad: Uint8Array, header: Uint8Array, nonce: Uint8Array, text: string): string {
    const length = Buffer.byteLength(text);
    if (length > this.maxMessageBytes) {
      throw new Error(`XChaCha20-Poly1305: at most ${this.maxMessageBytes} bytes per message, got ${length}`);
    }
    if (header.length !== this.headerBytes || nonce.length !== NONCE_BYTES || aad.length > MAX_AAD_BYTES) {
      throw new Error(`XChaCha20-Poly1305: the header must be ${this.headerBytes} bytes, the nonce ${NONCE_BYTES} and the associated data at most ${MAX_AAD_BYTES}`);
    }
    const view = this.heap();
    view.set(aad, this.aad);
    view.set(header, this.token);
    view.set(nonce, this.nonce);
    view.write(text, this.message, length, 'utf8');
    const status = this.sodium._crypto_aead_xchacha20poly1305_ietf_encrypt(
      this.sealed, 0, this.message, length, 0, this.aad, aad.length, 0, 0, this.nonce, key.pointer);
    view.fill(0, this.message, this.message + length);
    if (status !== 0) {
      throw new Error('XChaCha20-Poly1305: encryption failed');
    }
    return view.toString('base64url', this.token, this.sealed + length + TAG_BYTES);
  }

  /**
   * The text in `encoded` (base64url of header | nonce | ciphertext and tag),
   * or undefined when it is too short or too long, `keyFor` knows no key for
   * its header, or the tag does not verify.
   */
  public open(encoded: string, keyFor: (header: Buffer) => OpeningKey | undefined): string | undefined {
    const most = this.headerBytes + NONCE_BYTES + this.maxMessageBytes + TAG_BYTES;
    if (encoded.length > Math.ceil((most * 4) / 3)) {
      return undefined;
    }
    const view = this.heap();
    const bytes = view.write(encoded, this.token, most, 'base64url');
    const sealedLength = bytes - this.headerBytes - NONCE_BYTES;
    if (sealedLength < TAG_BYTES) {
      return undefined;
    }
    const opening = keyFor(view.subarray(this.token, this.nonce));
    if (opening === undefined || opening.aad.length > MAX_AAD_BYTES) {
      return undefined;
    }
    view.set(opening.aad, this.aad);
    const status = this.sodium._crypto_aead_xchacha20poly1305_ietf_decrypt(
      this.message, 0, 0, this.sealed, sealedLength, 0, this.aad, opening.aad.length, 0, this.nonce, opening.key.pointer);
    if (status !== 0) {
      return undefined;
    }
    const length = sealedLength - TAG_BYTES;
    const text = view.toString('utf8', this.message, this.message + length);
    view.fill(0, this.message, this.message + length);
    return text;
  }

  /** The module's memory as a Buffer; made anew only when the memory grew (which replaces it). */
  private heap(): Buffer {
    const heap = this.sodium.HEAPU8;
    if (this.view === undefined || this.view.buffer !== heap.buffer) {
      this.view = Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength);
    }
    return this.view;
  }

  private allocate(bytes: number): number {
    const pointer = this.sodium._malloc(bytes);
    if (pointer === 0) {
      throw new Error(`libsodium: cannot allocate ${bytes} bytes`);
    }
    return pointer;
  }
}

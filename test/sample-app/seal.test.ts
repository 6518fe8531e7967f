import { createHash, hkdfSync, randomBytes } from 'crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Sealer } from '../../sample-app/src/sessions/seal';
import { XChaCha20Poly1305 } from '../../sample-app/src/sessions/xchacha';
import { SECRET_A, SECRET_B } from '../../local/secrets';

const NOW = 1_800_000_000_000;
const json = JSON.stringify({ counter: 3, cart: ['tea'] });
/** What open() answers for a token holding `json`. */
const OPENED = { status: 'opened', value: { counter: 3, cart: ['tea'] } };
const REJECTED = { status: 'rejected' };
const UNKNOWN_KEY = { status: 'unknown-key' };

describe('Sealer', () => {
  let sealer: Sealer;
  beforeAll(async () => {
    sealer = await Sealer.create([SECRET_A]);
  });

  describe('is XChaCha20-Poly1305: the same tokens as @noble/ciphers\' pure-JS xchacha20poly1305', () => {
    const key = new Uint8Array(hkdfSync('sha256', SECRET_A, 'cdk-session-tier', 'session cookie v1', 32));
    const id = createHash('sha256').update(SECRET_A).digest().subarray(0, 4);
    const aad = Buffer.concat([Buffer.from('s1'), id]);

    test.each([0, 1, 63, 64, 65, 1000])('noble opens what the Sealer sealed (%d-character value)', (length) => {
      const value = JSON.stringify('x'.repeat(length));
      const bytes = Buffer.from(sealer.seal(value, 60_000, NOW).slice(3), 'base64url');
      const plaintext = xchacha20poly1305(key, bytes.subarray(4, 28), aad).decrypt(bytes.subarray(28));
      expect(JSON.parse(Buffer.from(plaintext).toString())).toEqual({ e: NOW + 60_000, d: 'x'.repeat(length) });
    });

    test('the Sealer opens what noble sealed, and refuses it with another associated data', () => {
      const nonce = randomBytes(24);
      const sealed = xchacha20poly1305(key, nonce, aad).encrypt(Buffer.from(`{"e":${NOW + 1000},"d":${json}}`));
      expect(sealer.open(`s1.${Buffer.concat([id, nonce, sealed]).toString('base64url')}`, NOW)).toEqual(OPENED);
      const other = xchacha20poly1305(key, nonce, Buffer.from('s2')).encrypt(Buffer.from(`{"e":${NOW + 1000},"d":${json}}`));
      expect(sealer.open(`s1.${Buffer.concat([id, nonce, other]).toString('base64url')}`, NOW)).toEqual(REJECTED);
    });

    test('nonces never repeat across many seals (the pool hands out fresh slices)', () => {
      const nonces = new Set(Array.from({ length: 2000 }, () => Buffer.from(sealer.seal(json, 1000, NOW).slice(3), 'base64url').subarray(4, 28).toString('hex')));
      expect(nonces.size).toBe(2000);
    });
  });

  test('opens what it sealed until the expiry, and says expired after', () => {
    const token = sealer.seal(json, 60_000, NOW);
    expect(token).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    expect(sealer.open(token, NOW + 59_999)).toEqual(OPENED);
    expect(sealer.open(token, NOW + 60_000)).toEqual({ status: 'expired' });
  });

  test('never shows the plaintext, and two seals of one value differ (random nonce)', () => {
    const a = sealer.seal(json, 60_000, NOW);
    const b = sealer.seal(json, 60_000, NOW);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(3), 'base64url').toString('latin1')).not.toContain('tea');
  });

  test('refuses a token with any byte changed: one of the key id names a key we lack, any other fails the tag', () => {
    const token = sealer.seal(json, 60_000, NOW);
    const bytes = Buffer.from(token.slice(3), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] ^= 0x01;
      expect(sealer.open(`s1.${changed.toString('base64url')}`, NOW)).toEqual(i < 4 ? UNKNOWN_KEY : REJECTED);
    }
  });

  test.each([
    ['another format', 'Fe26.2**abc'],
    ['a truncated token', 's1.AAAA'],
    ['an empty token', ''],
    ['not base64url', 's1.%%%%'],
    ['a key id and nonce without a tag', `s1.${Buffer.alloc(4 + 24 + 15).toString('base64url')}`],
  ])('refuses %s', (_name, token) => {
    expect(sealer.open(token, NOW)).toEqual(REJECTED);
  });

  test('opens a token the previous sealer (HChaCha20 from noble, then OpenSSL through Node) made: no one is logged out by the change', () => {
    const previous = 's1.2XasoRYvp77Q2NUkWeDbKacggh_9EsJXoSHNOQIT9XPgbd7XFY9l-6Kh94x6uALcm5swfam1ooQdBSCKY6VSGx_7WmH7k6mtn_2joi3LMP3olUwmBTYFkI23Q5KHlnJK';
    expect(sealer.open(previous, NOW)).toEqual(OPENED);
  });

  test('a new secret prepended seals; the old one still opens; a sealer without the new one finds its key unknown', async () => {
    const old = sealer.seal(json, 60_000, NOW);
    const rotated = await Sealer.create([SECRET_B, SECRET_A]);
    expect(rotated.open(old, NOW)).toEqual(OPENED);
    const fresh = rotated.seal(json, 60_000, NOW);
    expect(sealer.open(fresh, NOW)).toEqual(UNKNOWN_KEY);
    expect((await Sealer.create([SECRET_B])).open(fresh, NOW)).toEqual(OPENED);
  });
});

describe('XChaCha20Poly1305 (libsodium, called directly)', () => {
  let aead: XChaCha20Poly1305;
  beforeAll(async () => {
    aead = await XChaCha20Poly1305.load(1024, 4);
  });
  const keyBytes = randomBytes(32);
  const nonce = randomBytes(24);
  const aad = Buffer.from('s1abcd');
  const header = Buffer.from('abcd');
  const noble = (text: string) => Buffer.concat([header, nonce, xchacha20poly1305(keyBytes, nonce, aad).encrypt(Buffer.from(text))]).toString('base64url');

  test.each([0, 1, 16, 64, 1000, 1024])('agrees with noble both ways, and keeps working across calls (%d bytes)', (length) => {
    const key = aead.key(keyBytes);
    const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2); // UTF-8, two bytes a character
    const token = aead.seal(key, aad, header, nonce, text);
    expect(token).toBe(noble(text));
    const seen: string[] = [];
    const keyFor = (h: Buffer) => {
      seen.push(h.toString());
      return { key, aad };
    };
    expect(aead.open(token, keyFor)).toBe(text);
    expect(aead.open(noble(text), keyFor)).toBe(text);
    expect(seen).toEqual(['abcd', 'abcd']);
  });

  test('refuses a wrong key, nonce, associated data, header or tag, and anything shorter than a tag or longer than the limit', () => {
    const key = aead.key(keyBytes);
    const token = aead.seal(key, aad, header, nonce, 'hello');
    const bytes = Buffer.from(token, 'base64url');
    const withByte = (i: number) => {
      const changed = Buffer.from(bytes);
      changed[i] ^= 1;
      return changed.toString('base64url');
    };
    expect(aead.open(token, () => ({ key: aead.key(randomBytes(32)), aad }))).toBeUndefined();
    expect(aead.open(token, () => ({ key, aad: Buffer.from('s2abcd') }))).toBeUndefined();
    expect(aead.open(token, () => undefined)).toBeUndefined();
    expect(aead.open(withByte(4), () => ({ key, aad }))).toBeUndefined(); // the nonce
    expect(aead.open(withByte(bytes.length - 1), () => ({ key, aad }))).toBeUndefined(); // the tag
    expect(aead.open(bytes.subarray(0, 4 + 24 + 15).toString('base64url'), () => ({ key, aad }))).toBeUndefined();
    expect(aead.open('A'.repeat(2000), () => ({ key, aad }))).toBeUndefined();
    // And still opens after the refusals.
    expect(aead.open(token, () => ({ key, aad }))).toBe('hello');
  });

  test('says what is wrong with a bad key, header, nonce or size, instead of computing anything', () => {
    const key = aead.key(keyBytes);
    expect(() => aead.key(randomBytes(16))).toThrow('the key must be 32 bytes, got 16');
    expect(() => aead.seal(key, aad, header, randomBytes(12), 'x')).toThrow('the nonce 24');
    expect(() => aead.seal(key, aad, Buffer.from('abc'), nonce, 'x')).toThrow('the header must be 4 bytes');
    expect(() => aead.seal(key, aad, header, nonce, 'é'.repeat(513))).toThrow('at most 1024 bytes per message, got 1026');
  });
});

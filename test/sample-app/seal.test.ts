import { createHash, hkdfSync, randomBytes } from 'crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Sealer } from '../../sample-app/src/sessions/seal';
import { SECRET_A, SECRET_B } from './helpers';

const NOW = 1_800_000_000_000;
const json = JSON.stringify({ counter: 3, cart: ['tea'] });

describe('Sealer', () => {
  const sealer = new Sealer([SECRET_A]);

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
      expect(sealer.open(`s1.${Buffer.concat([id, nonce, sealed]).toString('base64url')}`, NOW)).toEqual({ counter: 3, cart: ['tea'] });
      const other = xchacha20poly1305(key, nonce, Buffer.from('s2')).encrypt(Buffer.from(`{"e":${NOW + 1000},"d":${json}}`));
      expect(sealer.open(`s1.${Buffer.concat([id, nonce, other]).toString('base64url')}`, NOW)).toBeUndefined();
    });

    test('nonces never repeat across many seals (the pool hands out fresh slices)', () => {
      const nonces = new Set(Array.from({ length: 2000 }, () => Buffer.from(sealer.seal(json, 1000, NOW).slice(3), 'base64url').subarray(4, 28).toString('hex')));
      expect(nonces.size).toBe(2000);
    });
  });

  test('opens what it sealed until the expiry, and not after', () => {
    const token = sealer.seal(json, 60_000, NOW);
    expect(token).toMatch(/^s1\.[A-Za-z0-9_-]+$/);
    expect(sealer.open(token, NOW + 59_999)).toEqual({ counter: 3, cart: ['tea'] });
    expect(sealer.open(token, NOW + 60_000)).toBeUndefined();
  });

  test('never shows the plaintext, and two seals of one value differ (random nonce)', () => {
    const a = sealer.seal(json, 60_000, NOW);
    const b = sealer.seal(json, 60_000, NOW);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(3), 'base64url').toString('latin1')).not.toContain('tea');
  });

  test('refuses a token with any byte changed', () => {
    const token = sealer.seal(json, 60_000, NOW);
    const bytes = Buffer.from(token.slice(3), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] ^= 0x01;
      expect(sealer.open(`s1.${changed.toString('base64url')}`, NOW)).toBeUndefined();
    }
  });

  test.each([
    ['another format', 'Fe26.2**abc'],
    ['a truncated token', 's1.AAAA'],
    ['an empty token', ''],
    ['not base64url', 's1.%%%%'],
  ])('refuses %s', (_name, token) => {
    expect(sealer.open(token, NOW)).toBeUndefined();
  });

  test('a new secret prepended seals; the old one still opens; an unknown one does not', () => {
    const old = sealer.seal(json, 60_000, NOW);
    const rotated = new Sealer([SECRET_B, SECRET_A]);
    expect(rotated.open(old, NOW)).toEqual({ counter: 3, cart: ['tea'] });
    const fresh = rotated.seal(json, 60_000, NOW);
    expect(sealer.open(fresh, NOW)).toBeUndefined();
    expect(new Sealer([SECRET_B]).open(fresh, NOW)).toEqual({ counter: 3, cart: ['tea'] });
  });
});

import { Sealer } from '../../sample-app/src/sessions/seal';
import { SECRET_A, SECRET_B } from './helpers';

const NOW = 1_800_000_000_000;
const json = JSON.stringify({ counter: 3, cart: ['tea'] });

describe('Sealer', () => {
  const sealer = new Sealer([SECRET_A]);

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

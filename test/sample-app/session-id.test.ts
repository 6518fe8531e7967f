import { ID_KEY, SECRET_A } from '../../local/secrets';
import { isValidSessionId, newSessionId } from '../../sample-app/src/sessions/session';
import { SessionIds } from '../../sample-app/src/sessions/session-id';

describe('SessionIds', () => {
  const ids = new SessionIds([ID_KEY]);

  test('with a key, issues ids of 43 base64url characters that verify as issued, and never the same twice', () => {
    const issued = Array.from({ length: 100 }, () => ids.issue());
    expect(new Set(issued).size).toBe(100);
    for (const id of issued) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(ids.check(id)).toBe('issued');
      expect(isValidSessionId(id)).toBe(true);
    }
  });

  test('refuses a signed id under another key, a changed character, and any other shape; takes an unsigned id unverified', () => {
    const id = ids.issue();
    expect(new SessionIds([SECRET_A]).check(id)).toBe('rejected');
    for (const i of [0, 21, 22, 42]) {
      const changed = id.slice(0, i) + (id[i] === 'A' ? 'B' : 'A') + id.slice(i + 1);
      expect(ids.check(changed)).toBe('rejected');
    }
    for (const other of ['', 'x'.repeat(42), 'x'.repeat(44), `${id.slice(0, 42)}.`, '../../etc/passwd']) {
      expect(ids.check(other)).toBe('rejected');
    }
    expect(ids.check(newSessionId())).toBe('unverified');
  });

  test('only the canonical spelling of an id verifies (base64url\'s last character carries spare bits)', () => {
    const id = ids.issue();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = [...alphabet].map((c) => id.slice(0, 42) + c).filter((v) => v !== id && Buffer.from(v, 'base64url').equals(Buffer.from(id, 'base64url')));
    expect(sameBytes.length).toBeGreaterThan(0);
    for (const variant of sameBytes) {
      expect(ids.check(variant)).toBe('rejected');
    }
  });

  test('rotation: the first key signs, every key verifies', () => {
    const old = ids.issue();
    const rotated = new SessionIds([SECRET_A, ID_KEY]);
    expect(rotated.check(old)).toBe('issued');
    const fresh = rotated.issue();
    expect(new SessionIds([SECRET_A]).check(fresh)).toBe('issued');
    expect(ids.check(fresh)).toBe('rejected');
  });

  test('without keys, issues unsigned ids of 22 characters, and takes either shape unverified', () => {
    const none = new SessionIds([]);
    expect(none.signing).toBe(false);
    expect(none.issue()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(none.check(ids.issue())).toBe('unverified');
    expect(none.check(newSessionId())).toBe('unverified');
    expect(none.check('x'.repeat(30))).toBe('rejected');
  });
});

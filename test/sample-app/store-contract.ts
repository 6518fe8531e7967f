/**
 * The contract every server-side session store keeps, as a reusable suite:
 * each store's test file calls it with a factory for a fresh store.
 */
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { SessionConflictError, SessionStore } from '../../sample-app/src/sessions/store';

/** What a store's contract run needs to know of it. */
export interface StoreContractOptions {
  /** The store drops a session the moment it expires (Redis), so it never holds one expired. @default false */
  readonly dropsExpired?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function describeStoreContract(name: string, factory: () => Promise<SessionStore>, options: StoreContractOptions = {}): void {
  describe(`${name} store contract`, () => {
    let store: SessionStore;
    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    test('an unknown session loads as undefined', async () => {
      expect(await store.load(newSessionId())).toBeUndefined();
    });

    test('saves a new session at version 1 and loads what it saved', async () => {
      const id = newSessionId();
      const data = { ...newSessionData(1_700_000_000_000), counter: 3, cart: ['a', 'b'], user: 'ann' };
      expect(await store.save(id, data, 0, 60)).toBe(1);
      expect(await store.load(id)).toEqual({ data, version: 1 });
    });

    test('each save with the version read moves the version on by one', async () => {
      const id = newSessionId();
      await store.save(id, newSessionData(1), 0, 60);
      expect(await store.save(id, { ...newSessionData(1), counter: 1 }, 1, 60)).toBe(2);
      expect(await store.save(id, { ...newSessionData(1), counter: 2 }, 2, 60)).toBe(3);
      expect((await store.load(id))!.data.counter).toBe(2);
    });

    test('a save with a stale version is refused and changes nothing', async () => {
      const id = newSessionId();
      await store.save(id, newSessionData(1), 0, 60);
      await store.save(id, { ...newSessionData(1), counter: 1 }, 1, 60);
      await expect(store.save(id, { ...newSessionData(1), counter: 99 }, 1, 60)).rejects.toBeInstanceOf(SessionConflictError);
      await expect(store.save(id, newSessionData(1), 0, 60)).rejects.toBeInstanceOf(SessionConflictError);
      expect(await store.load(id)).toEqual({ data: { ...newSessionData(1), counter: 1 }, version: 2 });
    });

    test('a save expecting a session that is not there is refused', async () => {
      await expect(store.save(newSessionId(), newSessionData(1), 3, 60)).rejects.toBeInstanceOf(SessionConflictError);
    });

    test('destroy removes the session, and destroying twice is fine', async () => {
      const id = newSessionId();
      await store.save(id, newSessionData(1), 0, 60);
      await store.destroy(id);
      await store.destroy(id);
      expect(await store.load(id)).toBeUndefined();
      expect(await store.holdsExpired(id)).toBe(false);
    });

    test('a session expires after its TTL, and touch pushes the expiry out', async () => {
      const kept = newSessionId();
      const dropped = newSessionId();
      await store.save(kept, newSessionData(1), 0, 2);
      await store.save(dropped, newSessionData(1), 0, 2);
      await sleep(1200);
      await store.touch(kept, 3);
      await sleep(1300);
      expect(await store.load(dropped)).toBeUndefined();
      expect(await store.load(kept)).toEqual({ data: newSessionData(1), version: 1 });
      // Until its sweep, a store still holds the expired session, and says so (a late cookie is expired, not lost).
      expect(await store.holdsExpired(dropped)).toBe(!options.dropsExpired);
      expect(await store.holdsExpired(kept)).toBe(false);
      expect(await store.holdsExpired(newSessionId())).toBe(false);
    });

    test('of many concurrent saves with the same version exactly one wins', async () => {
      const id = newSessionId();
      await store.save(id, newSessionData(1), 0, 60);
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => store.save(id, { ...newSessionData(1), counter: i }, 1, 60)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof SessionConflictError)).toHaveLength(19);
      expect((await store.load(id))!.version).toBe(2);
    });
  });
}

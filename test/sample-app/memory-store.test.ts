import { MemoryStore } from '../../sample-app/src/sessions/memory';
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { describeStoreContract } from './store-contract';

describeStoreContract('memory', async () => new MemoryStore());

test('the memory store holds at most maxSessions, dropping the one closest to expiry', async () => {
  const store = new MemoryStore(3);
  const ids = [newSessionId(), newSessionId(), newSessionId(), newSessionId()];
  await store.save(ids[0], newSessionData(1), 0, 10);
  await store.save(ids[1], newSessionData(1), 0, 100);
  await store.save(ids[2], newSessionData(1), 0, 100);
  await store.save(ids[3], newSessionData(1), 0, 100);
  expect(store.size).toBe(3);
  expect(await store.load(ids[0])).toBeUndefined();
  expect(await store.load(ids[3])).toBeDefined();
  await store.close();
});

/**
 * The redis store against real Redis: the server on 127.0.0.1:6379 for the
 * contract, and a server of the test's own that it kills and restarts for the
 * outage, and stops and lets go on for the hang.
 */
import { randomBytes } from 'crypto';
import { createClient } from '@redis/client';
import { Client } from '../../local/http-client';
import { RedisServer } from '../../local/redis-server';
import { RedisStore } from '../../sample-app/src/sessions/redis';
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { StoreUnavailableError } from '../../sample-app/src/sessions/store';
import { startApp } from './helpers';
import { describeStoreContract } from './store-contract';

/** Keys of this run only, so that runs never see each other's sessions. */
const prefix = `test:${randomBytes(4).toString('hex')}:`;
const local = { host: '127.0.0.1', port: 6379, tls: false, keyPrefix: prefix };
const admin = createClient({ socket: { host: '127.0.0.1', port: 6379 } });

beforeAll(async () => {
  await admin.connect();
});
afterAll(async () => {
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) {
    await admin.del(keys);
  }
  admin.destroy();
});

describeStoreContract('redis', () => RedisStore.connect(local), { dropsExpired: true });

describe('the redis store', () => {
  let store: RedisStore;
  beforeEach(async () => {
    store = await RedisStore.connect(local);
  });
  afterEach(() => store.close());

  test('keeps a session as a hash of version and JSON, with a TTL that each save slides', async () => {
    const id = newSessionId();
    await store.save(id, newSessionData(5), 0, 100);
    expect(await admin.hGetAll(`${prefix}${id}`)).toEqual({ v: '1', d: JSON.stringify(newSessionData(5)) });
    expect(await admin.ttl(`${prefix}${id}`)).toBeGreaterThan(95);
    await admin.expire(`${prefix}${id}`, 10);
    await store.save(id, newSessionData(5), 1, 100);
    expect(await admin.ttl(`${prefix}${id}`)).toBeGreaterThan(95);
    await store.touch(id, 500);
    expect(await admin.ttl(`${prefix}${id}`)).toBeGreaterThan(495);
  });

  test('a hash that is not a session (written by hand, or by another app) loads as no session', async () => {
    const id = newSessionId();
    await admin.hSet(`${prefix}${id}`, { v: '3', d: '{"createdAt":"yesterday"}' });
    expect(await store.load(id)).toBeUndefined();
    await admin.hSet(`${prefix}${id}`, 'd', 'not json');
    expect(await store.load(id)).toBeUndefined();
  });
});

describe('a Redis outage', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server.kill());

  test('the store fails fast with StoreUnavailableError while Redis is down, and works again once it is back', async () => {
    const store = await RedisStore.connect({ host: '127.0.0.1', port: server.port, tls: false });
    try {
      const id = newSessionId();
      expect(await store.save(id, newSessionData(1), 0, 60)).toBe(1);
      await server.kill();
      const started = Date.now();
      await expect(store.load(id)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.save(id, newSessionData(1), 1, 60)).rejects.toThrow(/^redis: /);
      expect(Date.now() - started).toBeLessThan(5000);
      await server.restart();
      await waitForStore(store);
      // Nothing was kept on disk: the session is gone, and a new one saves.
      expect(await store.load(id)).toBeUndefined();
      expect(await store.save(id, newSessionData(1), 0, 60)).toBe(1);
    } finally {
      await store.close();
      await server.restart();
    }
  });

  test('a command that Redis does not answer (a hung server) fails after the command timeout, a quarter more at most, and the store works again once Redis answers', async () => {
    const store = await RedisStore.connect({ host: '127.0.0.1', port: server.port, tls: false, commandTimeoutMs: 300 });
    try {
      const id = newSessionId();
      expect(await store.save(id, newSessionData(1), 0, 60)).toBe(1);
      server.pause();
      const started = Date.now();
      const waiting = [store.load(id), store.save(id, newSessionData(1), 1, 60)].map((p) => p.then(() => 'answered', (e: unknown) => e));
      const [load, save] = await Promise.all(waiting);
      const waited = Date.now() - started;
      expect(load).toBeInstanceOf(StoreUnavailableError);
      expect(save).toBeInstanceOf(StoreUnavailableError);
      expect((save as Error).message).toMatch(/^redis: no answer within 300 ms; the connection was dropped and is reconnecting/);
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(waited).toBeLessThan(375 + 200);
      server.resume();
      await waitForStore(store);
      // The save that was cut off may or may not have reached Redis before it stopped; the version check settles which.
      const loaded = await store.load(id);
      expect([1, 2]).toContain(loaded!.version);
      expect(await store.save(id, newSessionData(1), loaded!.version, 60)).toBe(loaded!.version + 1);
    } finally {
      server.resume();
      await store.close();
    }
  });

  test('the app answers 503 for sessions and 200 for /health while Redis is down, and recovers without a restart', async () => {
    const app = await startApp({ SESSION_STRATEGY: 'redis', SESSION_REDIS_HOST: '127.0.0.1', SESSION_REDIS_PORT: String(server.port) });
    try {
      const client = new Client(app.url);
      expect((await client.post('/api/counter')).status).toBe(200);
      await server.kill();
      const down = await client.post('/api/counter');
      expect(down.status).toBe(503);
      expect(down.json).toEqual({ error: 'session store unavailable; try again shortly' });
      expect((await client.get('/')).status).toBe(503);
      expect((await client.get('/health')).status).toBe(200);
      await server.restart();
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await client.post('/api/counter')).status;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
      const metrics = await client.get('/metrics');
      expect(metrics.json.store_errors).toBeGreaterThanOrEqual(2);
    } finally {
      await app.close();
    }
  });
});

/** Waits until the store's client has reconnected. */
async function waitForStore(store: RedisStore): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await store.load(newSessionId());
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('the store did not reconnect within 10 s');
}

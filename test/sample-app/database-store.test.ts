/**
 * The database store against real servers: a PostgreSQL primary with a
 * streaming replica that these tests start (and make lag by pausing its
 * replay), and Redis for the write-through cache (the one on 6379, or one of
 * the tests' own to kill). The MySQL dialect: database-mysql.test.ts.
 */
import { randomBytes } from 'crypto';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AppProcess, spawnApp } from '../../local/app-process';
import { Client } from '../../local/http-client';
import { waitFor } from '../../local/ports';
import { PostgresCluster } from '../../local/postgres';
import { RedisServer } from '../../local/redis-server';
import { ID_KEY } from '../../local/secrets';
import { DatabaseStore, DatabaseStoreOptions } from '../../sample-app/src/sessions/database/store';
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { SessionIds } from '../../sample-app/src/sessions/session-id';
import { SessionConflictError } from '../../sample-app/src/sessions/store';
import { sharedStoreScenarios } from './shared-scenarios';
import { describeStoreContract } from './store-contract';

jest.setTimeout(90_000);

/** A cache key prefix of this run's own, so runs never see each other's entries. */
const prefix = () => `test-db-${randomBytes(4).toString('hex')}:`;
const LOCAL_CACHE = { host: '127.0.0.1', port: 6379, tls: false };

describe('PostgreSQL primary and streaming replica', () => {
  let cluster: PostgresCluster;
  const opened: DatabaseStore[] = [];
  beforeAll(async () => {
    cluster = await PostgresCluster.start();
  });
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    await cluster?.destroy();
  });

  const options = (over: Partial<DatabaseStoreOptions> = {}): DatabaseStoreOptions => ({ ...cluster.storeOptions, sweepIntervalSeconds: 0, ...over });
  const open = async (over: Partial<DatabaseStoreOptions> = {}) => {
    const store = await DatabaseStore.open(options(over));
    opened.push(store);
    return store;
  };
  const rows = async () => Number((await cluster.primary.query<{ n: string }>('SELECT count(*) AS n FROM sessions', [], cluster.database))[0].n);

  describeStoreContract('postgres, reads from the replica', () => DatabaseStore.open(options()));
  describeStoreContract('postgres with the write-through cache', () => DatabaseStore.open(options({ cache: { ...LOCAL_CACHE, keyPrefix: prefix() } })));

  test('the schema exists once however many stores start at once, with a version column and an expiry index', async () => {
    await Promise.all([1, 2, 3, 4].map(() => open()));
    const columns = await cluster.primary.query<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions' ORDER BY ordinal_position", [], cluster.database);
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'version', 'data', 'expires_at']);
    const indexes = await cluster.primary.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = 'sessions'", [], cluster.database);
    expect(indexes.map((i) => i.indexname).sort()).toEqual(['sessions_expires_at', 'sessions_pkey']);
  });

  test('a table of a release before signed ids is widened at start, and keeps its sessions', async () => {
    await cluster.primary.query('CREATE DATABASE legacy');
    await cluster.primary.query('CREATE TABLE sessions (id varchar(22) PRIMARY KEY, version bigint NOT NULL, data text NOT NULL, expires_at bigint NOT NULL)', [], 'legacy');
    const old = newSessionId();
    await cluster.primary.query('INSERT INTO sessions VALUES ($1, 1, $2, $3)', [old, JSON.stringify(newSessionData(1)), Date.now() + 60_000], 'legacy');
    const store = await open({ database: 'legacy', replicas: [] });
    const [{ width }] = await cluster.primary.query<{ width: number }>(
      "SELECT character_maximum_length AS width FROM information_schema.columns WHERE table_name = 'sessions' AND column_name = 'id'", [], 'legacy');
    expect(width).toBe(64);
    const signed = new SessionIds([ID_KEY]).issue();
    expect(await store.save(signed, newSessionData(2), 0, 60)).toBe(1);
    expect(await store.load(signed)).toEqual({ version: 1, data: newSessionData(2) });
    expect(await store.load(old)).toEqual({ version: 1, data: newSessionData(1) });
  });

  test('a caught-up replica answers the reads; a lagging one really serves old data to a process that did not write', async () => {
    const writer = await open();
    const reader = await open();
    const id = newSessionId();
    await writer.save(id, { ...newSessionData(1), counter: 1 }, 0, 60);
    await cluster.caughtUp();
    expect((await reader.load(id))!.data.counter).toBe(1);
    expect(reader.reads).toMatchObject({ replica: 1, primary: 0 });

    await cluster.whileReplayPaused(async () => {
      await writer.save(id, { ...newSessionData(1), counter: 2 }, 1, 60);
      // Nothing tells the reader a newer version exists: the replica's version 1 is what it sees.
      expect(await reader.load(id)).toMatchObject({ version: 1, data: { counter: 1 } });
    });
  });

  test('no stale read after a write while the replica lags: not in the writing process, nor through the cache in another', async () => {
    const cache = { ...LOCAL_CACHE, keyPrefix: prefix() };
    const writer = await open();
    const cachedWriter = await open({ cache });
    const cachedReader = await open({ cache });
    const a = newSessionId();
    const b = newSessionId();
    await writer.save(a, newSessionData(1), 0, 60);
    await cachedWriter.save(b, newSessionData(1), 0, 60);
    await cluster.caughtUp();
    await cluster.whileReplayPaused(async () => {
      for (let v = 1; v <= 3; v++) {
        await writer.save(a, { ...newSessionData(1), counter: v }, v, 60);
        expect(await writer.load(a)).toMatchObject({ version: v + 1, data: { counter: v } });
        await cachedWriter.save(b, { ...newSessionData(1), counter: v }, v, 60);
        expect(await cachedReader.load(b)).toMatchObject({ version: v + 1, data: { counter: v } });
      }
      expect(writer.reads.staleReplica).toBe(3);
      expect(writer.reads.primary).toBe(3);
      expect(cachedReader.reads.cache).toBe(3);
      // The replica still holds version 1 of both.
      expect((await cluster.replica.query<{ version: string }>('SELECT version FROM sessions WHERE id = $1', [a], cluster.database))[0].version).toBe('1');
    });
  });

  test('a save that conflicts because of a stale replica read makes the retry read the primary', async () => {
    const writer = await open();
    const other = await open();
    const id = newSessionId();
    await writer.save(id, newSessionData(1), 0, 60);
    await cluster.caughtUp();
    await cluster.whileReplayPaused(async () => {
      await writer.save(id, { ...newSessionData(1), counter: 5 }, 1, 60);
      const stale = (await other.load(id))!;
      expect(stale.version).toBe(1);
      await expect(other.save(id, stale.data, stale.version, 60)).rejects.toThrow(SessionConflictError);
      expect(await other.load(id)).toMatchObject({ version: 2, data: { counter: 5 } });
    });
  });

  test('a destroyed session stays destroyed for the process that destroyed it, though the lagging replica still has it', async () => {
    const store = await open();
    const id = newSessionId();
    await store.save(id, newSessionData(1), 0, 60);
    await cluster.caughtUp();
    await cluster.whileReplayPaused(async () => {
      await store.destroy(id);
      expect(await store.load(id)).toBeUndefined();
    });
  });

  test('expired rows are swept in batches; live ones stay', async () => {
    const store = await open({ sweepBatchSize: 10 });
    const expired = Array.from({ length: 25 }, () => newSessionId());
    const live = newSessionId();
    await Promise.all(expired.map((id) => store.save(id, newSessionData(1), 0, 1)));
    await store.save(live, newSessionData(1), 0, 600);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await store.sweep()).toBeGreaterThanOrEqual(25);
    const left = await cluster.primary.query('SELECT id FROM sessions WHERE id = ANY($1)', [[...expired, live]], cluster.database);
    expect(left).toEqual([{ id: live }]);
  });

  test('an expired row not yet swept counts as absent: a new session of that id starts one version on', async () => {
    const store = await open();
    const id = newSessionId();
    await store.save(id, { ...newSessionData(1), counter: 3 }, 0, 1);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await store.load(id)).toBeUndefined();
    expect(await store.save(id, newSessionData(2), 0, 60)).toBe(2);
    expect(await store.load(id)).toEqual({ version: 2, data: newSessionData(2) });
  });

  test('SQL takes values only as parameters: hostile ids are stored and found verbatim, and the table stays', async () => {
    const store = await open();
    const before = await rows();
    // At most 22 characters, the width of the id column.
    for (const id of ["' OR '1'='1", "x';DROP TABLE t;--", '$1', '\\\'; --']) {
      expect(await store.load(id)).toBeUndefined();
      expect(await store.save(id, newSessionData(1), 0, 60)).toBe(1);
      expect((await store.load(id))!.version).toBe(1);
      await store.destroy(id);
    }
    expect(await rows()).toBe(before);
  });

  test('a replica that is down is skipped: reads go to the primary, without errors', async () => {
    const store = await open();
    const id = newSessionId();
    await store.save(id, { ...newSessionData(1), counter: 7 }, 0, 60);
    await cluster.replica.stop();
    try {
      for (let i = 0; i < 5; i++) {
        expect((await store.load(id))!.data.counter).toBe(7);
      }
      // The first read found it down; the next ones did not wait for it again.
      expect(store.reads.fallbacks).toBe(1);
      expect(store.reads.primary).toBe(5);
    } finally {
      await cluster.replica.start();
      await cluster.caughtUp();
    }
  });

  test('what the cache missed while it was down is soon no longer served from it once it is back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'db-cache-'));
    // Kept on disk: the cache comes back holding the versions it had, as a node that fails over does.
    const redis = await RedisServer.start({ dataDir });
    try {
      const cache = { host: '127.0.0.1', port: redis.port, tls: false };
      const writer = await open({ cache });
      const reader = await open({ cache });
      const [changed, destroyed, probe] = [newSessionId(), newSessionId(), newSessionId()];
      await writer.save(changed, { ...newSessionData(1), counter: 1 }, 0, 60);
      await writer.save(destroyed, newSessionData(1), 0, 60);
      await writer.save(probe, newSessionData(1), 0, 60);
      await redis.kill();
      await writer.save(changed, { ...newSessionData(1), counter: 2 }, 1, 60);
      await writer.destroy(destroyed);
      expect(writer.reads.fallbacks).toBe(2);
      await redis.restart();
      await cluster.caughtUp();
      await waitFor('the reader to read from the cache again', async () => {
        const before = reader.reads.cache;
        await reader.load(probe);
        return reader.reads.cache > before;
      });
      // The cache still held version 1 of both; the writer deletes them from it once it can.
      await waitFor('the cache to drop what it missed', async () =>
        (await reader.load(changed))?.version === 2 && (await reader.load(destroyed)) === undefined, 5000);
      expect(await reader.load(changed)).toMatchObject({ version: 2, data: { counter: 2 } });
    } finally {
      await redis.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a cache that hangs (stopped, its connections open) holds a request up for at most its 500 ms deadline and a quarter, and is used again once it answers', async () => {
    const redis = await RedisServer.start();
    try {
      const store = await open({ cache: { host: '127.0.0.1', port: redis.port, tls: false } });
      const id = newSessionId();
      await store.save(id, { ...newSessionData(1), counter: 1 }, 0, 60);
      redis.pause();
      let started = Date.now();
      await store.save(id, { ...newSessionData(1), counter: 2 }, 1, 60);
      const saveWaited = Date.now() - started;
      started = Date.now();
      const loaded = await store.load(id);
      const loadWaited = Date.now() - started;
      expect(loaded).toMatchObject({ version: 2, data: { counter: 2 } });
      expect(store.reads.fallbacks).toBe(2);
      // The save's cache write was cut off at the deadline; the load then found the client reconnecting
      // (failing at once) or connected to the stopped server again (cut off in turn).
      expect(saveWaited).toBeGreaterThanOrEqual(490);
      expect(saveWaited).toBeLessThan(625 + 200);
      expect(loadWaited).toBeLessThan(625 + 200);
      redis.resume();
      // Replica reads do not fill the cache; a save does, and the load after it is answered from the cache.
      await waitFor('the store to read from the cache again', async () => {
        const { version } = (await store.load(id))!;
        await store.save(id, { ...newSessionData(1), counter: version + 1 }, version, 60);
        const before = store.reads.cache;
        await store.load(id);
        return store.reads.cache > before;
      });
    } finally {
      redis.resume();
      await redis.kill();
    }
  });

  describe('through the app', () => {
    let redis: RedisServer;
    let apps: AppProcess[];
    beforeAll(async () => {
      redis = await RedisServer.start();
      const env = {
        SESSION_STRATEGY: 'database',
        SESSION_DB_ENGINE: 'postgres',
        SESSION_DB_HOST: '127.0.0.1',
        SESSION_DB_PORT: String(cluster.primary.port),
        SESSION_DB_REPLICAS: `127.0.0.1:${cluster.replica.port}`,
        SESSION_DB_NAME: cluster.database,
        SESSION_DB_USER: 'postgres',
        SESSION_DB_CACHE: 'true',
        SESSION_REDIS_HOST: '127.0.0.1',
        SESSION_REDIS_PORT: String(redis.port),
        SESSION_ID_KEYS: ID_KEY,
      };
      apps = await Promise.all([1, 2].map(() => spawnApp(env)));
    });
    afterAll(async () => {
      await Promise.all((apps ?? []).map((a) => a.stop()));
      await redis?.kill();
    });

    sharedStoreScenarios('database', () => apps);

    test('hostile cart items and cookies reach the database only as parameters', async () => {
      const user = new Client(apps[0].url);
      const items = ["'); DROP TABLE sessions; --", "\\' OR 1=1 --", 'Robert"); DELETE FROM sessions; --', '$1 $2 ?', 'ünïcødé ☕'];
      for (const item of items) {
        expect((await user.post('/api/cart', { item })).status).toBe(200);
      }
      expect((await user.get('/api/session')).json.cart).toEqual(items);
      const intruder = new Client(apps[1].url);
      intruder.jar.set('sid', "' OR '1'='1");
      const res = await intruder.get('/api/session');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ counter: 0, cart: [] });
      expect(intruder.jar.get('sid')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await rows()).toBeGreaterThan(0);
    });

    test('the cache down: requests still succeed from the database, and the cache fills again once it is back', async () => {
      const user = new Client(apps[0].url);
      expect((await user.post('/api/counter')).status).toBe(200);
      await redis.kill();
      try {
        for (let i = 0; i < 5; i++) {
          expect((await user.at(apps[i % 2].url).post('/api/counter')).status).toBe(200);
        }
        expect((await user.get('/api/session')).json.counter).toBe(6);
      } finally {
        await redis.restart();
      }
      await waitFor('the cache to be used again', async () => (await user.post('/api/counter')).status === 200);
    });

    test('the primary down: 503 on session routes while /health answers, then recovery without a restart', async () => {
      const user = new Client(apps[0].url);
      expect((await user.post('/api/counter')).status).toBe(200);
      await cluster.primary.stop();
      try {
        const res = await user.post('/api/counter');
        expect(res.status).toBe(503);
        expect(res.json).toEqual({ error: 'session store unavailable; try again shortly' });
        expect((await fetch(`${apps[0].url}/health`)).status).toBe(200);
      } finally {
        await cluster.primary.start();
      }
      await waitFor('the app to reach the primary again', async () => (await user.post('/api/counter')).status === 200, 20_000);
      // The session survived the outage: one increment before, one after (failed tries changed nothing).
      expect((await user.get('/api/session')).json.counter).toBe(2);
    });
  });
});

/**
 * The database strategy without the cache while its replica lags: a session
 * created on one instance and used at once on another must not count as
 * absent there, and forged ids must not buy a read of the primary each.
 * Against a PostgreSQL primary and a streaming replica these tests start,
 * the replica made to lag by pausing its replay.
 */
import { AppProcess, spawnApp } from '../../local/app-process';
import { CounterApp, startCounterApp } from '../../local/counter-app';
import { Client } from '../../local/http-client';
import { PostgresCluster } from '../../local/postgres';
import { ID_KEY } from '../../local/secrets';
import { Metrics } from '../../sample-app/src/metrics';
import { DatabaseStore } from '../../sample-app/src/sessions/database/store';
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { SessionIds } from '../../sample-app/src/sessions/session-id';
import { StoreUnavailableError } from '../../sample-app/src/sessions/store';

jest.setTimeout(90_000);

let cluster: PostgresCluster;
const opened: Array<{ close(): Promise<unknown> }> = [];
beforeAll(async () => {
  cluster = await PostgresCluster.start();
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await cluster?.destroy();
});

const open = async () => {
  const store = await DatabaseStore.open({ ...cluster.storeOptions, sweepIntervalSeconds: 0 });
  opened.push(store);
  return store;
};

test('an issued id the replica does not know yet is read from the primary; an unverified one, as before, is not', async () => {
  const writer = await open();
  const reader = await open();
  await open(); // the table exists before the replica is paused
  await cluster.caughtUp();
  await cluster.whileReplayPaused(async () => {
    const issued = new SessionIds([ID_KEY]).issue();
    const unverified = newSessionId();
    await writer.save(issued, { ...newSessionData(1), counter: 1 }, 0, 60);
    await writer.save(unverified, { ...newSessionData(1), counter: 1 }, 0, 60);
    expect(await reader.load(issued, { issued: true })).toMatchObject({ version: 1, data: { counter: 1 } });
    expect(await reader.load(unverified)).toBeUndefined();
    expect(reader.reads).toMatchObject({ absentOnReplica: 1, primary: 1, replica: 1 });
  });
});

test('a refusal decided on a lagging replica\'s copy is decided again on the primary\'s', async () => {
  const writer = await open();
  const reader = await open();
  const id = newSessionId();
  await writer.save(id, { ...newSessionData(1), cart: ['a', 'b'] }, 0, 60);
  await cluster.caughtUp();
  await cluster.whileReplayPaused(async () => {
    await writer.save(id, { ...newSessionData(1), cart: ['a', 'b', 'c'] }, 1, 60);
    expect((await reader.load(id))!.data.cart).toHaveLength(2);
    expect((await reader.load(id, { latest: true }))!.data.cart).toHaveLength(3);
  });
});

test('a writer endpoint that reaches a read-only replica (a failover under way) is a 503, not a failed statement', async () => {
  await open();
  await cluster.caughtUp();
  // The table is there (replicated), so the start-up migration writes nothing and the store opens.
  const onReplica = await DatabaseStore.open({ ...cluster.storeOptions, primary: cluster.storeOptions.replicas[0], sweepIntervalSeconds: 0 });
  try {
    // Its first write fails as "unavailable", with the server's reason.
    const saved = await onReplica.save(newSessionId(), newSessionData(1), 0, 60).catch((e: unknown) => e);
    expect(saved).toBeInstanceOf(StoreUnavailableError);
    expect((saved as Error).message).toMatch(/read-only transaction/);
  } finally {
    await onReplica.close();
  }
});

describe('two instances without the cache, signing ids with one key', () => {
  let apps: AppProcess[];
  beforeAll(async () => {
    const env = {
      SESSION_STRATEGY: 'database',
      SESSION_DB_HOST: '127.0.0.1',
      SESSION_DB_PORT: String(cluster.primary.port),
      SESSION_DB_REPLICAS: `127.0.0.1:${cluster.replica.port}`,
      SESSION_DB_NAME: cluster.database,
      SESSION_DB_USER: 'postgres',
      SESSION_ID_KEYS: ID_KEY,
    };
    apps = await Promise.all([1, 2].map(() => spawnApp(env)));
  });
  afterAll(async () => {
    await Promise.all((apps ?? []).map((a) => a.stop()));
  });

  test('a session created on one and used at once on the other, before the replica replayed it, is kept', async () => {
    await cluster.caughtUp();
    await cluster.whileReplayPaused(async () => {
      const onA = new Client(apps[0].url);
      const created = await onA.post('/api/counter');
      expect(created.json.counter).toBe(1);
      const sid = onA.jar.get('sid');
      const onB = await onA.at(apps[1].url).post('/api/counter');
      expect(onB.json.counter).toBe(2);
      expect(onA.jar.get('sid')).toBe(sid);
      expect(sid).toHaveLength(43);
    });
  });
});

describe('forged ids', () => {
  const servers: CounterApp[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  /** An instance in this process, on a store whose reads the test can count. */
  async function instance(ids: SessionIds): Promise<{ url: string; store: DatabaseStore; metrics: Metrics }> {
    const store = await open();
    const app = await startCounterApp(store, ids);
    servers.push(app);
    return { url: app.url, store, metrics: app.metrics };
  }

  const N = 50;
  const send = async (url: string, sid: string) => {
    const res = await fetch(`${url}/counter`, { method: 'POST', headers: { cookie: `sid=${sid}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as { counter: number };
  };

  test(`${N} forged ids of the signed shape cost no read at all; ${N} of the unsigned shape cost no primary read`, async () => {
    const { url, store, metrics } = await instance(new SessionIds([ID_KEY]));
    const forger = new SessionIds(['f'.repeat(40)]);
    for (let i = 0; i < N; i++) {
      expect((await send(url, forger.issue())).counter).toBe(1);
    }
    expect(metrics.rejected).toBe(N);
    expect(store.reads).toMatchObject({ primary: 0, replica: 0, cache: 0 });
    for (let i = 0; i < N; i++) {
      expect((await send(url, newSessionId())).counter).toBe(1);
    }
    expect(store.reads).toMatchObject({ primary: 0, replica: N });
  });
});

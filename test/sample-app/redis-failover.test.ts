/**
 * A Redis failover as ElastiCache Multi-AZ makes it: the replica is promoted,
 * the old primary demoted to a replica of it (it answers READONLY to writes
 * on the connections still open to it), and the endpoint moves (here a TCP
 * proxy of the tests' own, standing in for the primary endpoint's DNS name).
 * Both Redis-backed stores must drop such a connection and reach the new
 * primary through the endpoint, without a restart.
 */
import { Client } from '../../local/http-client';
import { ScratchDatabase } from '../../local/mariadb';
import { waitFor } from '../../local/ports';
import { RedisServer } from '../../local/redis-server';
import { TcpProxy } from '../../local/tcp-proxy';
import { DatabaseStore } from '../../sample-app/src/sessions/database/store';
import { RedisStore } from '../../sample-app/src/sessions/redis';
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { StoreUnavailableError } from '../../sample-app/src/sessions/store';
import { startApp } from './helpers';

let first: RedisServer;
let second: RedisServer;
let endpoint: TcpProxy;

beforeEach(async () => {
  [first, second] = await Promise.all([RedisServer.start(), RedisServer.start()]);
  await second.replicaOf(first.port);
  await second.inSync();
  endpoint = await TcpProxy.start(first.port);
});
afterEach(async () => {
  await endpoint.close();
  await Promise.all([first.kill(), second.kill()]);
});

/** Promotes the replica, demotes the old primary to a replica of it, and moves the endpoint. */
async function failover(): Promise<void> {
  await second.replicaOf();
  await first.replicaOf(second.port);
  endpoint.moveTo(second.port);
}

test('the redis store: a READONLY answer fails that request with a 503, and the next ones reach the new primary', async () => {
  const store = await RedisStore.connect({ host: '127.0.0.1', port: endpoint.port, tls: false });
  try {
    const id = newSessionId();
    expect(await store.save(id, newSessionData(1), 0, 60)).toBe(1);
    await first.replicatedTo(second);
    await failover();
    const refused = await store.save(id, newSessionData(1), 1, 60).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StoreUnavailableError);
    expect((refused as Error).message).toMatch(/^redis: the server answered READONLY/);
    await waitFor('the store to save on the new primary', async () => (await store.save(id, newSessionData(2), 1, 60)) === 2, 5000);
    expect(await second.command('HGET', `session:${id}`, 'v')).toBe('2');
  } finally {
    await store.close();
  }
});

test('the app on the redis strategy: one 503, then the user goes on with the same session', async () => {
  const app = await startApp({ SESSION_STRATEGY: 'redis', SESSION_REDIS_HOST: '127.0.0.1', SESSION_REDIS_PORT: String(endpoint.port) });
  try {
    const user = new Client(app.url);
    expect((await user.post('/api/counter')).json.counter).toBe(1);
    await first.replicatedTo(second);
    await failover();
    const statuses: number[] = [];
    let last: { counter: number } | undefined;
    for (let i = 0; i < 50 && last === undefined; i++) {
      const res = await user.post('/api/counter');
      statuses.push(res.status);
      last = res.status === 200 ? res.json : undefined;
    }
    expect(statuses[0]).toBe(503);
    expect(last).toMatchObject({ counter: 2 });
  } finally {
    await app.close();
  }
});

describe('the database store\'s write-through cache', () => {
  let scratch: ScratchDatabase;
  beforeAll(async () => {
    scratch = await ScratchDatabase.create('session_failover');
  });
  afterAll(() => scratch?.drop());

  test('a READONLY answer falls back to the database, and the cache is written on the new primary again', async () => {
    const store = await DatabaseStore.open({
      engine: 'mysql', primary: { host: '127.0.0.1', port: 3306 }, replicas: [], database: scratch.name, user: 'root', tls: false,
      sweepIntervalSeconds: 0, cache: { host: '127.0.0.1', port: endpoint.port, tls: false },
    });
    try {
      const id = newSessionId();
      await store.save(id, newSessionData(1), 0, 60);
      await failover();
      const fallbacks = store.reads.fallbacks;
      // The cache write meets the demoted node: the save still succeeds, on the database.
      expect(await store.save(id, { ...newSessionData(1), counter: 1 }, 1, 60)).toBe(2);
      expect(store.reads.fallbacks).toBe(fallbacks + 1);
      let version = 2;
      await waitFor('the cache to take writes on the new primary', async () => {
        version = await store.save(id, { ...newSessionData(1), counter: version }, version, 60);
        return (await second.command('HGET', `session-db:${id}`, 'v')) === String(version);
      }, 5000);
      expect(await store.load(id)).toMatchObject({ version, data: { counter: version - 1 } });
    } finally {
      await store.close();
    }
  });
});

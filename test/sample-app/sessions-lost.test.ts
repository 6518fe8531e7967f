/**
 * Sessions lost, told from new, forged, expired and logged-out ones: the real
 * app over each real store (its memory, Redis, a directory, PostgreSQL with a
 * streaming replica, MariaDB) and with sealed cookies. `sessions_lost` counts
 * a session this fleet issued whose cookie still lives and that the store no
 * longer has, or a cookie sealed under a key this fleet lacks; nothing else.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createClient } from '@redis/client';
import { Client } from '../../local/http-client';
import { ScratchDatabase } from '../../local/mariadb';
import { PostgresCluster } from '../../local/postgres';
import { ID_KEY, SECRET_A, SECRET_B } from '../../local/secrets';
import { AppConfig } from '../../sample-app/src/config';
import { newSessionId } from '../../sample-app/src/sessions/session';
import { SessionIds } from '../../sample-app/src/sessions/session-id';
import { RunningApp, startApp } from './helpers';

jest.setTimeout(90_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The counters `/metrics` serves that tell sessions apart. */
async function counts(running: RunningApp): Promise<{ lost: number; expired: number; rejected: number }> {
  const json = await (await fetch(`${running.url}/metrics`)).json() as Record<string, number>;
  return { lost: json.sessions_lost, expired: json.sessions_expired, rejected: json.sessions_rejected };
}

/** One request carrying `sid` alone, as a client replaying it would send it. */
function sendCookie(running: RunningApp, sid: string) {
  return new Client(running.url).request('GET', '/api/session', { headers: { cookie: `sid=${sid}` } });
}

/** The apps a test started, closed after it. */
const running = new Set<RunningApp>();
afterEach(async () => {
  await Promise.all([...running].map((r) => r.close()));
  running.clear();
});

async function start(env: Record<string, string>, overrides: Partial<AppConfig> = {}): Promise<RunningApp> {
  const app = await startApp(env, overrides);
  running.add(app);
  return app;
}

async function stop(app: RunningApp): Promise<void> {
  running.delete(app);
  await app.close();
}

/** A server-side strategy over its real store, and how its store loses a session. */
interface Backend {
  /** Its environment, with the id key every server-side fleet gets. */
  env(): Record<string, string>;
  /** Whether the store keeps an expired session until its sweep (Redis drops it when its TTL runs out). */
  readonly keepsExpired: boolean;
  /** Makes the store lose `id`'s session, as an outage would; resolves with the app the user reaches afterwards. */
  lose(id: string, app: RunningApp, overrides: Partial<AppConfig>): Promise<RunningApp>;
}

const files = mkdtempSync(join(tmpdir(), 'sessions-lost-'));
const redis = createClient({ socket: { host: '127.0.0.1', port: 6379 } });
let cluster: PostgresCluster;
let mariadb: ScratchDatabase;
beforeAll(async () => {
  [cluster, mariadb] = await Promise.all([PostgresCluster.start(), ScratchDatabase.create('sessions_lost'), redis.connect()]);
});
afterAll(async () => {
  redis.destroy();
  await Promise.all([cluster?.destroy(), mariadb?.drop()]);
  rmSync(files, { recursive: true, force: true });
});

const backends: Record<string, Backend> = {
  'memory (the process restarted)': {
    env: () => ({ SESSION_STRATEGY: 'memory', SESSION_ID_KEYS: ID_KEY }),
    keepsExpired: true,
    lose: async (_id, app, overrides) => {
      await stop(app);
      return start(backends['memory (the process restarted)'].env(), overrides);
    },
  },
  'redis (the key deleted)': {
    env: () => ({ SESSION_STRATEGY: 'redis', SESSION_REDIS_HOST: '127.0.0.1', SESSION_REDIS_PORT: '6379', SESSION_ID_KEYS: ID_KEY }),
    keepsExpired: false,
    lose: async (id, app) => {
      expect(await redis.del(`session:${id}`)).toBe(1);
      return app;
    },
  },
  'file (the file removed)': {
    env: () => ({ SESSION_STRATEGY: 'file', SESSION_FILE_DIR: files, SESSION_ID_KEYS: ID_KEY }),
    keepsExpired: true,
    lose: async (id, app) => {
      rmSync(join(files, `${id}.json`));
      return app;
    },
  },
  'database, PostgreSQL primary and replica (the row deleted)': {
    env: () => ({
      SESSION_STRATEGY: 'database', SESSION_DB_ENGINE: 'postgres', SESSION_DB_HOST: '127.0.0.1', SESSION_DB_PORT: String(cluster.primary.port),
      SESSION_DB_REPLICAS: `127.0.0.1:${cluster.replica.port}`, SESSION_DB_NAME: cluster.database, SESSION_DB_USER: 'postgres', SESSION_ID_KEYS: ID_KEY,
    }),
    keepsExpired: true,
    lose: async (id, app) => {
      expect(await cluster.primary.query('DELETE FROM sessions WHERE id = $1 RETURNING id', [id], cluster.database)).toHaveLength(1);
      // Lost everywhere, the replica included, not merely behind on it.
      await cluster.caughtUp();
      return app;
    },
  },
  'database, MariaDB (the row deleted)': {
    env: () => ({
      SESSION_STRATEGY: 'database', SESSION_DB_ENGINE: 'mysql', SESSION_DB_HOST: '127.0.0.1', SESSION_DB_PORT: '3306',
      // The same server stands in for a replica, so that the replica's reads run too.
      SESSION_DB_REPLICAS: '127.0.0.1:3306', SESSION_DB_NAME: mariadb.name, SESSION_DB_USER: 'root', SESSION_ID_KEYS: ID_KEY,
    }),
    keepsExpired: true,
    lose: async (id, app) => {
      const [result] = await mariadb.admin.query(`DELETE FROM ${mariadb.name}.sessions WHERE id = ?`, [id]);
      expect((result as { affectedRows: number }).affectedRows).toBe(1);
      return app;
    },
  },
};

describe.each(Object.entries(backends))('%s', (_name, backend) => {
  test('a user whose session the store lost is counted lost once, and gets a new session', async () => {
    let app = await start(backend.env());
    const user = new Client(app.url);
    await user.post('/api/counter');
    await user.post('/api/counter');
    const id = user.jar.get('sid')!;
    expect(new SessionIds([ID_KEY]).check(id)).toBe('issued');

    app = await backend.lose(id, app, {});
    const after = await user.at(app.url).get('/api/session');
    expect(after.json).toMatchObject({ counter: 0, visits: 1 });
    expect(user.jar.get('sid')).not.toBe(id);
    // The lost id once more (a request sent before the browser took the new cookie): counted once.
    expect((await sendCookie(app, id)).json.counter).toBe(0);
    expect((await user.at(app.url).post('/api/counter')).json.counter).toBe(1);
    expect(await counts(app)).toEqual({ lost: 1, expired: 0, rejected: 0 });
  });

  test('a forged id, an unsigned id never issued, and a brand-new visitor are not counted lost', async () => {
    const app = await start(backend.env());
    // Signed under a key this fleet lacks: refused before any store read.
    expect((await sendCookie(app, new SessionIds([SECRET_B]).issue())).status).toBe(200);
    // The shape of ids issued without a key: accepted unverified (a rolling release), unknown, and not a loss.
    expect((await sendCookie(app, newSessionId())).json.visits).toBe(1);
    expect((await new Client(app.url).get('/api/session')).json.visits).toBe(1);
    expect(await counts(app)).toEqual({ lost: 0, expired: 0, rejected: 1 });
  });

  test('log-out moves the session to a new cookie: the next request is not counted, nor the old ids sent here again', async () => {
    const app = await start(backend.env());
    const user = new Client(app.url);
    await user.post('/api/counter');
    const first = user.jar.get('sid')!;
    await user.post('/api/login', { user: 'ann' });
    const loggedIn = user.jar.get('sid')!;
    await user.post('/api/logout');
    expect(new Set([first, loggedIn, user.jar.get('sid')]).size).toBe(3);
    expect((await user.get('/api/session')).json).toMatchObject({ user: null, counter: 1 });
    expect((await sendCookie(app, first)).json.counter).toBe(0);
    expect((await sendCookie(app, loggedIn)).json.counter).toBe(0);
    expect(await counts(app)).toEqual({ lost: 0, expired: 0, rejected: 0 });
  });

  test(`an expired session sent by a client that kept its cookie is counted ${backend.keepsExpired ? 'expired, not lost' : 'lost: Redis no longer holds it (see the README)'}`, async () => {
    // A TTL of a second: the store's, and the cookie's Max-Age.
    const app = await start(backend.env(), { ttlSeconds: 1 });
    const user = new Client(app.url);
    await user.post('/api/counter');
    expect(user.lastSetCookie[0]).toMatch(/; Max-Age=1;/);
    await sleep(1500);
    // A browser would have dropped the cookie by now (a new visitor, above); this client sends it anyway.
    expect((await user.get('/api/session')).json.counter).toBe(0);
    expect(await counts(app)).toEqual(backend.keepsExpired ? { lost: 0, expired: 1, rejected: 0 } : { lost: 1, expired: 0, rejected: 0 });
  });
});

test('an id logged out on one instance and replayed on another counts once there, however often (the bound on replays)', async () => {
  const env = backends['redis (the key deleted)'].env();
  const [a, b] = await Promise.all([start(env), start(env)]);
  const user = new Client(a.url);
  await user.post('/api/counter');
  const old = user.jar.get('sid')!;
  await user.post('/api/logout');
  for (let i = 0; i < 3; i++) {
    expect((await sendCookie(b, old)).json.counter).toBe(0);
  }
  expect(await counts(b)).toEqual({ lost: 1, expired: 0, rejected: 0 });
  expect(await counts(a)).toEqual({ lost: 0, expired: 0, rejected: 0 });
});

describe('cookie', () => {
  const cookie = (secrets: string) => ({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: secrets });

  test('a cookie sealed by another fleet\'s key (a green without blue\'s key) is counted lost once, and gets a new session', async () => {
    const [blue, green, rotated] = await Promise.all([start(cookie(SECRET_A)), start(cookie(SECRET_B)), start(cookie(`${SECRET_B},${SECRET_A}`))]);
    const user = new Client(blue.url);
    await user.post('/api/counter');
    await user.post('/api/counter');
    const sealedOnBlue = user.jar.get('sid')!;

    expect((await user.at(green.url).get('/api/session')).json).toMatchObject({ counter: 0, visits: 1 });
    expect(user.jar.get('sid')).not.toBe(sealedOnBlue);
    expect((await sendCookie(green, sealedOnBlue)).json.counter).toBe(0);
    expect((await user.at(green.url).post('/api/counter')).json.counter).toBe(1);
    expect(await counts(green)).toEqual({ lost: 1, expired: 0, rejected: 0 });

    // A fleet that has blue's key among its own (a rotation, not a misconfiguration) opens it.
    expect((await sendCookie(rotated, sealedOnBlue)).json.counter).toBe(2);
    expect(await counts(rotated)).toEqual({ lost: 0, expired: 0, rejected: 0 });
  });

  test('a tampered cookie is rejected, an expired one expired, a new visitor nothing: none is counted lost', async () => {
    const app = await start(cookie(SECRET_A), { ttlSeconds: 1 });
    const user = new Client(app.url);
    await user.post('/api/counter');
    const sealed = user.jar.get('sid')!;
    // A character of the tag changed: the key id is ours, the tag does not verify.
    const tampered = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.at(-1);
    expect((await sendCookie(app, tampered)).json.counter).toBe(0);
    expect((await new Client(app.url).get('/api/session')).json.visits).toBe(1);
    await sleep(1500);
    expect((await user.get('/api/session')).json.counter).toBe(0);
    expect(await counts(app)).toEqual({ lost: 0, expired: 1, rejected: 1 });
  });
});

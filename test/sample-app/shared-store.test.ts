/**
 * Two app processes that share one store, as two instances behind a load
 * balancer without stickiness: one user's requests go to each in turn.
 */
import { randomBytes } from 'crypto';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Client } from './helpers';
import { AppProcess, spawnApp } from './processes';

const dir = mkdtempSync(join(tmpdir(), 'shared-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['redis', { SESSION_REDIS_HOST: '127.0.0.1', SESSION_REDIS_PORT: '6379' }],
  ['file', { SESSION_FILE_DIR: join(dir, `sessions-${randomBytes(3).toString('hex')}`) }],
])('two processes sharing the %s store', (strategy, env) => {
  let apps: AppProcess[];
  beforeAll(async () => {
    apps = await Promise.all([1, 2].map(() => spawnApp({ SESSION_STRATEGY: strategy, ...env })));
  });
  afterAll(async () => {
    const codes = await Promise.all(apps.map((a) => a.stop()));
    expect(codes).toEqual([0, 0]);
  });

  test('serve one user in turn and show one session', async () => {
    const user = new Client(apps[0].url);
    const clients = apps.map((a) => user.at(a.url));
    for (let i = 0; i < 10; i++) {
      const client = clients[i % 2];
      const res = i === 4 ? await client.post('/api/cart', { item: 'tea' }) : await client.post('/api/counter');
      expect(res.status).toBe(200);
    }
    const view = (await clients[1].get('/api/session')).json;
    expect(view).toMatchObject({ strategy, counter: 9, visits: 1, cart: ['tea'] });
  });

  test('one hundred concurrent increments, half to each process, end at exactly 100', async () => {
    const first = new Client(apps[0].url);
    await first.get('/api/session');
    const second = first.at(apps[1].url);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? first : second).post('/api/counter')));
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect((await second.get('/api/session')).json.counter).toBe(100);
    const conflicts = await Promise.all(apps.map(async (a) => ((await (await fetch(`${a.url}/metrics`)).json()) as { sessions_conflicted: number }).sessions_conflicted));
    // Each process queues its own requests for one session; only the other process can race a save.
    expect(conflicts.reduce((a, b) => a + b, 0)).toBeLessThan(100);
  });
});

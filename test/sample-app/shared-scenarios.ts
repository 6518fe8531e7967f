/**
 * What two app processes sharing one store must show, whatever the store:
 * one user served by each in turn sees one session, and concurrent writes to
 * one session from both never lose an update.
 */
import { AppProcess } from '../../local/app-process';
import { Client } from '../../local/http-client';

export function sharedStoreScenarios(strategy: string, apps: () => AppProcess[]): void {
  test('two processes serve one user in turn and show one session', async () => {
    const [a, b] = apps();
    const user = new Client(a.url);
    const clients = [user, user.at(b.url)];
    for (let i = 0; i < 10; i++) {
      const res = i === 4 ? await clients[i % 2].post('/api/cart', { item: 'tea' }) : await clients[i % 2].post('/api/counter');
      expect(res.status).toBe(200);
    }
    expect((await clients[1].get('/api/session')).json).toMatchObject({ strategy, counter: 9, visits: 1, cart: ['tea'] });
  });

  test('one hundred concurrent increments, half to each process, end at exactly 100', async () => {
    const [a, b] = apps();
    const first = new Client(a.url);
    await first.get('/api/session');
    const second = first.at(b.url);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? first : second).post('/api/counter')));
    expect(results.map((r) => r.status)).toEqual(Array(100).fill(200));
    expect((await second.get('/api/session')).json.counter).toBe(100);
    const conflicts = await Promise.all([a, b].map(async (app) => ((await (await fetch(`${app.url}/metrics`)).json()) as { sessions_conflicted: number }).sessions_conflicted));
    // Each process queues its own requests for one session; only the other process can race a save.
    expect(conflicts.reduce((x, y) => x + y, 0)).toBeLessThan(100);
  });
}

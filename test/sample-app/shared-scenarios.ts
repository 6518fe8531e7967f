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

  // Process A last saved the session, so its next request starts from A's copy; B changes the session in between.
  describe('a refusal is decided on the current session, not on the copy the process saved last', () => {
    const item = (i: number, length = 1) => `${i}`.padEnd(length, 'x');
    const add = (user: Client, i: number, length?: number) => user.post('/api/cart', { item: item(i, length) });

    test('an item another process added can be removed (no 404 on a stale cart)', async () => {
      const [a, b] = apps();
      const onA = new Client(a.url);
      await add(onA, 0);
      await add(onA, 1);
      expect((await add(onA.at(b.url), 2)).json.cart).toHaveLength(3);
      const removed = await onA.request('DELETE', '/api/cart/2');
      expect(removed.status).toBe(200);
      expect(removed.json.cart).toEqual(['0', '1']);
    });

    test('an item fits once another process emptied a place in a full cart (no 400 on a stale cart)', async () => {
      const [a, b] = apps();
      const onA = new Client(a.url);
      for (let i = 0; i < 50; i++) {
        expect((await add(onA, i)).status).toBe(200);
      }
      expect((await onA.at(b.url).request('DELETE', '/api/cart/0')).json.cart).toHaveLength(49);
      const added = await add(onA, 50);
      expect(added.status).toBe(200);
      expect(added.json.cart).toHaveLength(50);
    });

    test('a long item fits once another process made room under the size limit (no 413 on a stale session)', async () => {
      const [a, b] = apps();
      const onA = new Client(a.url);
      let count = 0;
      while ((await add(onA, count, 100)).status === 200) {
        count++;
      }
      expect(count).toBeGreaterThan(20);
      expect((await onA.at(b.url).request('DELETE', '/api/cart/0')).json.cart).toHaveLength(count - 1);
      const added = await add(onA, count, 100);
      expect(added.status).toBe(200);
      expect(added.json.cart).toHaveLength(count);
    });
  });
}

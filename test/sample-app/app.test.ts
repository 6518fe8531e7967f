/**
 * The sample app over real HTTP on loopback, for each strategy that runs
 * without a server of its own: sessions, the API, and what it does with
 * tampered, oversized and hostile input.
 */
import { Client } from '../../local/http-client';
import { SECRET_A, SECRET_B } from '../../local/secrets';
import { RunningApp, startApp, withApp } from './helpers';

describe.each(['memory', 'cookie'])('the %s strategy', (strategy) => {
  let running: RunningApp;
  let client: Client;
  beforeAll(async () => {
    running = await startApp({ SESSION_STRATEGY: strategy, SESSION_APP_VERSION: 'v7', SESSION_APP_COLOR: 'green' });
  });
  afterAll(() => running.close());
  beforeEach(() => {
    client = new Client(running.url);
  });

  test('a first visit starts a session and sets an HttpOnly, SameSite=Lax cookie for its TTL', async () => {
    const res = await client.get('/api/session');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      color: 'green', version: 'v7', strategy, instance: 'test-host', az: 'local', user: null, visits: 1, counter: 0, cart: [],
    });
    expect(Date.parse(res.json.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(client.lastSetCookie).toHaveLength(1);
    expect(client.lastSetCookie[0]).toMatch(/^sid=[^;]+; Max-Age=86400; Path=\/; HttpOnly; SameSite=Lax$/);
  });

  test('the session carries visits, the counter and the cart from request to request', async () => {
    await client.get('/api/session');
    await client.post('/api/counter');
    await client.post('/api/counter');
    await client.post('/api/cart', { item: 'apple' });
    await client.post('/api/cart', { item: 'pear' });
    await client.request('DELETE', '/api/cart/0');
    const res = await client.get('/api/session');
    expect(res.json).toMatchObject({ visits: 2, counter: 2, cart: ['pear'] });
  });

  test('log in and log out change the user, keep the cart, and issue a new cookie each time', async () => {
    await client.post('/api/cart', { item: 'book' });
    const before = client.jar.get('sid');
    const login = await client.post('/api/login', { user: 'ann' });
    expect(login.json).toMatchObject({ user: 'ann', cart: ['book'] });
    const afterLogin = client.jar.get('sid');
    expect(afterLogin).not.toBe(before);
    const logout = await client.post('/api/logout');
    expect(logout.json).toMatchObject({ user: null, cart: ['book'] });
    expect(client.jar.get('sid')).not.toBe(afterLogin);
  });

  test('the page shows the session, escaped, under a strict content security policy', async () => {
    await client.post('/api/login', { user: '<script>alert(1)</script>' });
    const res = await client.get('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'nonce-[A-Za-z0-9+/=]+';/);
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).toContain(`<dd id="strategy">${strategy}</dd>`);
  });

  test('a tampered cookie is rejected: a fresh session, counted, and the server keeps serving', async () => {
    await client.post('/api/counter');
    const value = client.jar.get('sid')!;
    const flipped = value.slice(0, 10) + (value[10] === 'A' ? 'B' : 'A') + value.slice(11);
    const rejectedBefore = running.metrics.rejected;
    const res = await client.request('GET', '/api/session', { headers: { cookie: `sid=${flipped}` } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ counter: 0, visits: 1 });
    // A sealed cookie fails its MAC; a flipped id keeps the shape of ours, so it is merely unknown.
    expect(running.metrics.rejected).toBe(rejectedBefore + (strategy === 'cookie' ? 1 : 0));
    expect((await new Client(running.url).get('/health')).status).toBe(200);
  });

  test.each([
    ['a path traversal', '../../etc/passwd'],
    ['a 10 KB string', 'x'.repeat(10_000)],
    ['unicode', '%C3%BC%E2%80%AE%F0%9F%8D%AA'],
    ['a quote and a semicolon', '%22%3Bdrop'],
  ])('a session id that is %s is treated as no session', async (_name, id) => {
    const res = await client.request('GET', '/api/session', { headers: { cookie: `sid=${id}` } });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ visits: 1, counter: 0 });
    expect(client.jar.get('sid')).not.toBe(id);
  });

  test('a cookie header too large for the server gets a 431, and the next request is served', async () => {
    const res = await client.request('GET', '/api/session', { headers: { cookie: `sid=${'y'.repeat(20_000)}` } });
    expect(res.status).toBe(431);
    expect((await client.get('/api/session')).status).toBe(200);
  });

  test('an oversized body gets a 413, malformed JSON a 400, another content type a 415, and the server keeps serving', async () => {
    expect((await client.post('/api/cart', { item: 'z'.repeat(20_000) })).status).toBe(413);
    expect((await client.request('POST', '/api/cart', { body: '{"item": "unterminated', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await client.request('POST', '/api/cart', { body: 'item=apple', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
    expect((await client.request('POST', '/api/cart', { body: 'apple', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await client.post('/api/cart', { item: 'ok' })).json.cart).toEqual(['ok']);
  });

  test.each([
    [{ item: '' }, 400, 'item: must be 1 to 100 printable characters, got 0'],
    [{ item: 'x'.repeat(101) }, 400, 'item: must be 1 to 100 printable characters, got 101'],
    [{ item: 42 }, 400, 'item: must be a string, as JSON {"item": "..."}'],
    [{ item: 'bell\u0007' }, 400, 'item: must be 1 to 100 printable characters, got 5'],
    [['item'], 400, 'item: must be a string'],
    [{ __proto__: { item: 'x' } }, 400, 'item: must be a string'],
  ])('a bad cart body %j gets a %i that says why', async (body, status, message) => {
    const res = await client.request('POST', '/api/cart', { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(status);
    expect(res.json.error).toContain(message);
  });

  test('removing an item that is not there gets a 404, and a hostile index too', async () => {
    expect((await client.request('DELETE', '/api/cart/3')).status).toBe(404);
    expect((await client.request('DELETE', '/api/cart/..%2F..')).status).toBe(404);
  });

  test('state-changing requests from another site are refused', async () => {
    const cross = await client.request('POST', '/api/counter', { headers: { origin: 'https://evil.example' } });
    expect(cross.status).toBe(403);
    expect(cross.json).toEqual({ error: 'cross-site request refused' });
    expect((await client.request('POST', '/api/counter', { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    expect((await client.request('POST', '/api/counter', { headers: { origin: 'null' } })).status).toBe(403);
    const same = await client.request('POST', '/api/counter', { headers: { origin: running.url, 'sec-fetch-site': 'same-origin' } });
    expect(same.status).toBe(200);
  });

  test.each([
    ['POST', '/api/counter', undefined],
    ['POST', '/api/cart', { item: 'spoon' }],
    ['DELETE', '/api/cart/0', undefined],
    ['POST', '/api/login', { user: 'mallory' }],
    ['POST', '/api/logout', undefined],
  ])('%s %s from another site is refused and changes nothing', async (method, path, json) => {
    await client.post('/api/cart', { item: 'fork' });
    const before = client.jar.get('sid');
    const res = await client.request(method, path, { json, headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    expect(res.json).toEqual({ error: 'cross-site request refused' });
    expect(client.jar.get('sid')).toBe(before);
    expect((await client.get('/api/session')).json).toMatchObject({ counter: 0, cart: ['fork'], user: null });
  });

  test('a cart that would make the session too large is refused with a 413 and the session kept', async () => {
    let last = { status: 200 } as { status: number; json?: any };
    let added = 0;
    for (let i = 0; i < 50 && last.status === 200; i++) {
      last = await client.post('/api/cart', { item: `${i}-${'w'.repeat(90)}` });
      added += last.status === 200 ? 1 : 0;
    }
    expect(last.status).toBe(413);
    expect(added).toBeGreaterThan(10);
    const kept = await client.get('/api/session');
    expect(kept.json.cart).toHaveLength(added);
    if (strategy === 'cookie') {
      expect(`sid=${client.jar.get('sid')}`.length).toBeLessThan(4096);
    }
  });

  test('/health answers without touching sessions, and /metrics counts them', async () => {
    const health = await client.get('/health');
    expect(health.json).toEqual({ status: 'ok' });
    expect(client.lastSetCookie).toEqual([]);
    const metrics = await client.get('/metrics');
    expect(metrics.json).toEqual(expect.objectContaining({
      sessions_created: expect.any(Number), sessions_loaded: expect.any(Number), sessions_saved: expect.any(Number),
      sessions_conflicted: expect.any(Number), sessions_rejected: expect.any(Number), sessions_lost: expect.any(Number), sessions_expired: expect.any(Number),
    }));
    expect(metrics.json.sessions_created).toBeGreaterThan(0);
  });
});

describe('server-side sessions (memory)', () => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startApp({ SESSION_STRATEGY: 'memory' });
  });
  afterAll(() => running.close());

  test('100 concurrent increments of one session end at exactly 100', async () => {
    const client = new Client(running.url);
    await client.get('/api/session');
    const results = await Promise.all(Array.from({ length: 100 }, () => client.post('/api/counter')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect((await client.get('/api/session')).json.counter).toBe(100);
  });

  test('after log in the old session id no longer opens the session', async () => {
    const client = new Client(running.url);
    await client.post('/api/counter');
    const old = client.jar.get('sid')!;
    await client.post('/api/login', { user: 'bob' });
    const replay = await new Client(running.url).request('GET', '/api/session', { headers: { cookie: `sid=${old}` } });
    expect(replay.json).toMatchObject({ user: null, counter: 0 });
    expect((await client.get('/api/session')).json).toMatchObject({ user: 'bob', counter: 1 });
  });

  test('an unknown but well-formed id is not adopted: the new session gets a new id', async () => {
    const client = new Client(running.url);
    const planted = 'AAAAAAAAAAAAAAAAAAAAAA';
    await client.request('GET', '/api/session', { headers: { cookie: `sid=${planted}` } });
    expect(client.jar.get('sid')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(client.jar.get('sid')).not.toBe(planted);
  });
});

describe('cookie sessions', () => {
  test('are Secure behind HTTPS', async () => {
    await withApp({ SESSION_STRATEGY: 'cookie', SESSION_SECURE_COOKIE: 'true' }, async (client) => {
      await client.get('/api/session');
      expect(client.lastSetCookie[0]).toMatch(/; HttpOnly; Secure; SameSite=Lax$/);
    });
  });

  test('survive a restart and open on any instance that shares the secret', async () => {
    const sid = await withApp({ SESSION_STRATEGY: 'cookie' }, async (client) => {
      await client.post('/api/cart', { item: 'kept' });
      return client.jar.get('sid');
    });
    await withApp({ SESSION_STRATEGY: 'cookie' }, async (other) => {
      const res = await other.request('GET', '/api/session', { headers: { cookie: `sid=${sid}` } });
      expect(res.json.cart).toEqual(['kept']);
    });
  });

  test('a cookie sealed with the old secret still opens after a new one is prepended, and is resealed with the new one', async () => {
    const sealedWithA = await withApp({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: SECRET_A }, async (client) => {
      await client.post('/api/counter');
      return client.jar.get('sid')!;
    });
    const resealed = await withApp({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: `${SECRET_B},${SECRET_A}` }, async (moved) => {
      moved.jar.set('sid', sealedWithA);
      expect((await moved.post('/api/counter')).json.counter).toBe(2);
      return moved.jar.get('sid')!;
    });
    await withApp({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: SECRET_B }, async (later) => {
      later.jar.set('sid', resealed);
      expect((await later.get('/api/session')).json.counter).toBe(2);
    });
  });

  test('a cookie sealed with a secret this fleet lacks opens no session, and counts as lost, not rejected', async () => {
    const sid = await withApp({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: SECRET_A }, async (client) => {
      await client.post('/api/counter');
      return client.jar.get('sid');
    });
    await withApp({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: SECRET_B }, async (client, b) => {
      const res = await client.request('GET', '/api/session', { headers: { cookie: `sid=${sid}` } });
      expect(res.json.counter).toBe(0);
      expect([b.metrics.lost, b.metrics.rejected]).toEqual([1, 0]);
    });
  });
});

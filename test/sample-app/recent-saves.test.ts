/**
 * ServerSideSessions remembers the sessions it saved last, so a sticky
 * user's next request needs no load; the save's version check must still
 * catch every copy that went stale. Driven over HTTP through real fastify
 * servers on loopback, on a store that counts its loads.
 */
import fastifyCookie from '@fastify/cookie';
import { AddressInfo } from 'net';
import Fastify, { FastifyInstance } from 'fastify';
import { Metrics } from '../../sample-app/src/metrics';
import { ServerSideSessions } from '../../sample-app/src/sessions/manager';
import { MemoryStore } from '../../sample-app/src/sessions/memory';
import { SessionData } from '../../sample-app/src/sessions/session';
import { SessionStore, StoredSession } from '../../sample-app/src/sessions/store';

const TTL_SECONDS = 60;
let clock = 1_000_000;
const now = () => clock;

/** A store that counts its loads. */
class CountingStore implements SessionStore {
  public loads = 0;
  constructor(private readonly inner: SessionStore) {}
  public load(id: string): Promise<StoredSession | undefined> {
    this.loads++;
    return this.inner.load(id);
  }
  public save(id: string, data: SessionData, expectedVersion: number, ttlSeconds: number): Promise<number> {
    return this.inner.save(id, data, expectedVersion, ttlSeconds);
  }
  public destroy(id: string): Promise<void> {
    return this.inner.destroy(id);
  }
  public touch(id: string, ttlSeconds: number): Promise<void> {
    return this.inner.touch(id, ttlSeconds);
  }
  public holdsExpired(id: string): Promise<boolean> {
    return this.inner.holdsExpired(id);
  }
  public close(): Promise<void> {
    return this.inner.close();
  }
}

const servers: FastifyInstance[] = [];

/** An "instance": a server whose sessions live in `store`, listening on loopback. */
async function instance(store: SessionStore, recentSaves = 10_000): Promise<{ app: string; metrics: Metrics }> {
  const metrics = new Metrics();
  const sessions = new ServerSideSessions(store, { name: 'sid', secure: false, ttlSeconds: TTL_SECONDS }, metrics, { recentSaves, now });
  const app = Fastify();
  app.register(fastifyCookie, { hook: false });
  app.post('/counter', async (req, reply) => sessions.use(req, reply, (s) => { s.counter++; }));
  app.post('/add', async (req, reply) => sessions.use(req, reply, (s) => {
    if (s.cart.length >= 2) {
      throw Object.assign(new Error('the cart holds at most 2 items'), { statusCode: 400 });
    }
    s.cart.push('item');
  }));
  app.post('/remove', async (req, reply) => sessions.use(req, reply, (s) => { s.cart.pop(); }));
  app.post('/logout', async (req, reply) => sessions.use(req, reply, (s) => { s.user = null; }, { regenerate: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  servers.push(app);
  return { app: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, metrics };
}

/** Posts with the session cookie `sid` (if any); the counter and the id the answer sets. */
async function post(app: string, path: string, sid?: string, status = 200): Promise<{ counter: number; sid: string }> {
  const res = await fetch(`${app}${path}`, { method: 'POST', headers: sid ? { cookie: `sid=${sid}` } : {} });
  expect(res.status).toBe(status);
  const { counter } = (await res.json()) as SessionData;
  return { counter, sid: /^sid=([^;]+)/.exec(res.headers.get('set-cookie') ?? `sid=${sid}`)![1] };
}

let shared: MemoryStore;
let store: CountingStore;

beforeEach(() => {
  clock = 1_000_000;
  shared = new MemoryStore(100_000, now);
  store = new CountingStore(shared);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await shared.close();
});

test('a sticky user\'s requests need no load: each starts from the copy this process saved', async () => {
  const { app } = await instance(store);
  let { sid } = await post(app, '/counter');
  for (let i = 0; i < 4; i++) {
    ({ sid } = await post(app, '/counter', sid));
  }
  expect(store.loads).toBe(0);
  expect((await shared.load(sid))!.data.counter).toBe(5);
});

test('a save by another instance in between is not lost: the stale copy fails the version check and the request loads', async () => {
  const a = await instance(store);
  const b = await instance(store);
  const { sid } = await post(a.app, '/counter');
  expect((await post(b.app, '/counter', sid)).counter).toBe(2);
  const loadsBefore = store.loads;
  expect((await post(a.app, '/counter', sid)).counter).toBe(3);
  expect(store.loads).toBe(loadsBefore + 1);
  // A stale copy is not a conflict between writers.
  expect(a.metrics.conflicted).toBe(0);
  expect((await shared.load(sid))!.data.counter).toBe(3);
});

test('a session logged out on another instance stays ended on the one that remembered it', async () => {
  const a = await instance(store);
  const b = await instance(store);
  const { sid } = await post(a.app, '/counter');
  await post(a.app, '/counter', sid);
  const renewed = await post(b.app, '/logout', sid);
  expect(renewed.sid).not.toBe(sid);
  const replayed = await post(a.app, '/counter', sid);
  expect(replayed.sid).not.toBe(sid);
  expect(replayed.counter).toBe(1);
  expect(await shared.load(sid)).toBeUndefined();
});

test('an expired copy is not used', async () => {
  const { app } = await instance(store);
  const { sid } = await post(app, '/counter');
  clock += TTL_SECONDS * 1000;
  const after = await post(app, '/counter', sid);
  expect(store.loads).toBe(1);
  expect(after.sid).not.toBe(sid);
  expect(after.counter).toBe(1);
});

test('it remembers at most `recentSaves` sessions: the one saved longest ago goes first', async () => {
  const { app } = await instance(store, 2);
  const first = await post(app, '/counter');
  const second = await post(app, '/counter');
  await post(app, '/counter');
  await post(app, '/counter', second.sid);
  expect(store.loads).toBe(0);
  expect((await post(app, '/counter', first.sid)).counter).toBe(2);
  expect(store.loads).toBe(1);
});

test('recentSaves 0 remembers nothing: every request with a session loads it', async () => {
  const { app } = await instance(store, 0);
  let { sid } = await post(app, '/counter');
  for (let i = 0; i < 3; i++) {
    ({ sid } = await post(app, '/counter', sid));
  }
  expect(store.loads).toBe(3);
});

test('a change refused on this process\'s copy is decided again on the store\'s, which another instance changed', async () => {
  const a = await instance(store);
  const b = await instance(store);
  const { sid } = await post(a.app, '/add');
  await post(a.app, '/add', sid);
  await post(b.app, '/remove', sid);
  const loadsBefore = store.loads;
  await post(a.app, '/add', sid);
  expect(store.loads).toBe(loadsBefore + 1);
  expect((await shared.load(sid))!.data.cart).toHaveLength(2);
});

test('a change the current session refuses is refused after one load, and nothing is saved', async () => {
  const { app } = await instance(store);
  const { sid } = await post(app, '/add');
  await post(app, '/add', sid);
  const before = (await shared.load(sid))!.version;
  const loadsBefore = store.loads;
  await post(app, '/add', sid, 400);
  expect(store.loads).toBe(loadsBefore + 1);
  expect((await shared.load(sid))!.version).toBe(before);
});

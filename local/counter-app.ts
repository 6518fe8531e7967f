/**
 * The session manager on its own, in this process: one route, `POST
 * /counter`, that adds one to the session's counter, over a store and session
 * ids the caller chooses, so a test or the lab can count what each request
 * costs the store (`DatabaseStore.reads`) and what the manager refuses
 * (`metrics.rejected`).
 */
import fastifyCookie from '@fastify/cookie';
import { AddressInfo } from 'net';
import Fastify from 'fastify';
import { Metrics } from '../sample-app/src/metrics';
import { ServerSideSessions } from '../sample-app/src/sessions/manager';
import { SessionIds } from '../sample-app/src/sessions/session-id';
import { SessionStore } from '../sample-app/src/sessions/store';

/** A running counter app. */
export interface CounterApp {
  /** `http://127.0.0.1:<port>`; the route is `${url}/counter`. */
  readonly url: string;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/** Starts it on a free loopback port, the cookie `sid` (not Secure, a minute of TTL). */
export async function startCounterApp(store: SessionStore, ids: SessionIds): Promise<CounterApp> {
  const metrics = new Metrics();
  const sessions = new ServerSideSessions(store, { name: 'sid', secure: false, ttlSeconds: 60 }, metrics, { ids });
  const app = Fastify();
  app.register(fastifyCookie, { hook: false });
  app.post('/counter', async (req, reply) => sessions.use(req, reply, (s) => { s.counter++; }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, metrics, close: () => app.close() };
}

/**
 * Anchor: the peer most Node users would pick for shared sessions, express
 * with express-session and connect-redis (node-redis), doing the same work as
 * the sample app's `POST /api/counter`: load the session, add one, save it.
 */
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';

declare module 'express-session' {
  interface SessionData {
    createdAt: number;
    visits: number;
    counter: number;
    cart: string[];
    user: string | null;
  }
}

async function main(): Promise<void> {
  const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  await client.connect();
  const app = express();
  app.use(session({
    store: new RedisStore({ client, prefix: 'bench-peer:', ttl: 300 }),
    secret: 'a'.repeat(48),
    resave: false,
    saveUninitialized: true,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: 300_000 },
  }));
  const view = (s: session.Session & Partial<session.SessionData>) => ({
    color: 'blue', version: 'bench', strategy: 'express-session', instance: 'bench', az: 'local', user: s.user ?? null,
    createdAt: new Date(s.createdAt ?? 0).toISOString(), sessionAgeSeconds: 0, visits: s.visits ?? 0, counter: s.counter ?? 0, cart: s.cart ?? [],
  });
  app.get('/api/session', (req, res) => {
    req.session.createdAt ??= Date.now();
    req.session.visits = (req.session.visits ?? 0) + 1;
    res.json(view(req.session));
  });
  app.post('/api/counter', (req, res) => {
    req.session.counter = (req.session.counter ?? 0) + 1;
    res.json(view(req.session));
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.listen(Number(process.env.PORT), '127.0.0.1');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

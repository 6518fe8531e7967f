/**
 * Anchor: the same fastify server answering `POST /api/counter` with a view of
 * the same shape, but with no session at all. The sample app's overhead is
 * measured against this.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
let counter = 0;
app.post('/api/counter', async () => ({
  color: 'blue', version: 'bench', strategy: 'none', instance: 'bench', az: 'local', user: null,
  createdAt: new Date(0).toISOString(), sessionAgeSeconds: 0, visits: 0, counter: ++counter, cart: [],
}));
app.get('/health', async () => ({ status: 'ok' }));
app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) }).catch((e) => {
  console.error(e);
  process.exit(1);
});

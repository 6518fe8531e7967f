import { randomBytes } from 'crypto';
import fastifyCookie from '@fastify/cookie';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HEALTH_CHECK_PATH } from '../../lib/contract/app-env';
import { AppConfig } from './config';
import { InstanceInfo } from './instance-info';
import { Metrics } from './metrics';
import { renderPage } from './page';
import { Mutation, SessionManager } from './sessions/manager';
import { LIMITS, SessionData, SessionInputError } from './sessions/session';
import { SessionView } from './view';

/** What the server is built from. */
export interface ServerDeps {
  readonly config: AppConfig;
  readonly sessions: SessionManager;
  readonly instance: InstanceInfo;
  readonly metrics: Metrics;
  /** Log requests (off in tests and benchmarks). */
  readonly logger?: boolean;
}

/** A text field of a JSON body: a trimmed, non-empty string of at most `max` characters without control characters. */
function textField(body: unknown, field: string, max: number): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (typeof value !== 'string') {
    throw new SessionInputError(`${field}: must be a string, as JSON {"${field}": "..."}`);
  }
  const text = value.trim();
  if (text === '' || text.length > max || /[\u0000-\u001f\u007f]/.test(text)) {
    throw new SessionInputError(`${field}: must be 1 to ${max} printable characters, got ${text.length}`);
  }
  return text;
}

/** Builds the app: the page, the JSON API, `/health` and `/metrics`. The caller listens and closes. */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const { config, sessions, instance, metrics } = deps;
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: LIMITS.bodyBytes,
    return503OnClosing: true,
    // Behind the load balancer, the client address comes from X-Forwarded-For.
    trustProxy: true,
  });
  // The session managers read and write their one cookie themselves, with the plugin's parser and serializer (see SessionCookie).
  app.register(fastifyCookie, { hook: false });
  // JSON bodies only: without this, fastify would also accept text/plain.
  app.removeContentTypeParser('text/plain');

  const view = (data: SessionData): SessionView => ({
    color: config.color,
    version: config.version,
    strategy: config.strategy,
    instance: instance.instance,
    az: instance.az,
    user: data.user,
    createdAt: new Date(data.createdAt).toISOString(),
    sessionAgeSeconds: Math.max(0, Math.floor((Date.now() - data.createdAt) / 1000)),
    visits: data.visits,
    counter: data.counter,
    cart: data.cart,
  });
  const respond = async (req: FastifyRequest, reply: FastifyReply, mutate: Mutation, regenerate = false) =>
    view(await sessions.use(req, reply, mutate, { regenerate }));

  /**
   * State-changing requests must come from this site: a browser sends Origin
   * (and Sec-Fetch-Site) on them. Checked in the handler of every route that
   * `change` registers rather than in an onRequest hook, whose runner would
   * cost every request, GETs included.
   */
  const crossSite = (req: FastifyRequest): boolean => {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      try {
        if (new URL(origin).host !== req.headers.host) {
          return true;
        }
      } catch {
        return true;
      }
    }
    return req.headers['sec-fetch-site'] === 'cross-site';
  };
  /** Registers a state-changing route; a request from another site gets a 403 before its handler runs. */
  const change = <P = unknown>(method: 'POST' | 'DELETE', url: string, handler: (req: FastifyRequest<{ Params: P }>, reply: FastifyReply) => Promise<unknown>) =>
    app.route<{ Params: P }>({
      method,
      url,
      handler: (req, reply) => {
        if (crossSite(req)) {
          metrics.rejected++;
          return reply.code(403).send({ error: 'cross-site request refused' });
        }
        return handler(req, reply);
      },
    });

  app.setErrorHandler((error: Error & { statusCode?: number }, req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ error: status === 503 ? 'session store unavailable; try again shortly' : 'internal error' });
    }
    return reply.code(status).send({ error: error.message });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0].slice(0, 100)}` }));

  app.get(HEALTH_CHECK_PATH, async () => ({ status: 'ok' }));
  app.get('/metrics', async () => metrics.toJSON());

  app.get('/', async (req, reply) => {
    const nonce = randomBytes(16).toString('base64');
    const v = await respond(req, reply, (s) => { s.visits++; });
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .send(renderPage(v, nonce));
  });

  app.get('/api/session', async (req, reply) => respond(req, reply, (s) => { s.visits++; }));
  change('POST', '/api/counter', async (req, reply) => respond(req, reply, (s) => { s.counter++; }));
  change('POST', '/api/cart', async (req, reply) => {
    const item = textField(req.body, 'item', LIMITS.itemLength);
    return respond(req, reply, (s) => {
      if (s.cart.length >= LIMITS.cartItems) {
        throw new SessionInputError(`item: the cart holds at most ${LIMITS.cartItems} items`);
      }
      s.cart.push(item);
    });
  });
  change<{ index: string }>('DELETE', '/api/cart/:index', async (req, reply) => {
    const index = /^\d{1,3}$/.test(req.params.index) ? Number(req.params.index) : -1;
    return respond(req, reply, (s) => {
      if (index < 0 || index >= s.cart.length) {
        throw Object.assign(new SessionInputError(`index: no item ${JSON.stringify(req.params.index.slice(0, 20))} in a cart of ${s.cart.length}`), { statusCode: 404 });
      }
      s.cart.splice(index, 1);
    });
  });
  change('POST', '/api/login', async (req, reply) => {
    const user = textField(req.body, 'user', LIMITS.userLength);
    return respond(req, reply, (s) => { s.user = user; }, true);
  });
  change('POST', '/api/logout', async (req, reply) => respond(req, reply, (s) => { s.user = null; }, true));

  app.addHook('onClose', async () => sessions.close());
  return app;
}

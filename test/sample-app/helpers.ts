import { AddressInfo } from 'net';
import { Client } from '../../local/http-client';
import { FastifyInstance } from 'fastify';
import { SECRET_A } from '../../local/secrets';
import { AppConfig, loadConfig } from '../../sample-app/src/config';
import { Metrics } from '../../sample-app/src/metrics';
import { buildServer } from '../../sample-app/src/server';
import { createSessions } from '../../sample-app/src/sessions';

/** A running app on a free loopback port. */
export interface RunningApp {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/**
 * Starts the real app in this process on 127.0.0.1, port 0, with the given
 * environment; `overrides` set what the environment cannot (a TTL of a
 * second, below the 60 s the configuration allows, for tests of expiry).
 */
export async function startApp(env: Record<string, string> = {}, overrides: Partial<AppConfig> = {}): Promise<RunningApp> {
  const config = { ...loadConfig({ SESSION_APP_LOG: 'false', SESSION_COOKIE_SECRETS: SECRET_A, ...env, PORT: '0', HOST: '127.0.0.1' }), ...overrides };
  const metrics = new Metrics();
  const app = buildServer({ config, metrics, sessions: await createSessions(config, metrics), instance: { instance: 'test-host', az: 'local' } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, app, metrics, close: () => app.close() };
}

/**
 * Starts the app with `env`, runs `body` with a new client of it, and closes
 * the app whatever `body` did: for tests that need an app for one step, such
 * as before and after a restart or a change of secrets.
 */
export async function withApp<T>(env: Record<string, string>, body: (client: Client, running: RunningApp) => Promise<T>, overrides: Partial<AppConfig> = {}): Promise<T> {
  const running = await startApp(env, overrides);
  try {
    return await body(new Client(running.url), running);
  } finally {
    await running.close();
  }
}

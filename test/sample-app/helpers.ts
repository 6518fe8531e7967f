import { AddressInfo } from 'net';
import { FastifyInstance } from 'fastify';
import { loadConfig } from '../../sample-app/src/config';
import { Metrics } from '../../sample-app/src/metrics';
import { buildServer } from '../../sample-app/src/server';
import { createSessions } from '../../sample-app/src/sessions';

/** 48 random-looking characters: a valid cookie-sealing secret. */
export const SECRET_A = 'a'.repeat(16) + 'Z3kq9XbT0pLmN4vR8sW2yU6cE1fH5jK7';
export const SECRET_B = 'b'.repeat(16) + 'Q7wE3rT9yU1iO5pA2sD8fG4hJ6kL0zX';

/** A running app on a free loopback port. */
export interface RunningApp {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/** Starts the real app in this process on 127.0.0.1, port 0, with the given environment. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const config = loadConfig({ SESSION_APP_LOG: 'false', SESSION_COOKIE_SECRETS: SECRET_A, ...env, PORT: '0', HOST: '127.0.0.1' });
  const metrics = new Metrics();
  const app = buildServer({ config, metrics, sessions: await createSessions(config, metrics), instance: { instance: 'test-host', az: 'local' } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, app, metrics, close: () => app.close() };
}

/** A browser-like client over real HTTP that keeps its cookies. */
export class Client {
  /** The Set-Cookie headers of the last response. */
  public lastSetCookie: string[] = [];

  constructor(private readonly base: string, public readonly jar = new Map<string, string>()) {}

  /** The same browser (the same cookie jar) talking to another server. */
  public at(base: string): Client {
    return new Client(base, this.jar);
  }

  public async request(method: string, path: string, options: { json?: unknown; body?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (this.jar.size > 0 && headers.cookie === undefined) {
      headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    let body = options.body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, body });
    this.lastSetCookie = res.headers.getSetCookie();
    for (const line of this.lastSetCookie) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  }

  public get(path: string) {
    return this.request('GET', path);
  }

  public post(path: string, json?: unknown) {
    return this.request('POST', path, json === undefined ? {} : { json });
  }
}

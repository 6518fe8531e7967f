/**
 * Section 1 of `npm run bench`: the sample app's request path under load,
 * each strategy next to a server with no sessions and to express-session.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import autocannon from 'autocannon';
import { APP_ENV, storeEnvironment } from '../lib/contract/app-env';
import { CONNECTIONS, DURATION, LOCAL_REDIS, PG, RUNS, SECRET, Server, bundleAnchor, log, median, round, startServer } from './common';

export interface HttpFigures {
  readonly name: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
  /** Median over the rounds of this server's throughput over the anchor's in the same round. */
  readonly vsAnchor: number;
  /** The same, over the peer's. */
  readonly vsPeer: number;
}

/** One session per connection, made before the clock starts: every measured request loads and saves a session. */
async function sessionCookies(url: string, n: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/api/session`);
    const setCookie = res.headers.getSetCookie();
    if (!res.ok || setCookie.length === 0) {
      throw new Error(`${url}/api/session answered ${res.status} without a cookie`);
    }
    cookies.push(setCookie.map((c) => c.split(';')[0]).join('; '));
  }
  return cookies;
}

/** One autocannon run of `seconds` against a server, each connection with its own session. */
function loadOnce(url: string, cookies: string[], seconds: number): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: `${url}/api/counter`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: seconds,
    setupClient: (client) => {
      if (cookies.length > 0) {
        client.setHeaders({ cookie: cookies[next++ % cookies.length] });
      }
    },
  });
}

/** Section 1 over `app`, the sample app's bundle. */
export async function measureHttp(app: string): Promise<HttpFigures[]> {
  const noSession = bundleAnchor('no-session');
  const peer = bundleAnchor('express-session');
  const fileDir = mkdtempSync(join(tmpdir(), 'bench-files-'));
  const common = { SESSION_TTL_SECONDS: '300', SESSION_COOKIE_SECRETS: SECRET };
  const cases: Array<[string, string, Record<string, string>, boolean]> = [
    ['no sessions (anchor)', noSession, {}, false],
    ['express-session + connect-redis (peer)', peer, {}, true],
    ['memory', app, { ...common, ...storeEnvironment({ strategy: 'memory' }) }, true],
    ['cookie', app, { ...common, ...storeEnvironment({ strategy: 'cookie' }) }, true],
    ['redis', app, { ...common, ...storeEnvironment({ strategy: 'redis', redis: LOCAL_REDIS }) }, true],
    ['file', app, { ...common, ...storeEnvironment({ strategy: 'file', directory: fileDir }) }, true],
    ['database (PostgreSQL, write-through cache)', app, {
      ...common,
      ...storeEnvironment({
        strategy: 'database',
        database: { engine: 'postgres', host: PG.host, port: String(PG.port), name: PG.database, replicas: [], tls: false },
        cache: LOCAL_REDIS,
      }),
      [APP_ENV.DB_USER]: PG.user,
    }, true],
  ];
  const servers: Server[] = [];
  try {
    // All servers up at once (idle ones cost nothing), each warmed once; then the runs go round
    // the servers in turn, so a slow minute of a noisy machine falls on every server alike, and
    // each ratio is taken within one round.
    const cookies: string[][] = [];
    for (const [, script, env, withSessions] of cases) {
      const server = await startServer(script, env);
      servers.push(server);
      cookies.push(withSessions ? await sessionCookies(server.url, CONNECTIONS) : []);
      await loadOnce(server.url, cookies[cookies.length - 1], 2);
    }
    const rounds: autocannon.Result[][] = [];
    for (let run = 0; run < RUNS; run++) {
      const turn: autocannon.Result[] = [];
      for (let i = 0; i < cases.length; i++) {
        turn.push(await loadOnce(servers[i].url, cookies[i], DURATION));
      }
      rounds.push(turn);
    }
    const results = cases.map(([name], i) => {
      const runs = rounds.map((turn) => turn[i]);
      return {
        name,
        rps: round(median(runs.map((r) => r.requests.average))),
        p50: median(runs.map((r) => r.latency.p50)),
        p99: median(runs.map((r) => r.latency.p99)),
        failures: runs.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0),
        vsAnchor: round(median(rounds.map((turn) => turn[i].requests.average / turn[0].requests.average)), 2),
        vsPeer: round(median(rounds.map((turn) => turn[i].requests.average / turn[1].requests.average)), 2),
      };
    });
    log(results);
    return results;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(fileDir, { recursive: true, force: true });
  }
}

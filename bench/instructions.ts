/**
 * `npm run bench:instructions`: the instructions each request costs the
 * sample app's server, counted by valgrind's cachegrind, next to the
 * no-session anchor. Requests per second move with whatever else a shared
 * machine is doing; this count does not (repeat runs agree to 0.1 %), so it
 * tells whether a change to the request path made it cheaper. It counts the
 * server's user-space instructions only: not the kernel's share of a request
 * nor the load generator's, which `npm run bench` takes in.
 *
 * Each server runs twice under cachegrind, answering `FROM` and then `TO`
 * requests (`POST /api/counter` with one session, 4 keep-alive connections);
 * the difference over `TO - FROM` leaves start-up and warm-up out.
 *
 *   BENCH_IR_FROM=2000 BENCH_IR_TO=8000 npm run bench:instructions
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import http from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { bundleSampleApp } from '../lib/private/sample-app-asset';
import { storeEnvironment } from '../lib/contract/app-env';
import { LOCAL_REDIS, OUT, bundleAnchor, startServer } from './common';

const FROM = Number(process.env.BENCH_IR_FROM ?? 2000);
const TO = Number(process.env.BENCH_IR_TO ?? 8000);
const SECRET = 'b'.repeat(16) + 'Z3kq9XbT0pLmN4vR8sW2yU6cE1fH5jK7';

/** Total instructions of one run of `script` under cachegrind that answers `requests` requests. */
async function countRun(script: string, env: Record<string, string>, requests: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ir-'));
  const outFile = join(dir, 'cachegrind.out');
  const server = await startServer(script, { SESSION_TTL_SECONDS: '300', SESSION_COOKIE_SECRETS: SECRET, ...env }, {
    via: ['valgrind', '--tool=cachegrind', '--cache-sim=no', `--cachegrind-out-file=${outFile}`],
    timeoutMs: 60_000,
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const first = await fetch(`${server.url}/api/session`);
    const cookie = first.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const send = () => new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, path: '/api/counter', method: 'POST', agent, headers: cookie ? { cookie } : {} }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    // Under valgrind the store's client may still be connecting (503) when /health answers: wait for a first 200.
    for (let i = 0; (await send()) !== 200; i++) {
      if (i > 300) {
        throw new Error(`${script} ${JSON.stringify(env)}: POST /api/counter never answered 200 within 30 s`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    let sent = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (sent < requests) {
        sent++;
        const status = await send();
        if (status !== 200) {
          throw new Error(`${script} ${JSON.stringify(env)}: POST /api/counter answered ${status}`);
        }
      }
    }));
  } finally {
    agent.destroy();
    await server.stop();
  }
  try {
    const total = /summary: (\d+)/.exec(readFileSync(outFile, 'utf8'));
    if (!total) {
      throw new Error(`no cachegrind summary for ${script}:\n${server.stderr().slice(-2000)}`);
    }
    return Number(total[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function perRequest(script: string, env: Record<string, string>): Promise<number> {
  const [from, to] = [await countRun(script, env, FROM), await countRun(script, env, TO)];
  return Math.round((to - from) / (TO - FROM));
}

async function main(): Promise<void> {
  if (!existsSync('/usr/bin/valgrind')) {
    throw new Error('valgrind is missing: apt-get install -y valgrind');
  }
  mkdirSync(OUT, { recursive: true });
  const app = join(OUT, 'server.js');
  bundleSampleApp(app);
  const anchor = bundleAnchor('no-session');
  const cases: Array<[string, string, Record<string, string>]> = [
    ['no sessions (anchor)', anchor, {}],
    ['memory', app, storeEnvironment({ strategy: 'memory' })],
    ['cookie', app, storeEnvironment({ strategy: 'cookie' })],
    ['redis', app, storeEnvironment({ strategy: 'redis', redis: LOCAL_REDIS })],
  ];
  // Two at a time: the counts do not depend on what else runs.
  const counts: number[] = [];
  for (let i = 0; i < cases.length; i += 2) {
    counts.push(...await Promise.all(cases.slice(i, i + 2).map(([, script, env]) => perRequest(script, env))));
  }
  console.log([
    `Instructions per \`POST /api/counter\` (cachegrind, requests ${FROM + 1} to ${TO}, Node ${process.version}):`,
    '',
    '| server | instructions | vs no sessions |',
    '|---|---:|---:|',
    ...cases.map(([name], i) => `| ${name} | ${counts[i].toLocaleString('en-US')} | ${(counts[i] / counts[0]).toFixed(2)}x |`),
  ].join('\n'));
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});

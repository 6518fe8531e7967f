/**
 * `npm run bench`: measures, on loopback, each figure next to its anchor, and
 * writes bench/results.md. Every run is bounded in time; every figure is the
 * median of several runs; ratios carry the verdict, so a slow or busy machine
 * moves both sides together.
 *
 *   BENCH_DURATION=3 BENCH_RUNS=5 BENCH_CONNECTIONS=32 BENCH_SYNTH_RUNS=5 npm run bench
 *
 * Many short rounds rather than a few long ones: on a shared 2-core machine a
 * slow spell of tens of seconds is common, and with 5 rounds the median ratio
 * needs three of them to go wrong together.
 */
import { execFileSync, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { open, readFile, rename } from 'fs/promises';
import { cpus, tmpdir } from 'os';
import { join } from 'path';
import { gzipSync } from 'zlib';
import autocannon from 'autocannon';
import { TRAFFIC_SHIFTER_BUNDLE, bundleWithEsbuild, sourceBundle } from '../lib/private/esbuild-bundle';
import { bundleSampleApp } from '../lib/private/sample-app-asset';
import { APP_ENV, storeEnvironment } from '../lib/contract/app-env';
import { LOCAL_REDIS, OUT, Server, bundleAnchor, startServer } from './common';
import { DatabaseStore, DatabaseStoreOptions } from '../sample-app/src/sessions/database/store';
import { FileStore } from '../sample-app/src/sessions/file';
import { RedisStore } from '../sample-app/src/sessions/redis';
import { newSessionData, newSessionId } from '../sample-app/src/sessions/session';
import { SessionStore } from '../sample-app/src/sessions/store';

const ROOT = join(__dirname, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SYNTH_RUNS = Number(process.env.BENCH_SYNTH_RUNS ?? 5);
const SECRET = 'b'.repeat(16) + randomBytes(24).toString('base64url');
/** The machine's PostgreSQL (trust auth), database `test`. */
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 0) => Number(x.toFixed(digits));
const log = (...args: unknown[]) => console.error('[bench]', ...args);

// ---------------------------------------------------------------- 1. HTTP

interface HttpFigures {
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
async function measureHttp(app: string): Promise<HttpFigures[]> {
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

// ---------------------------------------------------------------- 2. stores

interface StoreFigures {
  readonly store: string;
  readonly pairsPerSecond: number;
  readonly anchor: string;
  readonly anchorPairsPerSecond: number;
}

/** Load-then-save pairs per second, `CONNECTIONS` sessions in parallel for `seconds`. */
async function pairsPerSecond(store: SessionStore, seconds: number): Promise<number> {
  let pairs = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const id = newSessionId();
    let version = await store.save(id, newSessionData(Date.now()), 0, 300);
    while (Date.now() < until) {
      const loaded = (await store.load(id))!;
      version = await store.save(id, { ...loaded.data, counter: loaded.data.counter + 1 }, version, 300);
      pairs++;
    }
  }));
  return pairs / seconds;
}

/** redis-benchmark's GET and SET rates at the same concurrency, as GET-then-SET pairs per second. */
function redisBenchmarkPairs(): number {
  const out = execFileSync('redis-benchmark', ['-h', '127.0.0.1', '-p', '6379', '-c', String(CONNECTIONS), '-n', '200000', '-t', 'get,set', '-d', '200', '--csv'], { encoding: 'utf8' });
  const rate = (test: string) => Number(new RegExp(`"${test}","([\\d.]+)"`).exec(out)![1]);
  return 1 / (1 / rate('GET') + 1 / rate('SET'));
}

/** The bare filesystem work of a file-store pair: read a file, write a temporary one, fsync, rename. */
async function barePairsPerSecond(dir: string, seconds: number): Promise<number> {
  let pairs = 0;
  const until = Date.now() + seconds * 1000;
  const body = JSON.stringify({ v: 1, d: newSessionData(0) });
  await Promise.all(Array.from({ length: CONNECTIONS }, async (_, i) => {
    const path = join(dir, `bare-${i}.json`);
    writeFileSync(path, body);
    while (Date.now() < until) {
      await readFile(path, 'utf8');
      const temp = `${path}.tmp`;
      const handle = await open(temp, 'w');
      await handle.writeFile(body);
      await handle.sync();
      await handle.close();
      await rename(temp, path);
      pairs++;
    }
  }));
  return pairs / seconds;
}

/**
 * pgbench at the same concurrency, each transaction a load and a save of one
 * row per client, as the store does: a SELECT by key and a single-row upsert
 * that moves the version on.
 */
function pgbenchPairs(seconds: number): number {
  const psql = (sql: string) => execFileSync('psql', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-d', PG.database, '-qtAc', sql]);
  psql('CREATE TABLE IF NOT EXISTS bench_anchor (id int PRIMARY KEY, version bigint NOT NULL, data text NOT NULL, expires_at bigint NOT NULL)');
  const data = JSON.stringify(newSessionData(0)).replace(/'/g, "''");
  const script = join(OUT, 'pgbench-pair.sql');
  writeFileSync(script, [
    'SELECT version, data FROM bench_anchor WHERE id = :client_id AND expires_at > 0;',
    `INSERT INTO bench_anchor (id, version, data, expires_at) VALUES (:client_id, 1, '${data}', 1) ` +
      'ON CONFLICT (id) DO UPDATE SET version = bench_anchor.version + 1, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at;',
    '',
  ].join('\n'));
  const out = execFileSync('pgbench', ['-h', PG.host, '-p', String(PG.port), '-U', PG.user, '-n', '-c', String(CONNECTIONS), '-j', '2',
    '-T', String(seconds), '-f', script, PG.database], { encoding: 'utf8' });
  return Number(/tps = ([\d.]+)/.exec(out)![1]);
}

async function measureStores(): Promise<StoreFigures[]> {
  const seconds = DURATION;
  const redis = await RedisStore.connect({ host: '127.0.0.1', port: 6379, tls: false, keyPrefix: 'bench-store:' });
  const redisRates: number[] = [];
  const anchorRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    redisRates.push(await pairsPerSecond(redis, seconds));
    anchorRates.push(redisBenchmarkPairs());
  }
  await redis.close();
  const dir = mkdtempSync(join(tmpdir(), 'bench-store-'));
  const file = await FileStore.open(join(dir, 'sessions'));
  const fileRates: number[] = [];
  const bareRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    fileRates.push(await pairsPerSecond(file, seconds));
    bareRates.push(await barePairsPerSecond(dir, seconds));
  }
  await file.close();
  rmSync(dir, { recursive: true, force: true });
  const dbOptions: DatabaseStoreOptions = { engine: 'postgres', primary: PG, replicas: [], database: PG.database, user: PG.user, tls: false, sweepIntervalSeconds: 0 };
  const database = await DatabaseStore.open(dbOptions);
  const databaseRates: number[] = [];
  const pgbenchRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    databaseRates.push(await pairsPerSecond(database, seconds));
    pgbenchRates.push(pgbenchPairs(seconds));
  }
  await database.close();
  const figures = [
    { store: 'redis (Lua compare-and-set)', pairsPerSecond: round(median(redisRates)), anchor: `redis-benchmark GET + SET, -c ${CONNECTIONS}`, anchorPairsPerSecond: round(median(anchorRates)) },
    { store: 'file (lock, temp file, fsync, rename)', pairsPerSecond: round(median(fileRates)), anchor: 'bare read + write + fsync + rename', anchorPairsPerSecond: round(median(bareRates)) },
    {
      store: 'database (PostgreSQL primary, no cache: SELECT, then UPDATE on the version)', pairsPerSecond: round(median(databaseRates)),
      anchor: `pgbench, SELECT + single-row upsert per transaction, -c ${CONNECTIONS}`, anchorPairsPerSecond: round(median(pgbenchRates)),
    },
  ];
  log(figures);
  return figures;
}

// ---------------------------------------------------------------- 3. synth

interface SynthFigures {
  readonly app: string;
  readonly seconds: number;
  readonly peakMb: number;
  /** Median over the rounds of this synth's time over the empty app's in the same round. */
  readonly vsEmpty: number;
}

/** One whole `npx cdk synth -q` in `cwd`, from no cdk.out: its wall time and peak resident memory. */
function synthOnce(cwd: string, env: Record<string, string> = {}): { seconds: number; peakMb: number } {
  rmSync(join(cwd, 'cdk.out'), { recursive: true, force: true });
  const res = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', 'npx', 'cdk', 'synth', '-q'], {
    cwd, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', ...env },
  });
  const match = /TIME ([\d.]+) (\d+)/.exec(res.stderr);
  if (res.status !== 0 || !match) {
    throw new Error(`cdk synth in ${cwd} failed:\n${res.stderr.slice(-2000)}`);
  }
  return { seconds: Number(match[1]), peakMb: Number(match[2]) / 1024 };
}

/**
 * The synths take turns within each round (empty app, demo, demo without the
 * bundle cache), so that a slow minute falls on all three, and each ratio is
 * taken within one round. The demo's usual synth finds its bundles in the
 * cache (a first synth filled it); the third line is a synth that must bundle.
 */
function measureSynth(): SynthFigures[] {
  if (!existsSync('/usr/bin/time')) {
    throw new Error('/usr/bin/time is missing: apt-get install -y time');
  }
  const empty = join(OUT, 'empty-app');
  if (!existsSync(join(empty, 'cdk.json'))) {
    log('creating an empty `cdk init app --language typescript` (once; needs the npm registry)');
    mkdirSync(empty, { recursive: true });
    execFileSync(join(ROOT, 'node_modules', '.bin', 'cdk'), ['init', 'app', '--language', 'typescript', '--generate-only'], { cwd: empty, stdio: 'ignore' });
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: empty, stdio: 'ignore' });
  }
  const cases: Array<[string, string, Record<string, string>]> = [
    ['empty `cdk init app` (anchor)', empty, {}],
    ['demo app (SessionTierDemo, cdk-nag on)', ROOT, {}],
    ['demo app, bundling anew (bundle cache off)', ROOT, { CDK_SESSION_TIER_BUNDLE_CACHE: 'off' }],
  ];
  synthOnce(ROOT); // fills the bundle cache, as any first synth does
  const rounds = Array.from({ length: SYNTH_RUNS }, () => cases.map(([, cwd, env]) => synthOnce(cwd, env)));
  const figures = cases.map(([app], i) => ({
    app,
    seconds: median(rounds.map((turn) => turn[i].seconds)),
    peakMb: round(median(rounds.map((turn) => turn[i].peakMb))),
    vsEmpty: round(median(rounds.map((turn) => turn[i].seconds / turn[0].seconds)), 2),
  }));
  log(figures);
  return figures;
}

// ---------------------------------------------------------------- 4. bundles

interface BundleFigures {
  readonly bundle: string;
  readonly kb: number;
  readonly gzipKb: number;
  readonly loadMs: number;
  readonly what: string;
}

function moduleLoadMs(file: string): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`], { encoding: 'utf8' });
    runs.push(Number(out.trim()));
  }
  return round(median(runs), 1);
}

/** Section 4 for `app`, the sample app's bundle, and the traffic shifter's. */
async function measureBundles(app: string): Promise<BundleFigures[]> {
  const starts: number[] = [];
  const cookieStarts: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const [strategy, into] of [['memory', starts], ['cookie', cookieStarts]] as const) {
      const server = await startServer(app, { SESSION_STRATEGY: strategy, SESSION_COOKIE_SECRETS: SECRET });
      into.push(server.startMs);
      await server.stop();
    }
  }
  // The bundle the construct stages, for the runtime it runs on.
  const shifter = join(OUT, 'traffic-shifter.js');
  bundleWithEsbuild(sourceBundle(TRAFFIC_SHIFTER_BUNDLE), shifter);
  const size = (f: string) => ({ kb: round(statSync(f).size / 1024), gzipKb: round(gzipSync(readFileSync(f)).length / 1024) });
  const figures = [
    { bundle: 'sample app (server.js)', ...size(app), loadMs: round(median(starts), 1), what: 'process start to first `/health` answer (`memory`)' },
    { bundle: 'sample app (server.js), `cookie`', ...size(app), loadMs: round(median(cookieStarts), 1), what: 'the same with `cookie`, which loads libsodium' },
    { bundle: 'traffic shifter (index.js, SDK bundled)', ...size(shifter), loadMs: moduleLoadMs(shifter), what: '`require()` of the handler module' },
  ];
  log(figures);
  return figures;
}

// ---------------------------------------------------------------- report

function verdict(ok: boolean): string {
  return ok ? 'met' : '**not met**';
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  // One bundle of the sample app, as the fleets run it, for the requests and for its size and start-up.
  const app = join(OUT, 'server.js');
  bundleSampleApp(app);
  const http = await measureHttp(app);
  const stores = await measureStores();
  const bundles = await measureBundles(app);
  const synth = measureSynth();

  const by = (name: string) => http.find((h) => h.name.startsWith(name))!;
  const peer = by('express-session');
  const redis = by('redis');
  const cookie = by('cookie');
  const synthRatio = synth[1].vsEmpty;
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()},`,
    `${CONNECTIONS} connections, ${RUNS} rounds of ${DURATION} s per server after a 2 s warm-up, the servers taking turns within each round; medians,`,
    'and each ratio the median of the ratios within one round. Load generator (autocannon), servers and stores share the machine.',
    '',
    '## 1. The sample app: `POST /api/counter` (load the session, add one, save it)',
    '',
    '| server | requests/s | p50 ms | p99 ms | vs no sessions | non-2xx + errors |',
    '|---|---:|---:|---:|---:|---:|',
    ...http.map((h) => `| ${h.name} | ${h.rps} | ${h.p50} | ${h.p99} | ${h.vsAnchor}x | ${h.failures} |`),
    '',
    '| target | figure | verdict |',
    '|---|---|---|',
    `| \`redis\` at 3x the peer's throughput or better, at a lower p99 | ${redis.vsPeer}x, p99 ${redis.p99} ms vs ${peer.p99} ms | ${verdict(redis.vsPeer >= 3 && redis.p99 < peer.p99)} |`,
    `| \`cookie\` at half the no-session throughput or better | ${cookie.vsAnchor}x | ${verdict(cookie.vsAnchor >= 0.5)} |`,
    '',
    '## 2. The stores against their backends (load + save pairs per second)',
    '',
    '| store | pairs/s | anchor | anchor pairs/s | ratio |',
    '|---|---:|---|---:|---:|',
    ...stores.map((s) => `| ${s.store} | ${s.pairsPerSecond} | ${s.anchor} | ${s.anchorPairsPerSecond} | ${round(s.pairsPerSecond / s.anchorPairsPerSecond, 2)} |`),
    '',
    '## 3. `npx cdk synth`, whole process',
    '',
    `${SYNTH_RUNS} rounds, each running the three in turn from no cdk.out (the bundle cache in node_modules/.cache stays, as it does between a user's synths).`,
    '',
    '| app | median s | peak RSS MB | vs empty app |',
    '|---|---:|---:|---:|',
    ...synth.map((s) => `| ${s.app} | ${s.seconds} | ${s.peakMb} | ${s.vsEmpty}x |`),
    '',
    `Ratio ${synthRatio}x against the target of at most 1.3x: ${verdict(synthRatio <= 1.3)} (bundling anew: ${synth[2].vsEmpty}x).`,
    '',
    '## 4. Bundles',
    '',
    '| bundle | KB | gzip KB | start-up ms | measured |',
    '|---|---:|---:|---:|---|',
    ...bundles.map((b) => `| ${b.bundle} | ${b.kb} | ${b.gzipKb} | ${b.loadMs} | ${b.what} |`),
    '',
    `The whole run took ${Math.round((Date.now() - started) / 1000)} s.`,
    '',
  ];
  // The section that explains the code is written by hand: carried over from the last results.
  const resultsFile = join(__dirname, 'results.md');
  const previous = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
  const why = previous.indexOf('## Why the code is as it is');
  writeFileSync(resultsFile, lines.join('\n') + (why < 0 ? '' : `\n${previous.slice(why)}`));
  console.log(lines.join('\n'));
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});

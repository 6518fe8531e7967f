/**
 * Section 2 of `npm run bench`: each store's load + save pairs against its
 * backend's own benchmark tool (redis-benchmark, a bare file write, pgbench).
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { open, readFile, rename } from 'fs/promises';
import { tmpdir } from 'os';
import { join } from 'path';
import { CONNECTIONS, DURATION, OUT, PG, RUNS, log, median, round } from './common';
import { DatabaseStore, DatabaseStoreOptions } from '../sample-app/src/sessions/database/store';
import { FileStore } from '../sample-app/src/sessions/file';
import { RedisStore } from '../sample-app/src/sessions/redis';
import { newSessionData, newSessionId } from '../sample-app/src/sessions/session';
import { SessionStore } from '../sample-app/src/sessions/store';


export interface StoreFigures {
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

export async function measureStores(): Promise<StoreFigures[]> {
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

/** What the benchmark parts share: their settings, where they build, the anchors' bundles, starting a server. */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { mkdirSync } from 'fs';
import { join } from 'path';
import { RedisSettings } from '../lib/contract/app-env';
import { bundleWithEsbuild } from '../lib/private/esbuild-bundle';
import { freePort } from '../local/ports';

/** The run's settings (see run.ts). */
export const DURATION = Number(process.env.BENCH_DURATION ?? 3);
export const RUNS = Number(process.env.BENCH_RUNS ?? 5);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
export const SYNTH_RUNS = Number(process.env.BENCH_SYNTH_RUNS ?? 5);
/** The cookie strategy's sealing secret for this run. */
export const SECRET = 'b'.repeat(16) + randomBytes(24).toString('base64url');

/** The machine's PostgreSQL (trust auth), database `test`. */
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };

/** The middle value (the upper middle of an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** `x` to `digits` decimals. */
export const round = (x: number, digits = 0): number => Number(x.toFixed(digits));
/** Progress on stderr, so that stdout holds the results alone. */
export const log = (...args: unknown[]): void => console.error('[bench]', ...args);

/** Where the benchmarks put their bundles and scratch files (ignored by git). */
export const OUT = join(__dirname, '.out');

/** An anchor server (bench/anchors/<name>.ts) bundled as the sample app is, so both load the same way. */
export function bundleAnchor(name: string): string {
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, `${name}.js`);
  bundleWithEsbuild({ entry: join(__dirname, 'anchors', `${name}.ts`), fileName: `${name}.js`, target: 'node20', keepNames: true }, outfile);
  return outfile;
}

/** A server process the benchmarks started. */
export interface Server {
  readonly url: string;
  readonly port: number;
  /** From spawning it to its first answer on `/health`, in ms. */
  readonly startMs: number;
  /** The end of what it wrote to stderr. */
  stderr(): string;
  /** Sends SIGTERM and resolves once it has exited. */
  stop(): Promise<void>;
}

/**
 * Starts `node <script>` on a free loopback port, through `via` when given
 * (`valgrind ...`), and resolves once `/health` answers; fails with what it
 * wrote to stderr when it exits or does not answer within `timeoutMs`.
 */
export async function startServer(script: string, env: Record<string, string>, options: { via?: readonly string[]; timeoutMs?: number } = {}): Promise<Server> {
  const port = await freePort();
  const [command, ...args] = [...options.via ?? [], process.execPath, script];
  const started = process.hrtime.bigint();
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH, SESSION_APP_LOG: 'false', ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (!(await fetch(`${url}/health`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} did not answer /health (${child.exitCode !== null ? `exited with ${child.exitCode}` : 'timed out'}):\n${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return {
    url,
    port,
    startMs: Number(process.hrtime.bigint() - started) / 1e6,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The machine's own Redis, as the benchmarks' stores reach it (the contract's settings). */
export const LOCAL_REDIS: RedisSettings = { host: '127.0.0.1', port: '6379', tls: false };

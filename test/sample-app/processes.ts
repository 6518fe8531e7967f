/**
 * Real processes for the tests: the sample app as its own process, and a
 * Redis server of the tests' own on a free loopback port (one they can kill).
 */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { createServer } from 'net';
import { join } from 'path';
import { createClient } from '@redis/client';
import { SECRET_A } from './helpers';

const ROOT = join(__dirname, '..', '..');

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls `check` until it resolves true, or fails after `timeoutMs` (or once `signal` aborts) naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    if (await check().catch(() => false)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(signal?.aborted ? `gave up waiting for ${what}` : `timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The sample app in a process of its own, as the fleet runs it (`node --import tsx`). */
export interface AppProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `sample-app/src/main.ts` on a free port with the environment given, and waits for `/health`. */
export async function spawnApp(env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'sample-app', 'src', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, SESSION_COOKIE_SECRETS: SECRET_A, SESSION_APP_LOG: 'false', ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const url = `http://127.0.0.1:${port}`;
  // An app that exits stops the polling too, so that no timer outlives the test.
  const exit = new AbortController();
  void exited.then(() => exit.abort());
  const up = waitFor(`the app on port ${port}`, async () => (await fetch(`${url}/health`)).ok, 15_000, exit.signal);
  const early = exited.then((code) => {
    throw new Error(`the app exited with ${code} before it answered:\n${output}`);
  });
  up.catch(() => undefined);
  early.catch(() => undefined);
  await Promise.race([up, early]);
  return {
    url,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
      return exited;
    },
  };
}

/**
 * A Redis server of the tests' own: nothing kept on disk, or, with a data
 * directory, every write in an append-only file, so a restart after a kill
 * comes back with the data (as a cache node that fails over does).
 */
export class RedisServer {
  /** Starts one on a free port and waits until it answers PING. */
  public static async start(options: { dataDir?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.dataDir);
    await server.restart();
    return server;
  }

  private child: ChildProcess | undefined;

  private constructor(public readonly port: number, private readonly dataDir?: string) {}

  /** Starts it again on the same port; a no-op while it runs. */
  public async restart(): Promise<void> {
    if (this.child) {
      return;
    }
    const persistence = this.dataDir ? ['--dir', this.dataDir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
    await waitFor(`redis-server on port ${this.port}`, async () => {
      const probe = createClient({ socket: { port: this.port, host: '127.0.0.1', reconnectStrategy: false } });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        if (probe.isOpen) {
          probe.destroy();
        }
      }
    });
  }

  /** Stops it (SIGSTOP): connections stay open and nothing answers, as a hung node or a black-holed network looks. */
  public pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a paused server go on (SIGCONT). */
  public resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills it at once (SIGKILL), as a failed node would go. */
  public async kill(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    this.child = undefined;
  }
}

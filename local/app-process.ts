/** The sample app as a process of its own, as the fleet runs it, on a free loopback port. */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { join } from 'path';
import { freePort, waitFor } from './ports';
import { SECRET_A } from './secrets';

const ROOT = join(__dirname, '..');

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
  try {
    await Promise.race([up, early]);
  } catch (e) {
    // An app that did not answer in time is still running: stop it, or it outlives the test that gave up on it.
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
    throw e;
  }
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

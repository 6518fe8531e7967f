/**
 * A Lambda function as the lab runs one: the shipped bundle (the file
 * `npm run build` puts in dist/assets, built here the way a synth from a
 * source checkout builds it) in a Node.js process of its own with the
 * environment Lambda gives a function, one invocation at a time. The process
 * lives on between invocations (a warm execution environment: the module's
 * SDK clients are made once), and a timed-out invocation ends it, as Lambda
 * ends the environment of a function that timed out.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { join } from 'path';
import { TRAFFIC_SHIFTER_BUNDLE, cachedBundleWithEsbuild, sourceBundle } from '../lib/private/esbuild-bundle';
import { bundleCacheDir } from '../lib/private/bundle-cache';
import { packageRoot } from '../lib/private/package-root';

/** What the function's handler threw, as Lambda reports a function error. */
export class FunctionError extends Error {
  constructor(public readonly errorType: string, public readonly errorMessage: string) {
    super(errorMessage);
    this.name = errorType;
  }
}

export interface LambdaOptions {
  /** The function's name (`AWS_LAMBDA_FUNCTION_NAME`). */
  readonly name: string;
  /** The bundle (a CommonJS file) and the export to call, as `index.onEvent`. */
  readonly bundle: string;
  readonly handler: string;
  /** The function's own environment variables (besides those Lambda sets). */
  readonly environment: Readonly<Record<string, string>>;
  /** @default 60000, the shifter functions' timeout */
  readonly timeoutMs?: number;
  /** @default 256 */
  readonly memoryMb?: number;
}

/** The runtime in the function's process: loads the bundle, then answers each invocation sent to it. */
const RUNTIME = `
const handler = require(process.argv[1])[process.argv[2]];
if (typeof handler !== 'function') { throw new Error('the bundle has no export ' + process.argv[2]); }
process.on('message', async ({ id, event }) => {
  const context = { functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, awsRequestId: id, getRemainingTimeInMillis: () => Number(process.env.LAB_TIMEOUT_MS) };
  try {
    process.send({ id, result: (await handler(event, context)) ?? null });
  } catch (e) {
    process.send({ id, error: { errorType: (e && e.name) || 'Error', errorMessage: (e && e.message) || String(e) } });
  }
});
process.send({ ready: true });
`;

/** Builds the traffic shifter's bundle into `dir` (from the bundle cache when nothing it is made from changed) and returns its path. */
export function trafficShifterBundle(dir: string): string {
  const outfile = join(dir, TRAFFIC_SHIFTER_BUNDLE.fileName);
  cachedBundleWithEsbuild(sourceBundle(TRAFFIC_SHIFTER_BUNDLE), outfile, bundleCacheDir(packageRoot()));
  return outfile;
}

/** One function's execution environment: a process running the bundle, invoked one event at a time. */
export class LambdaFunction {
  /** What the function logged (its CloudWatch Logs), one line per entry. */
  public readonly logs: string[] = [];
  /** Invocations so far, and those that were cold starts (a new process). */
  public invocations = 0;
  public coldStarts = 0;
  private child?: ChildProcess;
  private ready?: Promise<void>;
  private nextId = 1;
  /** One invocation at a time, as one execution environment takes them. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LambdaOptions) {}

  /** Calls the handler with `event`; resolves with what it returned, rejects with a {@link FunctionError}. */
  public invoke(event: unknown): Promise<unknown> {
    const result = this.queue.then(() => this.run(event));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private environment(): Record<string, string> {
    const o = this.options;
    return {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      AWS_LAMBDA_FUNCTION_NAME: o.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(o.memoryMb ?? 256),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${o.name}`,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: join(o.bundle, '..'),
      LAB_TIMEOUT_MS: String(o.timeoutMs ?? 60_000),
      ...o.environment,
    };
  }

  private start(): Promise<void> {
    const child = spawn(process.execPath, ['-e', RUNTIME, this.options.bundle, this.options.handler], {
      env: this.environment(),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    this.coldStarts++;
    const log = (d: Buffer) => this.logs.push(...String(d).split('\n').filter((l) => l !== ''));
    child.stdout!.on('data', log);
    child.stderr!.on('data', log);
    return new Promise<void>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; id?: string; result?: unknown; error?: { errorType: string; errorMessage: string } }) => {
        if (m.ready) {
          resolve();
        } else if (this.pending && m.id === this.pending.id) {
          const { settle } = this.pending;
          this.pending = undefined;
          settle(m.error ? new FunctionError(m.error.errorType, m.error.errorMessage) : undefined, m.result);
        }
      });
      child.on('exit', (code, signal) => {
        reject(new FunctionError('Runtime.ExitError', `${this.options.name} exited with ${code ?? signal} at start: ${this.logs.slice(-5).join(' | ')}`));
        if (this.pending) {
          const { id, settle } = this.pending;
          this.pending = undefined;
          settle(new FunctionError('Runtime.ExitError', `RequestId: ${id} Error: Runtime exited with ${code ?? signal}`));
        }
      });
    });
  }

  /** The invocation in flight: its id, and what ends it. */
  private pending?: { readonly id: string; readonly settle: (error: Error | undefined, result?: unknown) => void };

  private async run(event: unknown): Promise<unknown> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) {
      this.ready = this.start();
    }
    await this.ready;
    const child = this.child!;
    const id = `req-${this.nextId++}`;
    this.invocations++;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise((resolve, reject) => {
        this.pending = { id, settle: (error, result) => (error ? reject(error) : resolve(result)) };
        timer = setTimeout(() => {
          this.pending = undefined;
          // The environment is gone at once: the next invocation starts a new one, whenever this process's exit is seen.
          this.child = undefined;
          child.kill('SIGKILL');
          reject(new FunctionError('Sandbox.Timedout', `RequestId: ${id} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`));
        }, timeoutMs);
        child.send({ id, event }, (error) => {
          if (error && this.pending?.id === id) {
            this.pending = undefined;
            reject(new FunctionError('Runtime.ExitError', `RequestId: ${id} Error: the runtime could not take the invocation: ${error.message}`));
          }
        });
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the execution environment. */
  public async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
}

/**
 * HAProxy (Debian's package) standing in for the Application Load Balancer,
 * configured from the same `Stickiness` values and blue/green weights the
 * constructs take. See lab/README.md for where it behaves differently.
 */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { writeFileSync } from 'fs';
import { connect } from 'net';
import { join } from 'path';
import { routingStickinessProblems } from '../lib/blue-green-routing';
import { SessionTierValidationError } from '../lib/errors';
import { MAX_STICKINESS_SECONDS, Stickiness, StickinessType } from '../lib/stickiness';

/** The ALB's weight range for one target group in a weighted forward. */
const MAX_WEIGHT = 999;

/** One app process behind the proxy. */
export interface LabServer {
  readonly name: string;
  readonly port: number;
}

/** One color: its servers and how the proxy keeps a user on one of them (the target group's stickiness). */
export interface LabBackend {
  readonly servers: readonly LabServer[];
  readonly stickiness: Stickiness;
}

/** What the proxy is built from. */
export interface HaproxyOptions {
  /** Where users connect (127.0.0.1). */
  readonly port: number;
  /** A directory of the lab's own: the weights map and the runtime API socket go there. */
  readonly dir: string;
  readonly blue: LabBackend;
  readonly green?: LabBackend;
  /** Target-group stickiness between the colors (`AWSALBTG`); a load-balancer cookie or none. */
  readonly groupStickiness: Stickiness;
  /** Integer weights 0 to 999, not both 0. */
  readonly weights: { readonly blue: number; readonly green: number };
  /** Health-check interval, in milliseconds. @default 500 */
  readonly checkIntervalMs?: number;
}

/** Checks the weights as the ALB (and `BlueGreenRouting`) would. */
export function checkWeights(weights: { blue: number; green: number }): void {
  for (const [color, w] of Object.entries(weights)) {
    if (!Number.isInteger(w) || w < 0 || w > MAX_WEIGHT) {
      throw new RangeError(`weights.${color}: must be a whole number from 0 to ${MAX_WEIGHT}, got ${w}`);
    }
  }
  if (weights.blue + weights.green === 0) {
    throw new RangeError('weights: blue and green must not both be 0');
  }
}

/**
 * Refuses what AWS refuses, with `BlueGreenRouting`'s own rules and messages,
 * so the lab never measures a setup that cannot be deployed.
 */
export function checkStickiness(blue: Stickiness, green: Stickiness | undefined, groupStickiness: Stickiness): void {
  const problems = routingStickinessProblems(blue, green, groupStickiness);
  if (problems.length > 0) {
    throw new SessionTierValidationError(problems);
  }
}

/** The HAProxy configuration for these options. */
export function renderHaproxyConfig(o: HaproxyOptions): string {
  checkWeights(o.weights);
  checkStickiness(o.blue.stickiness, o.green?.stickiness, o.groupStickiness);
  const inter = o.checkIntervalMs ?? 500;
  const group = o.groupStickiness;
  const colors = o.green ? ['blue', 'green'] as const : ['blue'] as const;
  const lines = [
    'global',
    `  stats socket ${socketPath(o.dir)} mode 600 level admin`,
    '  maxconn 4096',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 30s',
    '  timeout server 30s',
    // No retry on another server: the ALB answers 502 when a target refuses the connection, until
    // health checks take it out, so a killed instance costs errors here as well, not silent retries.
    '  retries 0',
    '',
    'frontend web',
    `  bind 127.0.0.1:${o.port}`,
    '  # Target-group stickiness (AWSALBTG): a user who has a color keeps it while that color has a healthy server.',
    '  http-request set-var(txn.tg) req.cook(AWSALBTG)',
    ...colors.flatMap((c) => [
      `  acl ${c}_up nbsrv(${c}) gt 0`,
      `  http-request set-var(txn.color) str(${c}) if { var(txn.tg) -m str ${c} } ${c}_up`,
    ]),
    '  acl chosen var(txn.color) -m found',
    '  # A first visit (or a color without healthy servers): a weighted choice, with the weights from the map the runtime API changes.',
    '  http-request set-var(txn.fresh) bool(true) if !chosen',
    `  http-request set-var(txn.gw) str(green),map(${mapPath(o.dir)},0) if !chosen`,
    `  http-request set-var(txn.total) str(total),map(${mapPath(o.dir)},1) if !chosen`,
    '  http-request set-var(txn.pick) rand(1000000),mod(txn.total) if !chosen',
    ...(o.green ? ['  http-request set-var(txn.color) str(green) if !chosen green_up { var(txn.pick),sub(txn.gw) lt 0 }'] : []),
    '  http-request set-var(txn.color) str(blue) if !chosen',
    ...(group.enabled
      ? [`  http-response add-header Set-Cookie "AWSALBTG=%[var(txn.color)]; Max-Age=${group.duration!.toSeconds()}; Path=/" if { var(txn.fresh) -m bool }`]
      : []),
    '  use_backend %[var(txn.color)]',
    '',
  ];
  for (const color of colors) {
    const backend = o[color]!;
    const s = backend.stickiness;
    lines.push(`backend ${color}`, '  balance roundrobin', '  option httpchk GET /health');
    if (s.type === StickinessType.LOAD_BALANCER_COOKIE) {
      // AWSALB names the server; maxlife ends the stickiness after the duration (HAProxy puts the first
      // visit's date in the cookie), and the browser keeps the cookie 7 days, as the ALB's.
      lines.push(`  cookie AWSALB insert indirect nocache httponly maxlife ${s.duration!.toSeconds()}s attr "Max-Age=${MAX_STICKINESS_SECONDS}"`);
    } else if (s.type === StickinessType.APPLICATION_COOKIE) {
      // Keyed on the app's own cookie, learnt from the response that sets it.
      lines.push(
        `  stick-table type string len 64 size 100k expire ${s.duration!.toSeconds()}s`,
        `  stick on req.cook(${s.cookieName})`,
        `  stick store-response res.cook(${s.cookieName})`,
      );
    }
    for (const server of backend.servers) {
      const cookie = s.type === StickinessType.LOAD_BALANCER_COOKIE ? ` cookie ${server.name}` : '';
      lines.push(`  server ${server.name} 127.0.0.1:${server.port} check inter ${inter} fall 2 rise 1${cookie}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

function socketPath(dir: string): string {
  return join(dir, 'haproxy.sock');
}

function mapPath(dir: string): string {
  return join(dir, 'weights.map');
}

function mapFile(weights: { blue: number; green: number }): string {
  return `green ${weights.green}\nblue ${weights.blue}\ntotal ${weights.blue + weights.green}\n`;
}

/** A running HAProxy. */
export class Haproxy {
  /** Writes the configuration and the weights, starts HAProxy and waits until it listens. */
  public static async start(options: HaproxyOptions): Promise<Haproxy> {
    const config = join(options.dir, 'haproxy.cfg');
    writeFileSync(config, renderHaproxyConfig(options));
    writeFileSync(mapPath(options.dir), mapFile(options.weights));
    const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr!.on('data', (d) => (errors += d));
    const proxy = new Haproxy(child, options);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) {
        throw new Error(`haproxy exited with ${child.exitCode}: ${errors}`);
      }
      if (await proxy.command('show info').then(() => true, () => false)) {
        return proxy;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`haproxy did not start within 10 s: ${errors}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private constructor(private readonly child: ChildProcess, private readonly options: HaproxyOptions) {}

  /** The URL users open. */
  public get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** Changes the weights of new users' first choice at run time, through the runtime API. */
  public async setWeights(weights: { blue: number; green: number }): Promise<void> {
    checkWeights(weights);
    for (const [key, value] of Object.entries({ green: weights.green, blue: weights.blue, total: weights.blue + weights.green })) {
      const answer = await this.command(`set map ${mapPath(this.options.dir)} ${key} ${value}`);
      if (answer.trim() !== '') {
        throw new Error(`haproxy refused the weight ${key}=${value}: ${answer.trim()}`);
      }
    }
  }

  /** Each server's state as the health checks see it (`UP`, `DOWN`, ...). */
  public async serverStates(): Promise<Record<string, string>> {
    const csv = await this.command('show stat');
    const states: Record<string, string> = {};
    for (const line of csv.split('\n')) {
      const [backend, server, ...rest] = line.split(',');
      if (backend && server && !['FRONTEND', 'BACKEND', 'svname'].includes(server) && !backend.startsWith('#')) {
        states[server] = rest[15] ?? '';
      }
    }
    return states;
  }

  /** Sends one command to the runtime API and returns its answer. */
  public async command(command: string): Promise<string> {
    const socket = connect(socketPath(this.options.dir));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    await once(socket, 'connect');
    socket.end(`${command}\n`);
    await once(socket, 'close');
    return answer;
  }

  /** Stops it; also when it has already gone (Ctrl-C reaches HAProxy too). */
  public async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      await exited;
    }
  }
}

/**
 * HAProxy (Debian's package) standing in for the Application Load Balancer:
 * the target groups' stickiness from the same `Stickiness` values the
 * constructs take, the listener's rules from the lab's ELBv2 endpoint
 * (evaluated in lab/elb/routing.lua), targets in server slots registered at
 * run time. See lab/README.md for where it behaves differently.
 */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { writeFileSync } from 'fs';
import { connect } from 'net';
import { join } from 'path';
import { routingStickinessProblems } from '../lib/blue-green-routing/resolve-props';
import { SessionTierValidationError } from '../lib/errors';
import { MAX_STICKINESS_SECONDS } from '../lib/contract/app-env';
import { Stickiness, StickinessType } from '../lib/stickiness';
import { RoutingRule } from './elb/load-balancer';

/** One target group as HAProxy serves it: a backend of server slots, which targets take as they register. */
export interface LabBackend {
  /** Server slots: the most targets the group can have at once, draining ones included. */
  readonly slots: number;
  /** The target group's stickiness (AWSALB, or the app's cookie). */
  readonly stickiness: Stickiness;
}

/** What the proxy is built from. */
export interface HaproxyOptions {
  /** Where users connect (127.0.0.1). */
  readonly port: number;
  /** A directory of the lab's own: the configuration and the runtime API socket go there. */
  readonly dir: string;
  /** The target groups by name (`blue`, `green`): one backend each. */
  readonly backends: Readonly<Record<string, LabBackend>>;
  /** The listener's rules at start, as the ELBv2 endpoint has them. */
  readonly rules: readonly RoutingRule[];
  /** Health-check interval, in milliseconds. @default 500 */
  readonly checkIntervalMs?: number;
}

/** Health checks: down after 2 failures, up after 1 success (the ALB's thresholds are 2 to 10, scaled down with the interval). */
export const HEALTH_CHECK = { fall: 2, rise: 1 } as const;

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

/** The slot names of a backend: `blue-s1`, `blue-s2`, ... */
function slotNames(group: string, backend: LabBackend): string[] {
  return Array.from({ length: backend.slots }, (_, i) => `${group}-s${i + 1}`);
}

/**
 * The HAProxy configuration: the frontend hands each request to the
 * listener's rules in Lua (lab/elb/routing.lua), which pick the target group;
 * each group is a backend whose server slots start in maintenance, with
 * health checks on `/health`, and its stickiness.
 */
export function renderHaproxyConfig(o: HaproxyOptions): string {
  const inter = o.checkIntervalMs ?? 500;
  const lines = [
    'global',
    `  stats socket ${socketPath(o.dir)} mode 600 level admin`,
    `  lua-load ${LUA_RULES}`,
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
    '  # The listener\'s rules pick the target group (txn.color); AWSALBTG is set on a weighted choice of a rule with group stickiness.',
    '  http-request lua.elb_route',
    '  http-response add-header Set-Cookie "AWSALBTG=%[var(txn.color)]; Max-Age=%[var(txn.group_s)]; Path=/" if { var(txn.fresh) -m found }',
    // For the lab's users only: the group and the rule each request was sent by, on HAProxy's own 503s too.
    '  http-after-response set-header X-Lab-Color %[var(txn.color)]',
    '  http-after-response set-header X-Lab-Rule %[var(txn.rule)]',
    '  use_backend %[var(txn.color)]',
    '  default_backend none',
    '',
    '# No target group chosen (all weights 0, or no rule matched): 503.',
    'backend none',
    '',
  ];
  for (const [group, backend] of Object.entries(o.backends)) {
    const s = backend.stickiness;
    lines.push(`backend ${group}`, '  balance roundrobin', '  option httpchk GET /health');
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
    for (const slot of slotNames(group, backend)) {
      const cookie = s.type === StickinessType.LOAD_BALANCER_COOKIE ? ` cookie ${slot}` : '';
      lines.push(`  server ${slot} 127.0.0.1:1 disabled check inter ${inter} fall ${HEALTH_CHECK.fall} rise ${HEALTH_CHECK.rise}${cookie}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** The Lua that evaluates the listener's rules. */
const LUA_RULES = join(__dirname, 'elb', 'routing.lua');

function socketPath(dir: string): string {
  return join(dir, 'haproxy.sock');
}

/** A Lua literal of `value` (strings, numbers, lists and records). */
function luaLiteral(value: unknown): string {
  if (typeof value === 'string') {
    // Every byte outside printable ASCII, and the quote and backslash, as a decimal escape.
    return `"${[...Buffer.from(value)].map((b) => (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c ? `\\${String(b).padStart(3, '0')}` : String.fromCharCode(b))).join('')}"`;
  }
  if (typeof value === 'number') {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `{${value.map(luaLiteral).join(',')}}`;
  }
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${luaLiteral(v)}`).join(',')}}`;
}

/** The rules as routing.lua takes them. */
function luaRules(rules: readonly RoutingRule[]): string {
  return `return ${luaLiteral(rules.map((r) => ({ id: r.id, conditions: r.conditions, targets: r.targets, sticky: r.stickySeconds })))}`;
}

/** One server row of `show stat`. */
export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  /** `UP`, `UP 1/2` (failing, not yet down), `DOWN`, `MAINT`, `DRAIN`, ... */
  readonly status: string;
  /** The last check's result: `INI` before the first, `L7OK`, `L4CON`, `L7STS`, `L4TOUT`, ... */
  readonly checkStatus: string;
  /** Failed checks since start. */
  readonly checkFailures: number;
  /** Requests sent to it (for a backend's row, all of its servers', and its 503s without a server). */
  readonly total: number;
}

/** A running HAProxy, changed at run time through its runtime API (never reloaded). */
export class Haproxy {
  /** Writes the configuration and the weights, starts HAProxy and waits until it listens. */
  public static async start(options: HaproxyOptions): Promise<Haproxy> {
    const config = join(options.dir, 'haproxy.cfg');
    writeFileSync(config, renderHaproxyConfig(options));
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
        await proxy.setRules(options.rules);
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

  /** The change in progress: runtime API commands that belong together are not interleaved with another change's. */
  private changing: Promise<unknown> = Promise.resolve();

  /** The URL users open. */
  public get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** The health-check interval, in milliseconds. */
  public get checkIntervalMs(): number {
    return this.options.checkIntervalMs ?? 500;
  }

  /** The server slots of a target group's backend. */
  public slots(group: string): string[] {
    return slotNames(group, this.options.backends[group]);
  }

  private serially<T>(change: () => Promise<T>): Promise<T> {
    const done = this.changing.then(change);
    this.changing = done.catch(() => undefined);
    return done;
  }

  /**
   * Replaces the listener's rules at run time, in one step (one runtime API
   * command the Lua takes whole), as the ELBv2 endpoint changes them: no
   * request sees half of a change.
   */
  public setRules(rules: readonly RoutingRule[]): Promise<void> {
    return this.serially(async () => {
      const hex = Buffer.from(luaRules(rules)).toString('hex');
      // The runtime API reads a command line into one buffer (tune.bufsize, 16 kB by default).
      if (hex.length > 15_000) {
        throw new Error(`the listener's rules are too large for one runtime API command (${hex.length} characters); the lab handles a few dozen rules`);
      }
      const answer = (await this.command(`elb set-rules ${hex}`)).trim();
      if (!answer.startsWith('ok ')) {
        throw new Error(`haproxy refused the listener's rules: ${answer}`);
      }
    });
  }

  /**
   * Puts a target in a slot: its address, out of maintenance, and health
   * forced down so that it gets no request before a health check passes (as
   * the ALB routes to a registering target only once it is healthy).
   */
  public enable(group: string, slot: string, port: number): Promise<void> {
    return this.serially(async () => {
      const server = `${group}/${slot}`;
      await this.command(`set server ${server} addr 127.0.0.1 port ${port}`);
      // Ready, then health down: a server leaving maintenance is put UP by HAProxy ("start OK but check immediately"),
      // whatever health it was given while in maintenance, so `health down` must come after `state ready`. Weight 0 from
      // before until after keeps the load-balancing from picking it between the two (a checked-up server gets it back).
      await this.expectSilence(`set weight ${server} 0; set server ${server} state ready; set server ${server} health down; set weight ${server} 100%`);
    });
  }

  /** Takes a slot out of service at once (maintenance): no new request, those in flight finish. */
  public disable(group: string, slot: string): Promise<void> {
    return this.serially(() => this.expectSilence(`set server ${group}/${slot} state maint`));
  }

  /** Requests HAProxy has sent to a target group since it started, answered or not (its backend's `stot`, a 503 without a server included). */
  public async requestsTo(group: string): Promise<number> {
    const row = (await this.stats()).find((r) => r.backend === group && r.server === 'BACKEND');
    if (!row) {
      throw new Error(`haproxy has no backend ${group}`);
    }
    return row.total;
  }

  /** Each server slot's row, by slot name. */
  public async servers(): Promise<Map<string, ServerStat>> {
    return new Map((await this.stats()).filter((r) => r.server !== 'BACKEND').map((r) => [r.server, r]));
  }

  /** `show stat`: each target group backend's and server's row (frontends left out). */
  private async stats(): Promise<ServerStat[]> {
    const [header, ...lines] = (await this.command('show stat')).split('\n');
    const columns = header.replace(/^# /, '').split(',');
    const at = (fields: string[], name: string) => fields[columns.indexOf(name)] ?? '';
    return lines.map((line) => line.split(',')).filter((f) => f.length > 1 && f[0] in this.options.backends).map((f) => ({
      backend: at(f, 'pxname'),
      server: at(f, 'svname'),
      status: at(f, 'status'),
      checkStatus: at(f, 'check_status'),
      checkFailures: Number(at(f, 'chkfail')),
      total: Number(at(f, 'stot')),
    }));
  }

  private async expectSilence(command: string): Promise<void> {
    const answer = (await this.command(command)).trim();
    if (answer !== '') {
      throw new Error(`haproxy refused "${command}": ${answer}`);
    }
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

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
import { FLEET_COLORS, FleetColorName } from '../lib/contract/app-env';
import { SessionTierValidationError } from '../lib/errors';
import { MAX_STICKINESS_SECONDS, Stickiness, StickinessType } from '../lib/stickiness';
import { RuleState, formatState, groupStickinessOn } from '../lambda/traffic-shifter/plan';

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
  /** The listener rule's forward action at start, as the traffic shifter keeps it: weights 0 to 999, not both 0. */
  readonly rule: RuleState;
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
 * The rule's forward action as the lab's HAProxy reads it, from a map that
 * the runtime API replaces at once (as ModifyRule replaces the whole action):
 * which colors' groups the action names (`in.<color>`), their weights, and
 * the group stickiness in seconds, 0 for none. The shifter's action names
 * both colors; after a failed gate the failed one has weight 0 and the action
 * no group stickiness, so it gets nobody, whatever `AWSALBTG` cookie a user has.
 */
export function ruleMap(rule: RuleState, groupStickinessSeconds: number): Record<string, number> {
  return {
    'weight.blue': rule.weights.blue,
    'weight.green': rule.weights.green,
    total: rule.weights.blue + rule.weights.green,
    'in.blue': 1,
    'in.green': 1,
    'group.seconds': groupStickinessOn(rule, groupStickinessSeconds) ? groupStickinessSeconds : 0,
  };
}

/** Checks a rule state as the ALB would take its action, and that the lab has the colors it names. */
export function checkRule(rule: RuleState, hasGreen: boolean): void {
  checkWeights(rule.weights);
  if (!hasGreen && rule.weights.green > 0) {
    throw new RangeError(`rule: ${formatState(rule)} sends users to green, but the lab runs blue alone; give it a green fleet`);
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
  checkStickiness(o.blue.stickiness, o.green?.stickiness, o.groupStickiness);
  checkRule(o.rule, o.green !== undefined);
  const inter = o.checkIntervalMs ?? 500;
  const colors = o.green ? ['blue', 'green'] as const : ['blue'] as const;
  const map = mapPath(o.dir);
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
    '  # The rule\'s forward action, read from the map at each request: the colors it names, their weights, the group stickiness.',
    `  http-request set-var(txn.group_s) str(group.seconds),map_str_int(${map},0)`,
    '  acl group_sticky var(txn.group_s) -m int gt 0',
    '  http-request set-var(txn.tg) req.cook(AWSALBTG)',
    '  # Target-group stickiness (AWSALBTG) outranks the weights, as on the ALB: a user keeps a color the action names,',
    '  # at weight 0 and without a healthy server too (then HAProxy answers 503).',
    ...colors.flatMap((c) => [
      `  acl ${c}_named str(in.${c}),map(${map},0) -m str 1`,
      `  http-request set-var(txn.color) str(${c}) if group_sticky ${c}_named { var(txn.tg) -m str ${c} }`,
    ]),
    '  acl chosen var(txn.color) -m found',
    '  # Anyone else: a weighted choice among the colors the action names (a color it leaves out has weight 0 in the map).',
    '  http-request set-var(txn.fresh) bool(true) if !chosen',
    `  http-request set-var(txn.gw) str(weight.green),map(${map},0) if !chosen`,
    `  http-request set-var(txn.total) str(total),map(${map},1) if !chosen`,
    '  http-request set-var(txn.pick) rand(1000000),mod(txn.total) if !chosen',
    ...(o.green ? ['  http-request set-var(txn.color) str(green) if !chosen { var(txn.pick),sub(txn.gw) lt 0 }'] : []),
    '  http-request set-var(txn.color) str(blue) if !chosen',
    '  http-response add-header Set-Cookie "AWSALBTG=%[var(txn.color)]; Max-Age=%[var(txn.group_s)]; Path=/" if { var(txn.fresh) -m bool } group_sticky',
    // For the lab's users only: the color each request was sent to, on HAProxy's own 503s too.
    '  http-after-response set-header X-Lab-Color %[var(txn.color)]',
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

/** The group stickiness the rule carries when it names both colors, in seconds. */
function groupSeconds(o: HaproxyOptions): number {
  return o.groupStickiness.enabled ? o.groupStickiness.duration!.toSeconds() : 0;
}

function socketPath(dir: string): string {
  return join(dir, 'haproxy.sock');
}

function mapPath(dir: string): string {
  return join(dir, 'weights.map');
}

function mapFile(entries: Record<string, number>): string {
  return Object.entries(entries).map(([key, value]) => `${key} ${value}\n`).join('');
}

/** The health states the ALB reports (DescribeTargetHealth), for HAProxy's server states. */
export function targetStateOf(haproxyStatus: string): string {
  // `UP 1/2` is a server failing its checks but not yet down: the ALB, too, counts a target healthy until its unhealthy threshold.
  if (haproxyStatus.startsWith('UP')) {
    return 'healthy';
  }
  if (haproxyStatus.startsWith('DOWN')) {
    return 'unhealthy';
  }
  if (haproxyStatus === 'MAINT') {
    return 'unused';
  }
  if (haproxyStatus === 'DRAIN' || haproxyStatus === 'NOLB') {
    return 'draining';
  }
  return 'unavailable';
}

/** A running HAProxy. */
export class Haproxy {
  /** Writes the configuration and the weights, starts HAProxy and waits until it listens. */
  public static async start(options: HaproxyOptions): Promise<Haproxy> {
    const config = join(options.dir, 'haproxy.cfg');
    writeFileSync(config, renderHaproxyConfig(options));
    writeFileSync(mapPath(options.dir), mapFile(ruleMap(options.rule, groupSeconds(options))));
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

  private constructor(private readonly child: ChildProcess, private readonly options: HaproxyOptions) {
    this.current = options.rule;
  }

  private current: RuleState;
  /** The rule change in progress: each waits for the one before, as two map versions prepared at once cannot both be committed. */
  private changing: Promise<void> = Promise.resolve();

  /** The URL users open. */
  public get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** The rule's forward action as last set. */
  public get rule(): RuleState {
    return this.current;
  }

  /**
   * Replaces the rule's forward action at run time, through the runtime API,
   * in one step (a new version of the map, committed at once), as ModifyRule
   * replaces the whole action: no request sees half of it.
   */
  public setRule(rule: RuleState): Promise<void> {
    const change = this.changing.then(() => this.replaceRule(rule));
    this.changing = change.catch(() => undefined);
    return change;
  }

  private async replaceRule(rule: RuleState): Promise<void> {
    checkRule(rule, this.options.green !== undefined);
    const map = mapPath(this.options.dir);
    const prepared = await this.command(`prepare map ${map}`);
    const version = /New version created: (\d+)/.exec(prepared)?.[1];
    if (version === undefined) {
      throw new Error(`haproxy did not prepare a new version of the weights map: ${prepared.trim()}`);
    }
    for (const [key, value] of Object.entries(ruleMap(rule, groupSeconds(this.options)))) {
      await this.expectSilence(`add map @${version} ${map} ${key} ${value}`);
    }
    await this.expectSilence(`commit map @${version} ${map}`);
    this.current = rule;
  }

  /** Each server of a color by the health state the ALB would report for it (see {@link targetStateOf}). */
  public async targetStates(color: FleetColorName): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    for (const row of await this.stats()) {
      if (row.backend === color && row.server !== 'BACKEND') {
        const state = targetStateOf(row.status);
        counts[state] = (counts[state] ?? 0) + 1;
      }
    }
    return counts;
  }

  /** Requests HAProxy has sent to a color since it started, answered or not (its backend's `stot`, a 503 without a server included). */
  public async requestsTo(color: FleetColorName): Promise<number> {
    const row = (await this.stats()).find((r) => r.backend === color && r.server === 'BACKEND');
    if (!row) {
      throw new Error(`haproxy has no backend ${color}`);
    }
    return row.total;
  }

  /** Each server's state as the health checks see it (`UP`, `DOWN`, ...). */
  public async serverStates(): Promise<Record<string, string>> {
    const states: Record<string, string> = {};
    for (const row of await this.stats()) {
      if (row.server !== 'BACKEND') {
        states[row.server] = row.status;
      }
    }
    return states;
  }

  /** `show stat`: each backend's and server's row (frontends left out). */
  private async stats(): Promise<Array<{ backend: string; server: string; total: number; status: string }>> {
    const csv = await this.command('show stat');
    const rows = [];
    for (const line of csv.split('\n')) {
      const [backend, server, ...rest] = line.split(',');
      if (backend && server && !['FRONTEND', 'svname'].includes(server) && !backend.startsWith('#') && FLEET_COLORS.includes(backend as FleetColorName)) {
        rows.push({ backend, server, total: Number(rest[5]), status: rest[15] ?? '' });
      }
    }
    return rows;
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

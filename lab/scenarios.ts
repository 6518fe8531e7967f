/**
 * The lab's scenarios: virtual users with cookie jars drive the real app
 * through HAProxy while instances die, traffic shifts and the store goes
 * away, and every answer is checked against what the user's session should
 * hold. Each scenario is bounded in requests and time.
 */
import { Duration } from 'aws-cdk-lib/core';
import { SessionStrategyName } from '../lib/contract/app-env';
import { formatPlan, plannedShares } from '../lib/contract/traffic-shift';
import { ShiftPlan } from '../lib/shift-plan';
import { Stickiness, StickinessType } from '../lib/stickiness';
import { Client } from '../local/http-client';
import { Lab } from './lab';
import { LabTrafficShift } from './traffic-shift';

/** Pause between two rounds of clicks, so that a scenario has a request rate, not just a request count. */
export const THINK_MS = 50;

/** The part of the app's session view a virtual user checks. */
interface SessionView {
  readonly counter: number;
  readonly color: string;
  readonly instance: string;
}

/** A request without an answer after this long is taken for hung: every store's deadline is well below it. */
export const HUNG_MS = 10_000;

/** One user: a browser with its cookies, and the counter its session should hold. */
export class VirtualUser {
  private readonly client: Client;
  private expected = 0;
  /** When each counter value was acknowledged (a 200 that showed it), by value. */
  private readonly acks: number[] = [];
  /** Saves acknowledged and then missing: a later answer showed a counter at or below theirs. */
  public lostSaves = 0;
  /** When the earliest of those was acknowledged. */
  public earliestLostAck = Infinity;
  /** Requests without an answer within {@link HUNG_MS}. */
  public hung = 0;
  /** The slowest answer, in ms (errors included). */
  public slowestMs = 0;
  public color?: string;
  public instance?: string;
  /** Answers that showed a session reset. */
  public lost = 0;
  /** Of those, the ones that came from the other color than the answer before. */
  public lostAtColorChange = 0;
  /** Answers from the other color than the answer before. */
  public bounced = 0;
  /** Requests that failed (no answer, or not 200). */
  public errors = 0;
  /**
   * Every request: when it was sent and answered, the color HAProxy sent it
   * to (its X-Lab-Color header), the status (0: no answer), and for a 200 the
   * instance that answered and whether the session had started over.
   */
  public readonly log: Array<{
    readonly sentAt: number; readonly doneAt: number; readonly sentTo?: string; readonly status: number; readonly instance?: string; readonly reset?: boolean;
  }> = [];

  /** `headers`: sent with every request (a tester's test header); `cookies`: in the jar from the start (a tester's test cookie). */
  constructor(url: string, private readonly options: { readonly headers?: Readonly<Record<string, string>>; readonly cookies?: Readonly<Record<string, string>> } = {}) {
    this.client = new Client(url, new Map(Object.entries(options.cookies ?? {})));
  }

  /** One click on `POST /api/counter`; checks the answer against the session this user should have. */
  public async step(tally: Map<string, number>): Promise<void> {
    let res: Awaited<ReturnType<Client['post']>>;
    const started = Date.now();
    try {
      res = await this.client.request('POST', '/api/counter', { timeoutMs: HUNG_MS, headers: this.options.headers ? { ...this.options.headers } : undefined });
    } catch (e) {
      this.errors++;
      this.log.push({ sentAt: started, doneAt: Date.now(), status: 0 });
      if ((e as Error).name === 'TimeoutError') {
        this.hung++;
      }
      return;
    } finally {
      this.slowestMs = Math.max(this.slowestMs, Date.now() - started);
    }
    const sentTo = res.headers.get('x-lab-color') ?? undefined;
    if (res.status !== 200) {
      this.log.push({ sentAt: started, doneAt: Date.now(), sentTo, status: res.status });
      this.errors++;
      return;
    }
    const view = res.json as SessionView;
    this.log.push({ sentAt: started, doneAt: Date.now(), sentTo, status: res.status, instance: view.instance, reset: view.counter <= this.expected });
    const changedColor = this.color !== undefined && view.color !== this.color;
    // A counter at or below the last one this user saw is a session that started over, or saves that
    // went missing (those from this counter to the last one seen). (One more than expected plus one
    // would mean a failed request was applied after all; that is no loss.)
    if (view.counter <= this.expected) {
      this.lost++;
      this.lostSaves += this.expected - view.counter + 1;
      this.earliestLostAck = Math.min(this.earliestLostAck, this.acks[Math.max(1, view.counter)] ?? Infinity);
      if (changedColor) {
        this.lostAtColorChange++;
      }
    }
    this.acks[view.counter] = Date.now();
    if (changedColor) {
      this.bounced++;
    }
    this.expected = view.counter;
    this.color = view.color;
    this.instance = view.instance;
    tally.set(view.instance, (tally.get(view.instance) ?? 0) + 1);
  }
}

/** What one scenario run measured. */
export interface ScenarioResult {
  readonly scenario: 'steady load' | 'instance killed' | 'blue/green shift' | 'store outage' | 'cache failover' | 'database failover' | 'zone lost' | 'store hangs'
    | 'failed canary';
  /** Strategy and stickiness, e.g. `memory, LB cookie 1 day`. */
  readonly setup: string;
  readonly users: number;
  /** Requests answered (200), all instances. */
  readonly requests: number;
  /** Requests that failed (no answer, or not 200); an outage's users go on clicking, so these can outnumber the answered. */
  readonly errors: number;
  /** Users whose session reset at least once. */
  readonly sessionsLost: number;
  /** Users who got an answer from the other color than the answer before. */
  readonly bounced: number;
  /** Requests answered per instance. */
  readonly perInstance: Record<string, number>;
  /** The busiest instance's requests over an even share (1 is even). */
  readonly skew: number;
  /** What else the scenario measured, in words (time to recover, users on the killed instance ...). */
  readonly note: string;
}

/** The instance-kill scenario's own figures. */
export interface KillResult extends ScenarioResult {
  /** Users whose last answer before the kill came from the killed instance. */
  readonly onKilledInstance: number;
  /** Users who lost their session though they were not on the killed instance. */
  readonly lostOnLiveInstances: number;
  /** Time from the kill until HAProxy's health checks took the instance out. */
  readonly downAfterMs: number;
}

/** The shift scenario's own figures. */
export interface ShiftResult extends ScenarioResult {
  /** Users who lost their session on an answer from the other color. */
  readonly lostAtColorChange: number;
  /** Users on green at the end. */
  readonly onGreen: number;
}

/** The store outage's own figures. */
export interface OutageResult extends ScenarioResult {
  /** Time from the store's restart until a new session could be saved again. */
  readonly recoveredAfterMs: number;
}

/** How large a run is: the test suite runs a short one, `npm run lab:scenarios` a longer one. */
export interface ScenarioSize {
  readonly users: number;
  readonly rounds: number;
}

/** Load-balancer cookie stickiness for a day, the constructs' default. */
export const LB_DAY = Stickiness.loadBalancerCookie(Duration.days(1));
/** Application-cookie stickiness on the app's `sid` for a day. */
export const APP_DAY = Stickiness.applicationCookie('sid', Duration.days(1));
/** The shift the scenarios make: a quarter of new users more to green at each step. */
const LAB_SHIFT = ShiftPlan.linear(25, Duration.seconds(1))._spec;

/**
 * Runs `n` rounds. With `uneven`, user i clicks only every (1 + i % 4)th
 * round: heavy and light users, as real traffic has, so that stickiness
 * (which pins each user to an instance) shows the load skew it causes.
 */
export async function rounds(users: VirtualUser[], n: number, tally: Map<string, number>, between?: (round: number) => Promise<void>, uneven = false): Promise<void> {
  for (let round = 0; round < n; round++) {
    await between?.(round);
    await Promise.all(users.filter((_, i) => !uneven || round % (1 + (i % 4)) === 0).map((u) => u.step(tally)));
    await new Promise((r) => setTimeout(r, THINK_MS));
  }
}

/**
 * Every user clicks, round after round, until the returned `stop` is called
 * (which waits for the round in flight); users pushed onto `users` meanwhile
 * join at the next round. `rounds()` counts the rounds finished.
 */
export function keepClicking(users: VirtualUser[], tally: Map<string, number>): { stop: () => Promise<void>; rounds: () => number } {
  let going = true;
  let done = 0;
  const loop = (async () => {
    while (going) {
      await Promise.all(users.map((u) => u.step(tally)));
      done++;
      await new Promise((r) => setTimeout(r, THINK_MS));
    }
  })();
  return {
    stop: async () => {
      going = false;
      await loop;
    },
    rounds: () => done,
  };
}

export function result(scenario: ScenarioResult['scenario'], setup: string, users: VirtualUser[], tally: Map<string, number>, note = ''): ScenarioResult {
  const counts = [...tally.values()];
  const requests = counts.reduce((a, b) => a + b, 0);
  const skew = counts.length === 0 ? 0 : Math.max(...counts) / (requests / counts.length);
  return {
    scenario,
    setup,
    users: users.length,
    requests,
    errors: users.reduce((a, u) => a + u.errors, 0),
    sessionsLost: users.filter((u) => u.lost > 0).length,
    bounced: users.filter((u) => u.bounced > 0).length,
    perInstance: Object.fromEntries([...tally].sort()),
    skew: Number(skew.toFixed(2)),
    note,
  };
}

/** `LB cookie 1 day`, `app cookie 1 day`, `no stickiness`. */
export function describeStickiness(s: Stickiness): string {
  return s.enabled ? `${s.type === StickinessType.APPLICATION_COOKIE ? 'app cookie' : 'LB cookie'} ${s.duration!.toHumanString()}` : 'no stickiness';
}

/**
 * 1 and 2: steady load of heavy and light users on one color of 3 processes,
 * then new users while one process is killed (SIGKILL) halfway. The run goes on
 * until HAProxy has taken the dead process out, and every user clicks once more
 * after that, so that each session that was on it is seen either kept or lost.
 */
export async function steadyAndKill(strategy: SessionStrategyName, stickiness: Stickiness, size: ScenarioSize): Promise<[ScenarioResult, KillResult]> {
  const setup = `${strategy}, ${describeStickiness(stickiness)}`;
  const lab = await Lab.start({ blue: { strategy, instances: 3, stickiness } });
  try {
    const steadyTally = new Map<string, number>();
    const steadyUsers = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
    await rounds(steadyUsers, size.rounds, steadyTally, undefined, true);
    const steady = result('steady load', setup, steadyUsers, steadyTally);

    const victim = 'blue-1';
    const killTally = new Map<string, number>();
    const killUsers = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
    const onVictim = new Set<VirtualUser>();
    let down: Promise<number> | undefined;
    await rounds(killUsers, size.rounds, killTally, async (round) => {
      if (round === Math.floor(size.rounds / 2)) {
        killUsers.filter((u) => u.instance === victim).forEach((u) => onVictim.add(u));
        const killedAt = Date.now();
        await lab.kill(victim);
        down = lab.waitUntilDown(victim, killedAt);
      }
    });
    const downAfterMs = await down!;
    await rounds(killUsers, 1, killTally);
    const killed: KillResult = {
      ...result('instance killed', setup, killUsers, killTally,
        `${onVictim.size} users on the killed instance; HAProxy took it out after ${downAfterMs} ms`),
      onKilledInstance: onVictim.size,
      lostOnLiveInstances: killUsers.filter((u) => u.lost > 0 && !onVictim.has(u)).length,
      downAfterMs,
    };
    return [steady, killed];
  } finally {
    await lab.stop();
  }
}

/**
 * 3: a blue/green shift by {@link LAB_SHIFT} through the real traffic shifter
 * (from all on blue, the weights it sets at each step) while the users keep
 * going and new users arrive at every step. Each color has 2 processes,
 * sticky with a load-balancer cookie when the colors are (AWS requires
 * target-group stickiness for sticky target groups in a weighted forward),
 * else not at all.
 */
export async function shift(blue: SessionStrategyName, green: SessionStrategyName, groupStickiness: Stickiness, size: ScenarioSize): Promise<ShiftResult> {
  const setup = `${blue} on blue to ${green} on green, ${groupStickiness.enabled ? `group ${describeStickiness(groupStickiness)}` : 'no stickiness'}`;
  const stickiness = groupStickiness.enabled ? LB_DAY : Stickiness.none();
  const lab = await Lab.start({
    blue: { strategy: blue, instances: 2, stickiness },
    green: { strategy: green, instances: 2, stickiness },
    groupStickiness,
  });
  const shifter = await LabTrafficShift.start(lab);
  try {
    await shifter.deploy({ target: 'blue', plan: { kind: 'all-at-once' }, minHealthyTargets: 2 });
    const tally = new Map<string, number>();
    const users: VirtualUser[] = [];
    const steps = plannedShares(LAB_SHIFT).length + 1;
    const joinPerStep = Math.max(1, Math.floor(size.users / steps));
    const roundsPerStep = Math.max(2, Math.floor(size.rounds / steps));
    const arrive = async () => {
      users.push(...Array.from({ length: joinPerStep }, () => new VirtualUser(lab.url)));
      await rounds(users, roundsPerStep, tally);
    };
    await arrive();
    let done = false;
    const deployed = shifter.deploy({ target: 'green', plan: LAB_SHIFT, minHealthyTargets: 2 }).finally(() => (done = true));
    // New users at each step the shifter takes, until it is done.
    let seen = lab.endpoint!.ruleChanges.length;
    while (!done) {
      if (lab.endpoint!.ruleChanges.length > seen) {
        seen = lab.endpoint!.ruleChanges.length;
        await arrive();
      } else {
        await rounds(users, 1, tally);
      }
    }
    const operation = await deployed;
    if (operation.status !== 'UPDATE_COMPLETE') {
      throw new Error(`${setup}: the shift to green failed: ${operation.status} ${operation.reason}`);
    }
    await arrive();
    const weights = lab.endpoint!.ruleChanges.slice(1).map((c) => c.rules.find((r) => r.id !== 'default')!)
      .map((r) => r.targets.map((t) => t.weight).join('/'));
    const onGreen = users.filter((u) => u.color === 'green').length;
    const lostAtColorChange = users.filter((u) => u.lostAtColorChange > 0).length;
    return {
      ...result('blue/green shift', setup, users, tally,
        `steps ${weights.join(', ')} (the shifter, ${formatPlan(LAB_SHIFT)}); ${onGreen} users on green at the end; ${lostAtColorChange} lost their session on changing color`),
      lostAtColorChange,
      onGreen,
    };
  } finally {
    await shifter.stop();
    await lab.stop();
  }
}

/**
 * 4: the lab's Redis killed under load for `downMs` and restarted (its data
 * in an append-only file, as a replica that takes over has it), with users
 * clicking during the outage, then a probe until a new session saves again.
 */
export async function outage(strategy: 'redis' | 'database', size: ScenarioSize, downMs = 1500): Promise<OutageResult> {
  const setup = `${strategy}, Redis killed for ${downMs / 1000} s`;
  const lab = await Lab.start({ blue: { strategy, instances: 2, stickiness: Stickiness.none() } });
  try {
    const tally = new Map<string, number>();
    const users = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
    let recoveredAfterMs = -1;
    await rounds(users, size.rounds, tally, async (round) => {
      if (round !== Math.floor(size.rounds / 2)) {
        return;
      }
      await lab.redis!.kill();
      const back = Date.now() + downMs;
      while (Date.now() < back) {
        await Promise.all(users.map((u) => u.step(tally)));
        await new Promise((r) => setTimeout(r, THINK_MS));
      }
      await lab.redis!.restart();
      const restartedAt = Date.now();
      const probe = new VirtualUser(lab.url);
      while (Date.now() - restartedAt < 15_000) {
        await probe.step(new Map());
        if (probe.errors === 0) {
          recoveredAfterMs = Date.now() - restartedAt;
          return;
        }
        probe.errors = 0;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`${setup}: no new session could be saved within 15 s of the restart`);
    });
    return {
      ...result('store outage', setup, users, tally, `new sessions saved again ${recoveredAfterMs} ms after Redis came back`),
      recoveredAfterMs,
    };
  } finally {
    await lab.stop();
  }
}

/**
 * The lab's scenarios: virtual users with cookie jars drive the real app
 * through HAProxy while instances die, traffic shifts and the store goes
 * away, and every answer is checked against what the user's session should
 * hold. Each scenario is bounded in requests and time.
 */
import { Duration } from 'aws-cdk-lib';
import { SessionStrategyName } from '../lib/shared/app-env';
import { Stickiness } from '../lib/stickiness';
import { Client } from '../test/sample-app/helpers';
import { Lab } from './lab';

/** One user: a browser with its cookies, and the counter its session should hold. */
export class VirtualUser {
  private readonly client: Client;
  private expected = 0;
  public color?: string;
  public instance?: string;
  public lost = 0;
  public bounced = 0;
  public errors = 0;

  constructor(url: string) {
    this.client = new Client(url);
  }

  /** One increment; checks the answer against the session this user should have. */
  public async step(tally: Map<string, number>): Promise<void> {
    let res: Awaited<ReturnType<Client['post']>>;
    try {
      res = await this.client.post('/api/counter');
    } catch {
      this.errors++;
      return;
    }
    if (res.status !== 200) {
      this.errors++;
      return;
    }
    const view = res.json as { counter: number; color: string; instance: string };
    if (view.counter !== this.expected + 1) {
      // Anything else than one more is a session that reset (or, never seen here, one that jumped).
      this.lost++;
    }
    this.expected = view.counter;
    if (this.color !== undefined && view.color !== this.color) {
      this.bounced++;
    }
    this.color = view.color;
    this.instance = view.instance;
    tally.set(view.instance, (tally.get(view.instance) ?? 0) + 1);
  }
}

/** What one scenario run measured. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly setup: string;
  readonly users: number;
  readonly requests: number;
  readonly errors: number;
  /** Users whose session reset at least once. */
  readonly sessionsLost: number;
  /** Users who answered from another color than the one before, within the stickiness duration. */
  readonly bounced: number;
  /** Requests per instance. */
  readonly perInstance: Record<string, number>;
  /** Busiest instance's share over an even share (1 is even). */
  readonly skew: number;
  /** Users who lost a session though their instance was not the one killed (instance-kill scenario). */
  readonly lostOnLiveInstances?: number;
  /** Scenario-specific figure, e.g. the time to recover. */
  readonly note: string;
}

/** How large a run is: the test suite runs a short one, `npm run lab:scenarios` a longer one. */
export interface ScenarioSize {
  readonly users: number;
  readonly rounds: number;
}

/** Load-balancer cookie stickiness for a day, as the demo's default. */
export const LB_DAY = Stickiness.loadBalancerCookie(Duration.days(1));
/** Application-cookie stickiness on the app's `sid` for a day. */
export const APP_DAY = Stickiness.applicationCookie('sid', Duration.days(1));

/**
 * Runs `n` rounds. With `uneven`, user i clicks only every (1 + i % 4)th
 * round: heavy and light users, as real traffic has, so that stickiness
 * (which pins each user to an instance) shows the load skew it causes.
 */
async function rounds(users: VirtualUser[], n: number, tally: Map<string, number>, between?: (round: number) => Promise<void>, uneven = false): Promise<void> {
  for (let round = 0; round < n; round++) {
    await between?.(round);
    await Promise.all(users.filter((_, i) => !uneven || round % (1 + (i % 4)) === 0).map((u) => u.step(tally)));
  }
}

function result(scenario: string, setup: string, users: VirtualUser[], tally: Map<string, number>, note = ''): ScenarioResult {
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

function describeStickiness(s: Stickiness): string {
  return s.enabled ? `${s.type === 'app_cookie' ? 'app cookie' : 'LB cookie'} ${s.duration!.toHumanString()}` : 'no stickiness';
}

/** 1 and 2: steady load of heavy and light users, then one instance killed halfway, on one color of 3 processes. */
export async function steadyAndKill(strategy: SessionStrategyName, stickiness: Stickiness, size: ScenarioSize): Promise<ScenarioResult[]> {
  const setup = `${strategy}, ${describeStickiness(stickiness)}`;
  const lab = await Lab.start({ blue: { strategy, instances: 3, stickiness }, groupStickiness: Stickiness.none() });
  try {
    const steadyTally = new Map<string, number>();
    const steadyUsers = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
    await rounds(steadyUsers, size.rounds, steadyTally, undefined, true);
    const steady = result('steady load', setup, steadyUsers, steadyTally);

    const killTally = new Map<string, number>();
    const killUsers = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
    const onVictim = new Set<VirtualUser>();
    await rounds(killUsers, size.rounds, killTally, async (round) => {
      if (round === Math.floor(size.rounds / 2)) {
        killUsers.filter((u) => u.instance === 'blue-1').forEach((u) => onVictim.add(u));
        await lab.kill('blue-1');
      }
    });
    const killed = {
      ...result('instance killed', setup, killUsers, killTally, `${onVictim.size} users were on the killed instance`),
      lostOnLiveInstances: killUsers.filter((u) => u.lost > 0 && !onVictim.has(u)).length,
    };
    return [steady, killed];
  } finally {
    await lab.stop();
  }
}

/**
 * 3: a blue/green shift in steps (weights 100/0, 75/25, 50/50, 0/100) while
 * the users keep going and new users arrive at every step.
 */
export async function shift(blue: SessionStrategyName, green: SessionStrategyName, groupStickiness: Stickiness, size: ScenarioSize): Promise<ScenarioResult> {
  const setup = `${blue} on blue to ${green} on green, group ${describeStickiness(groupStickiness)}`;
  const lab = await Lab.start({
    blue: { strategy: blue, instances: 2, stickiness: LB_DAY },
    green: { strategy: green, instances: 2, stickiness: LB_DAY },
    groupStickiness,
    weights: { blue: 100, green: 0 },
  });
  try {
    const tally = new Map<string, number>();
    const users: VirtualUser[] = [];
    const steps: Array<[number, number]> = [[100, 0], [75, 25], [50, 50], [0, 100]];
    const perStep = Math.max(1, Math.floor(size.users / steps.length));
    for (const [b, g] of steps) {
      await lab.setWeights(b, g);
      users.push(...Array.from({ length: perStep }, () => new VirtualUser(lab.url)));
      await rounds(users, Math.max(2, Math.floor(size.rounds / steps.length)), tally);
    }
    const onGreen = users.filter((u) => u.color === 'green').length;
    return result('blue/green shift', setup, users, tally, `${onGreen} of ${users.length} users on green at the end`);
  } finally {
    await lab.stop();
  }
}

/** 4: the store (Redis) killed for a while and restarted, with its data on disk, under load. */
export async function outage(strategy: 'redis' | 'database', size: ScenarioSize, downMs = 1500): Promise<ScenarioResult> {
  const setup = `${strategy}, Redis killed for ${downMs} ms`;
  const lab = await Lab.start({ blue: { strategy, instances: 2, stickiness: Stickiness.none() }, groupStickiness: Stickiness.none() });
  try {
    const tally = new Map<string, number>();
    const users = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
    let restartedAt = 0;
    let recoveredAt = 0;
    const half = Math.floor(size.rounds / 2);
    await rounds(users, size.rounds, tally, async (round) => {
      if (round === half) {
        await lab.redis!.kill();
        await new Promise((r) => setTimeout(r, downMs));
        // Requests during the outage, as users keep clicking.
        await Promise.all(users.map((u) => u.step(tally)));
        await lab.redis!.restart();
        restartedAt = Date.now();
        const probe = new VirtualUser(lab.url);
        while (Date.now() - restartedAt < 15_000) {
          await probe.step(new Map());
          if (probe.errors === 0) {
            break;
          }
          probe.errors = 0;
          await new Promise((r) => setTimeout(r, 20));
        }
        recoveredAt = Date.now();
      }
    });
    return result('store outage', setup, users, tally, `recovered ${recoveredAt - restartedAt} ms after Redis came back`);
  } finally {
    await lab.stop();
  }
}


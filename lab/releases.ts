/**
 * Release sequences through the real traffic shifter: a stack's life from a
 * first deploy of blue alone through releases, a failed canary and its
 * rollback, a strategy change, the routing's removal, and a deploy that adds
 * green and targets it at once, with users clicking throughout. Each step is
 * a deploy as CloudFormation runs it (lab/traffic-shift.ts), with the
 * instance launches and terminations its Auto Scaling groups would make.
 *
 * For each step: requests failed, sessions lost and how many had to be lost
 * (computed from where each strategy keeps a session, see {@link mustLose}),
 * users sent to a color after it failed, and the time to complete.
 */
import { Duration } from 'aws-cdk-lib/core';
import { FleetColorName, SessionStrategyName } from '../lib/contract/app-env';
import { PlanSpec, formatPlan } from '../lib/contract/traffic-shift';
import { ShiftPlan } from '../lib/shift-plan';
import { Stickiness } from '../lib/stickiness';
import { waitFor } from '../local/ports';
import { StackOperation } from './cloudformation';
import { Lab, LabOptions } from './lab';
import { describeRule, shiftRule } from './rollback';
import { LB_DAY, ScenarioSize, VirtualUser, describeStickiness, keepClicking } from './scenarios';
import { LabTrafficShift } from './traffic-shift';

/** Instances per color, and the healthy targets each step's gate needs. */
const INSTANCES = 2;

/** The step names of the sequences: issue 24's (a) to (i), issue 26's gates (j) to (n) (lab/release-gates.ts). */
export type StepId = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g' | 'h' | 'i' | 'j' | 'k' | 'l' | 'm' | 'n';

/** One step's figures. */
export interface ReleaseStep {
  /** The strategy, or the colors' strategies when they differ (`redis → memory`). */
  readonly strategy: string;
  readonly step: StepId;
  readonly title: string;
  /** Users clicking during the step (the arrivals included). */
  readonly users: number;
  readonly requests: number;
  readonly failed: number;
  /** Users whose session started over during the step. */
  readonly lost: number;
  /** Users whose session had to start over, by where their strategy keeps it ({@link mustLose}). */
  readonly mustLose: number;
  /** Users who had a request sent to a color after it failed (its instances killed), until the rule change, and after it. */
  readonly sentToFailed?: { readonly beforeChange: number; readonly afterChange: number };
  /** CloudFormation's verdict on the step's deploy, if it had one. */
  readonly stack?: string;
  readonly ms: number;
  readonly note: string;
  /** A scenario's own figures, by name (for its test). */
  readonly figures?: Readonly<Record<string, number>>;
}

/** The plans the sequences deploy: a canary, a linear in halves, and the canary of (e), whose instances die after its first step. */
export interface ReleasePlans {
  readonly canary: PlanSpec;
  readonly linear: PlanSpec;
  /**
   * (e)'s canary: its bake must outlast, after the first step, new users
   * arriving until some are on green, two rounds of clicks and the health
   * checks taking the killed instances out; the gate is read when the next
   * step is due, so the step takes about the bake.
   */
  readonly failingCanary: PlanSpec;
}

const RELEASE_PLANS: ReleasePlans = {
  canary: ShiftPlan.canary(25, Duration.seconds(3))._spec,
  linear: ShiftPlan.linear(50, Duration.seconds(2))._spec,
  failingCanary: ShiftPlan.canary(25, Duration.seconds(8))._spec,
};

/**
 * Whether a session moved from one instance to the next would still be there,
 * by where each strategy keeps it: `memory` in that process alone, `cookie`
 * in the browser (sealed with the key every instance has), `redis`, `file`
 * and `database` in the store every instance of that strategy shares. Any
 * change of strategy loses it (neither reads the other's session).
 */
export function sessionSurvives(from: { instance: string; strategy: SessionStrategyName }, to: { instance: string; strategy: SessionStrategyName }): boolean {
  return from.strategy === to.strategy && (from.strategy !== 'memory' || from.instance === to.instance);
}

/**
 * Users whose session had to start over within a window: one of their
 * answers in it came from an instance their session could not survive the
 * move to, from the answer before ({@link sessionSurvives}). Computed from
 * which instance answered and the strategies, not from the counters the
 * answers showed; the steps compare it with the users who did lose theirs.
 */
export function mustLose(users: readonly VirtualUser[], strategies: ReadonlyMap<string, SessionStrategyName>, from: number, to: number): number {
  return users.filter((u) => {
    const answers = u.log.filter((r) => r.status === 200 && r.instance !== undefined && r.sentAt < to);
    return answers.some((r, i) => r.sentAt >= from && i > 0
      && !sessionSurvives({ instance: answers[i - 1].instance!, strategy: strategies.get(answers[i - 1].instance!)! }, { instance: r.instance!, strategy: strategies.get(r.instance!)! }));
  }).length;
}

/** The lab, its users and the traffic shift, as a sequence runs them. */
export class Sequence {
  public readonly steps: ReleaseStep[] = [];
  public readonly users: VirtualUser[] = [];
  private readonly tally = new Map<string, number>();
  private clicking?: ReturnType<typeof keepClicking>;

  constructor(public readonly lab: Lab, public readonly shift: LabTrafficShift, private readonly strategy: string, private readonly size: ScenarioSize) {}

  /** Users start clicking, and go on until {@link stop}. */
  public start(count: number): void {
    this.arrive(count);
    this.clicking = keepClicking(this.users, this.tally);
  }

  /** New users, who join the clicking at the next round. */
  public arrive(count = Math.max(1, Math.round(this.size.users / 6))): void {
    this.users.push(...Array.from({ length: count }, () => new VirtualUser(this.lab.url)));
  }

  /** New users arrive one at a time until `want` users are on `color` (a canary sends a share of new users there); bounded. */
  public async arriveUntilOn(color: FleetColorName, want: number): Promise<void> {
    for (let arrived = 0; this.users.filter((u) => u.color === color).length < want; arrived++) {
      if (arrived >= 4 * this.size.users) {
        throw new Error(`only ${this.users.filter((u) => u.color === color).length} users reached ${color} after ${arrived} new ones arrived`);
      }
      this.arrive(1);
      await this.rounds(1);
    }
  }

  /** Waits for the users' rounds, so that a step is seen by every user. */
  public async rounds(n: number): Promise<void> {
    const clicking = this.clicking!;
    const target = clicking.rounds() + n;
    await waitFor(`${n} rounds of clicks`, async () => clicking.rounds() >= target, 60_000);
  }

  public async stop(): Promise<void> {
    await this.clicking?.stop();
  }

  /**
   * Runs one step: new users arrive, `body` runs, users go on for two more
   * rounds; then its figures over the requests sent since it began.
   */
  public async step(step: StepId, title: string, body: () => Promise<{ stack?: StackOperation; note?: string; failedColor?: FailedColor; figures?: Record<string, number> }>, since = Date.now()): Promise<ReleaseStep> {
    const started = Date.now();
    const lostBefore = new Map(this.users.map((u) => [u, u.lost]));
    this.arrive();
    const { stack, note = '', failedColor, figures } = await body();
    const ended = Date.now();
    await this.rounds(2);
    const until = Date.now();
    const window = this.users.map((u) => u.log.filter((r) => r.sentAt >= started && r.sentAt < until));
    const sentTo = (from: number, to: number) => failedColor
      ? this.users.filter((u) => u.log.some((r) => r.sentTo === failedColor.color && r.sentAt >= from && r.sentAt < to)).length
      : 0;
    const result: ReleaseStep = {
      strategy: this.strategy,
      step,
      title,
      users: window.filter((w) => w.length > 0).length,
      requests: window.reduce((a, w) => a + w.length, 0),
      failed: window.reduce((a, w) => a + w.filter((r) => r.status !== 200).length, 0),
      lost: this.users.filter((u) => u.lost > (lostBefore.get(u) ?? 0)).length,
      mustLose: mustLose(this.users, this.lab.strategies, started, until),
      sentToFailed: failedColor ? { beforeChange: sentTo(failedColor.at, failedColor.changeAt ?? until), afterChange: failedColor.changeAt ? sentTo(failedColor.changeAt, until) : 0 } : undefined,
      stack: stack ? `${stack.status}${stack.requests.length > 0 ? ` (${stack.requests.map((r) => `${r.phase === 'deploy' ? '' : `${r.phase} `}${r.request.RequestType}`).join(', ')})` : ''}` : undefined,
      ms: ended - since,
      note: [note, stack?.reason ? `CloudFormation: ${stack.reason.slice(0, 160)}` : ''].filter((n) => n !== '').join('; '),
      figures,
    };
    this.steps.push(result);
    return result;
  }

  /** The shifter's rule, in short. */
  public rule(): string {
    return describeRule(shiftRule(this.lab));
  }

  /** Waits until the shifter's rule sends new users to `color` (its first step). */
  public async firstStepTo(color: FleetColorName): Promise<void> {
    await waitFor(`the first step to ${color}`, async () => (shiftRule(this.lab)?.targets.find((t) => t.group === color)?.weight ?? 0) > 0, 60_000);
  }

  /** Launches `count` instances of a color and waits until each answers its health check (the Auto Scaling group's signal). */
  public async launch(color: FleetColorName, count: number): Promise<string[]> {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      names.push(await this.lab.launch(color));
    }
    return names;
  }
}

/** A color whose instances failed at `at`; the rule stopped sending users there at `changeAt`. */
export interface FailedColor {
  readonly color: FleetColorName;
  readonly at: number;
  readonly changeAt?: number;
}

/** The stickiness of the sequences' fleets: `memory` sticky (load-balancer cookie, a day), the shared stores none; group stickiness a day, `BlueGreenRouting`'s default. */
function fleetStickiness(strategy: SessionStrategyName): Stickiness {
  return strategy === 'memory' ? LB_DAY : Stickiness.none();
}

/** The strategy green moves to in step (h): `redis`, or, for a `redis` sequence, `cookie`. */
function strategyChange(strategy: SessionStrategyName): SessionStrategyName {
  return strategy === 'redis' ? 'cookie' : 'redis';
}

/** The parts of a sequence to run: the whole of issue 24's list, or a short one for the test suite. */
export type SequenceSteps = readonly StepId[];
const ALL_STEPS: SequenceSteps = ['a', 'b', 'c', 'd', 'e', 'f', 'h', 'i', 'g'];

/**
 * The release sequence for one strategy, in two stacks. The first: (a) blue
 * alone; (b) green added, the traffic shift created targeting blue; (c) a
 * canary to green; (d) linear back to blue; (e) a canary to green whose
 * instances die after its first step: the gate fails, the shifter changes
 * the rule, CloudFormation rolls back; (f) green's dead instances replaced,
 * a canary to green again; then back to blue as in (d); (h) green's
 * instances replaced one at a time with another strategy
 * ({@link strategyChange}), then a canary to green; back to blue again; (i)
 * the traffic shift and green removed from the stack. The second stack, new
 * users on blue alone: (g) one deploy that adds green and targets it.
 */
export async function releaseSequence(strategy: SessionStrategyName, size: ScenarioSize, steps: SequenceSteps = ALL_STEPS, plans = RELEASE_PLANS): Promise<ReleaseStep[]> {
  const results: ReleaseStep[] = [];
  if (steps.some((s) => s !== 'g')) {
    results.push(...await firstStack(strategy, size, steps, plans));
  }
  if (steps.includes('g')) {
    results.push(...await secondStack(strategy, size, plans));
  }
  return results;
}

async function withSequence(strategy: SessionStrategyName, size: ScenarioSize, body: (s: Sequence) => Promise<void>): Promise<ReleaseStep[]> {
  const started = Date.now();
  const stickiness = fleetStickiness(strategy);
  return withLab({
    blue: { strategy, instances: INSTANCES, stickiness },
    // Green comes with a later deploy: its target group exists, its instances not yet.
    green: { strategy, instances: 0, stickiness },
    groupStickiness: LB_DAY,
  }, strategy, size, async (sequence) => {
    // (a) The first deploy: blue alone, serving once the lab (the stack) is up.
    await sequence.step('a', 'first deploy, blue alone', async () => ({ note: `${describeStickiness(stickiness)}, group ${describeStickiness(LB_DAY)}; time: the lab (the stack) up, its targets healthy` }), started);
    await body(sequence);
  });
}

/** A lab with these options, its traffic shift and `size.users` users clicking, for `body`; everything stopped after. Returns the steps `body` ran. */
export async function withLab(options: LabOptions, label: string, size: ScenarioSize, body: (s: Sequence) => Promise<void>): Promise<ReleaseStep[]> {
  const lab = await Lab.start(options);
  let shift: LabTrafficShift | undefined;
  let sequence: Sequence | undefined;
  try {
    shift = await LabTrafficShift.start(lab);
    sequence = new Sequence(lab, shift, label, size);
    sequence.start(size.users);
    await body(sequence);
    return sequence.steps;
  } finally {
    await sequence?.stop();
    await shift?.stop();
    await lab.stop();
  }
}

async function firstStack(strategy: SessionStrategyName, size: ScenarioSize, steps: SequenceSteps, plans: ReleasePlans): Promise<ReleaseStep[]> {
  const gate = { minHealthyTargets: INSTANCES };
  return withSequence(strategy, size, async (s) => {
    const { lab, shift } = s;
    const deploy = (target: FleetColorName, plan: PlanSpec) => shift.deploy({ target, plan, ...gate });
    await s.step('b', 'add green, target blue', async () => {
      // The green fleet first (the traffic shift depends on its Auto Scaling group), then the resource's Create.
      await s.launch('green', INSTANCES);
      const stack = await deploy('blue', { kind: 'all-at-once' });
      return { stack, note: `rule ${s.rule()}` };
    });
    if (steps.includes('c')) {
      await s.step('c', `canary to green (${formatPlan(plans.canary)}), success`, async () => {
        const stack = await deploy('green', plans.canary);
        return { stack, note: `rule ${s.rule()}` };
      });
    }
    const backToBlue = async (step: StepId, title: string) => s.step(step, title, async () => {
      const stack = await deploy('blue', plans.linear);
      return { stack, note: `rule ${s.rule()}` };
    });
    if (steps.includes('d')) {
      await backToBlue('d', `linear back to blue (${formatPlan(plans.linear)})`);
    }
    if (steps.includes('e')) {
      await s.step('e', `canary to green (${formatPlan(plans.failingCanary)}) whose instances die: cut-off, then the rollback update`, async () => {
        const since = Date.now();
        const deploying = deploy('green', plans.failingCanary);
        await s.firstStepTo('green');
        await s.arriveUntilOn('green', 3);
        await s.rounds(2);
        if ((shiftRule(lab)?.targets.find((t) => t.group === 'blue')?.weight ?? 0) === 0) {
          throw new Error(`(e): the canary reached green=100 before green's instances were killed; give ${formatPlan(plans.failingCanary)} a longer bake`);
        }
        const killedAt = Date.now();
        const dead = lab.instancesOf('green');
        await Promise.all(dead.map((n) => lab.kill(n)));
        const stack = await deploying;
        const change = lab.endpoint!.ruleChanges.find((c) => c.at >= since && c.at >= killedAt);
        return { stack, note: `green's ${dead.length} instances killed after the first step; rule ${s.rule()}`, failedColor: { color: 'green', at: killedAt, changeAt: change?.at } };
      });
    }
    if (steps.includes('f')) {
      await s.step('f', `the fault fixed (green's instances replaced), canary to green again (${formatPlan(plans.canary)})`, async () => {
        // The Auto Scaling group replaces the dead instances: new ones launched, the old ones deregistered.
        const dead = [...lab.strategies.keys()].filter((n) => n.startsWith('green-') && !lab.apps.has(n) && lab.endpoint!.targets.slotOf(n) !== undefined);
        await s.launch('green', INSTANCES);
        await Promise.all(dead.map((n) => lab.terminate(n)));
        const health = [...await lab.targetStates()].filter(([n]) => n.startsWith('green-')).map(([n, state]) => `${n} ${state}`).join(', ');
        const stack = await deploy('green', plans.canary);
        return { stack, note: `green before the deploy: ${health}; rule ${s.rule()}` };
      });
    }
    if (steps.includes('h')) {
      await backToBlue('d', 'linear back to blue, as (d)');
      const to = strategyChange(strategy);
      await s.step('h', `green's strategy changed to ${to} through a release: instances replaced one at a time, then a canary to green`, async () => {
        lab.updateFleet('green', { strategy: to, version: 'v3' });
        for (const old of lab.instancesOf('green')) {
          // A rolling update: the new instance launched and registered (initial until its checks pass), then the old one drained and ended.
          await lab.launch('green');
          await lab.terminate(old);
        }
        const health = [...await lab.targetStates()].filter(([n]) => n.startsWith('green-')).map(([n, state]) => `${n} ${state}`).join(', ');
        const stack = await deploy('green', plans.canary);
        return { stack, note: `green after the rolling update, before the shift: ${health}; rule ${s.rule()}` };
      });
    }
    if (steps.includes('i')) {
      await backToBlue('d', 'linear back to blue, as (d)');
      await s.step('i', 'delete: the traffic shift and green removed from the stack', async () => {
        // The custom resource goes first (it depends on green's Auto Scaling group), then green's instances.
        const stack = await shift.remove();
        await Promise.all(lab.instancesOf('green').map((n) => lab.terminate(n)));
        const left = lab.loadBalancer.describeRules({ ListenerArn: lab.loadBalancer.listenerArn }).Rules.length;
        return { stack, note: `${left} rule left on the listener (its default action)` };
      });
    }
  });
}

async function secondStack(strategy: SessionStrategyName, size: ScenarioSize, plans: ReleasePlans): Promise<ReleaseStep[]> {
  return withSequence(strategy, size, async (s) => {
    await s.step('g', `one deploy that adds green and targets it (${formatPlan(plans.canary)})`, async () => {
      await s.launch('green', INSTANCES);
      const since = Date.now();
      const stack = await s.shift.deploy({ target: 'green', plan: plans.canary, minHealthyTargets: INSTANCES });
      const first = s.lab.endpoint!.ruleChanges.find((c) => c.at >= since);
      return { stack, note: `the new rule started at ${describeRule(first?.rules.find((r) => r.id !== 'default'))}; rule ${s.rule()}` };
    });
  });
}

/** The sequences' figures as a Markdown table. */
export function releaseTable(steps: readonly ReleaseStep[]): string {
  const sent = (s: ReleaseStep) => (s.sentToFailed ? `${s.sentToFailed.beforeChange} before the rule change, ${s.sentToFailed.afterChange} after` : '');
  return [
    '| strategy | step | users | requests | failed | sessions lost | had to be lost | users sent to a failed color | stack | time | note |',
    '|---|---|---:|---:|---:|---:|---:|---|---|---:|---|',
    ...steps.map((s) => `| ${s.strategy} | (${s.step}) ${s.title} | ${s.users} | ${s.requests} | ${s.failed} | ${s.lost} | ${s.mustLose} | ${sent(s)} | ${s.stack ?? ''} | ${(s.ms / 1000).toFixed(1)} s | ${s.note.replace(/\|/g, '\\|')} |`),
  ].join('\n');
}

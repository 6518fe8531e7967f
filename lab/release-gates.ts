/**
 * Issue 26's release scenarios through the real traffic shifter: the gates
 * no peer offers, each with users clicking throughout.
 *
 * (j) and (k): a release to a green whose store is wrong (`memory` without
 * stickiness, where blue keeps its sessions in Redis: every user green gets
 * loses the session, and green's own sessions are lost between its two
 * instances) without the session-continuity gate, then with it. The gate is
 * the dashboard's alarm, evaluated by the lab's CloudWatch on what the apps
 * emit (lab/elb/cloudwatch.ts). The same arrivals over the same window, so
 * the users who lost their session compare.
 * (l) a tester on green through the test header and the test cookie before
 * the first step, held there by a hook that answers IN_PROGRESS until the
 * testers have used green, while users stay on blue.
 * (m) a gate that fails during the bake (green's instances killed after the
 * last step): cut-off.
 * (n) a hook that answers FAILED after the first step: cut-off; and a hook
 * that answers IN_PROGRESS, then SUCCEEDED: the release waits, then goes on.
 */
import { setTimeout as sleep } from 'timers/promises';
import { Duration } from 'aws-cdk-lib/core';
import { HookRequest, HookStage, PlanSpec, formatPlan } from '../lib/contract/traffic-shift';
import { FleetColorName, SessionStrategyName } from '../lib/contract/app-env';
import { ShiftPlan } from '../lib/shift-plan';
import { Stickiness } from '../lib/stickiness';
import { waitFor } from '../local/ports';
import { Lab, continuityAlarmName } from './lab';
import { ReleaseStep, Sequence, withLab } from './releases';
import { shiftRule } from './rollback';
import { LB_DAY, ScenarioSize, VirtualUser, keepClicking } from './scenarios';
import { ShiftSettings } from './traffic-shift';

/** Instances per color, and the healthy targets each step's gate needs. */
const INSTANCES = 2;

/** The parts of the gate scenarios. */
export type GateStep = 'j' | 'k' | 'l' | 'm' | 'n';
export const ALL_GATE_STEPS: readonly GateStep[] = ['j', 'k', 'l', 'm', 'n'];

/** The plans, scaled down as the lab's health checks and alarm periods are. */
const PLANS = {
  /** (j), (k): the canary's wait outlasts the alarm's period, the apps' publishing and the evaluation. */
  wrongStore: ShiftPlan.canary(25, Duration.seconds(12))._spec,
  /** (l), (n): a short canary. */
  canary: ShiftPlan.canary(25, Duration.seconds(3))._spec,
  back: ShiftPlan.allAtOnce()._spec,
};

/** (j) and (k): the window each is measured over from the deploy's start (the canary's wait, then 6 s more), and a new user every `ARRIVAL_MS`. */
const WRONG_STORE_WINDOW_MS = 18_000;
const ARRIVAL_MS = 400;

/** The hook's function name on the lab's endpoint. */
const HOOK = 'lab-release-hook';
/** The test traffic: a header for scripts, a cookie for a browser. */
export const TEST_TRAFFIC = {
  header: { name: 'X-Release-Preview', value: 'lab-tester' },
  cookie: { name: 'release-preview', value: 'lab-tester' },
  rulePriority: 10,
} as const;

/** New users arrive one every `everyMs` until the returned function is called. */
function arriving(s: Sequence, everyMs: number): () => void {
  const timer = setInterval(() => s.arrive(1), everyMs);
  return () => clearInterval(timer);
}

/** Samples an alarm's state as DescribeAlarms reports it, every 100 ms: when it first was ALARM. */
function watchAlarm(lab: Lab, name: string): { firstAlarmAt: () => number | undefined; stop: () => void } {
  let first: number | undefined;
  const timer = setInterval(() => {
    if (first === undefined && lab.endpoint!.alarmState(name)?.state === 'ALARM') {
      first = Date.now();
    }
  }, 100);
  return { firstAlarmAt: () => first, stop: () => clearInterval(timer) };
}

/** When the weighted rule first gave `color` a weight, after `since`. */
function firstStepAt(lab: Lab, color: FleetColorName, since: number): number | undefined {
  return lab.endpoint!.ruleChanges.find((c) => c.at >= since
    && (c.rules.find((r) => r.targets.length > 1)?.targets.find((t) => t.group === color)?.weight ?? 0) > 0)?.at;
}

/** When the weighted rule cut `color` off (weight 0, no group stickiness), after `since`. */
function cutOffAt(lab: Lab, color: FleetColorName, since: number): number | undefined {
  return lab.endpoint!.ruleChanges.find((c) => {
    const rule = c.rules.find((r) => r.targets.length > 1);
    return c.at >= since && rule !== undefined && rule.stickySeconds === 0 && rule.targets.find((t) => t.group === color)?.weight === 0;
  })?.at;
}

/** Users with a request answered by `color` in [from, to). */
function usersOn(users: readonly VirtualUser[], color: string, from: number, to: number): number {
  return users.filter((u) => u.log.some((r) => r.sentTo === color && r.sentAt >= from && r.sentAt < to)).length;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The gate settings of a release to `target`: its healthy targets, and its session-continuity alarm when `continuity` (as SessionTier gates by default). */
function gates(target: FleetColorName, continuity: boolean): Pick<ShiftSettings, 'minHealthyTargets' | 'alarmNames'> {
  return { minHealthyTargets: INSTANCES, alarmNames: continuity ? [continuityAlarmName(target)] : [] };
}

/**
 * A lab whose colors use these strategies without stickiness (the shared
 * stores need none; `memory` without it is the wrong store), group
 * stickiness a day, the apps' metrics on, and the traffic shift created
 * targeting blue (as step (b) of the release sequences).
 */
async function gateLab(green: SessionStrategyName, size: ScenarioSize, body: (s: Sequence) => Promise<void>): Promise<ReleaseStep[]> {
  const label = green === 'redis' ? 'redis' : `redis → ${green}`;
  return withLab({
    blue: { strategy: 'redis', instances: INSTANCES, stickiness: Stickiness.none() },
    green: { strategy: green, instances: INSTANCES, stickiness: Stickiness.none() },
    groupStickiness: LB_DAY,
    metrics: true,
  }, label, size, async (s) => {
    const created = await s.shift.deploy({ target: 'blue', plan: PLANS.back, ...gates('blue', true) });
    if (created.status !== 'CREATE_COMPLETE') {
      throw new Error(`the traffic shift's create: ${created.status}: ${created.reason}`);
    }
    await body(s);
  });
}

/**
 * (j) or (k): a canary to a green whose store is wrong, without or with the
 * continuity gate. Measured over {@link WRONG_STORE_WINDOW_MS} from the
 * deploy's start (or until the deploy ends, if later), new users arriving throughout.
 */
export async function wrongStoreRelease(gated: boolean, size: ScenarioSize, windowMs = WRONG_STORE_WINDOW_MS): Promise<ReleaseStep[]> {
  return gateLab('memory', size, async (s) => {
    const { lab } = s;
    await s.step(gated ? 'k' : 'j', `canary (${formatPlan(PLANS.wrongStore)}) to a green whose store is wrong (memory, no stickiness), ` +
      `${gated ? 'WITH' : 'without'} the session-continuity gate`, async () => {
      const since = Date.now();
      const alarm = watchAlarm(lab, continuityAlarmName('green'));
      const stopArriving = arriving(s, ARRIVAL_MS);
      try {
        const stack = await s.shift.deploy({ target: 'green', plan: PLANS.wrongStore, ...gates('green', gated) });
        const deployedAt = Date.now();
        await sleep(Math.max(0, since + windowMs - Date.now()));
        const first = firstStepAt(lab, 'green', since);
        const cut = cutOffAt(lab, 'green', since);
        const alarmAt = alarm.firstAlarmAt();
        const after = (at: number | undefined) => (at === undefined || first === undefined ? 'never' : `${seconds(at - first)} after the first step`);
        const blueAlarm = lab.endpoint!.alarmState(continuityAlarmName('blue'))?.state;
        return {
          stack,
          figures: { usersOnGreen: usersOn(s.users, 'green', since, Date.now()), ...alarmAt !== undefined && first !== undefined ? { alarmAfterFirstStepMs: alarmAt - first } : {} },
          note: `${usersOn(s.users, 'green', since, Date.now())} users reached green; green's continuity alarm ALARM ${after(alarmAt)}` +
            `${gated ? `, green cut off ${after(cut)}` : ` (not a gate), the release completed ${after(deployedAt)}`}; ` +
            `blue's alarm at the end of the window: ${blueAlarm}; rule ${s.rule()}; window ${seconds(windowMs)}, a new user every ${ARRIVAL_MS} ms`,
          failedColor: gated && cut !== undefined ? { color: 'green', at: alarmAt ?? cut, changeAt: cut } : undefined,
        };
      } finally {
        stopArriving();
        alarm.stop();
      }
    });
  });
}

/** The hook's behaviour, set by each scenario: what it answers for a request. */
type HookBehaviour = (request: HookRequest) => Promise<{ hookStatus: string; reason?: string }>;

/** Hook calls of a release: each stage's answers, `before-first-step IN_PROGRESS×3, before-first-step SUCCEEDED, after-step:25 SUCCEEDED`. */
function describeHookCalls(lab: Lab, since: number): string {
  const calls = lab.endpoint!.invocations.filter((i) => i.at >= since).map((c) => {
    const req = c.event as HookRequest;
    const answer = c.functionError ? `error ${c.functionError}` : (c.payload as { hookStatus?: string } | null)?.hookStatus ?? 'nothing';
    return `${req.stage}${req.share !== undefined ? `:${req.share}` : ''} ${answer}`;
  });
  const runs: Array<{ call: string; n: number }> = [];
  for (const call of calls) {
    if (runs.length > 0 && runs[runs.length - 1].call === call) {
      runs[runs.length - 1].n++;
    } else {
      runs.push({ call, n: 1 });
    }
  }
  return runs.map((r) => (r.n > 1 ? `${r.call}×${r.n}` : r.call)).join(', ') || 'none';
}

/**
 * (l), (m) and (n) in one lab, green on the same Redis as blue (a correct
 * store), the hook a function of the lab's endpoint whose answers each
 * scenario sets. Between releases to green, a release back to blue.
 */
export async function gateSequence(size: ScenarioSize, steps: readonly GateStep[] = ['l', 'm', 'n']): Promise<ReleaseStep[]> {
  return gateLab('redis', size, async (s) => {
    const { lab } = s;
    let behaviour: HookBehaviour = async () => ({ hookStatus: 'SUCCEEDED' });
    lab.endpoint!.addFunction(HOOK, (event) => behaviour(event as HookRequest));
    const hook = { functionName: HOOK, timeoutSeconds: 20 };
    const toGreen = (plan: PlanSpec, extra: Partial<ShiftSettings> = {}) => s.shift.deploy({ target: 'green', plan, ...gates('green', true), hook, ...extra });
    const backToBlue = async () => {
      behaviour = async () => ({ hookStatus: 'SUCCEEDED' });
      const stack = await s.shift.deploy({ target: 'blue', plan: PLANS.back, ...gates('blue', true), hook });
      if (stack.status !== 'UPDATE_COMPLETE') {
        throw new Error(`back to blue: ${stack.status}: ${stack.reason}`);
      }
    };

    if (steps.includes('l')) {
      await s.step('l', 'a tester on green through the test header and cookie before the first step, users on blue', async () => {
        const testers = [new VirtualUser(lab.url, { headers: { [TEST_TRAFFIC.header.name]: TEST_TRAFFIC.header.value } }),
          new VirtualUser(lab.url, { cookies: { [TEST_TRAFFIC.cookie.name]: TEST_TRAFFIC.cookie.value } })];
        const clicking = keepClicking(testers, new Map());
        const since = Date.now();
        // The hook holds the release before its first step until each tester has had 10 answers from green.
        behaviour = async (req) => {
          if (req.stage !== HookStage.BEFORE_FIRST_STEP) {
            return { hookStatus: 'SUCCEEDED' };
          }
          const tested = testers.every((t) => t.log.filter((r) => r.sentAt >= since && r.sentTo === 'green' && r.status === 200).length >= 10);
          return tested ? { hookStatus: 'SUCCEEDED', reason: 'the testers used green' } : { hookStatus: 'IN_PROGRESS', reason: 'testers still on green' };
        };
        try {
          const stack = await toGreen(PLANS.canary, { testTraffic: TEST_TRAFFIC });
          // Both test rules in place: the header's (at rulePriority), then the cookie's (the next priority), one CreateRule each.
          const placed = lab.endpoint!.ruleChanges.find((c) => c.at >= since
            && [TEST_TRAFFIC.rulePriority, TEST_TRAFFIC.rulePriority + 1].every((p) => c.rules.some((r) => r.id === String(p))))?.at;
          const first = firstStepAt(lab, 'green', since);
          if (placed === undefined || first === undefined) {
            throw new Error(`(l): the test rule ${placed === undefined ? 'was never placed' : 'was placed'}, the first step ${first === undefined ? 'never came' : 'came'}`);
          }
          const inWindow = (u: VirtualUser) => u.log.filter((r) => r.sentAt >= placed && r.doneAt <= first);
          const [header, cookie] = testers.map((t) => ({ green: inWindow(t).filter((r) => r.sentTo === 'green').length, all: inWindow(t).length }));
          const usersRequests = s.users.flatMap(inWindow);
          const figures = {
            headerOnGreen: header.green, headerRequests: header.all, cookieOnGreen: cookie.green, cookieRequests: cookie.all,
            userRequests: usersRequests.length, userRequestsOnGreen: usersRequests.filter((r) => r.sentTo === 'green').length,
            testerLost: testers.reduce((a, t) => a + t.lost, 0),
          };
          return {
            stack,
            figures,
            note: `from the test rules to the first step (${seconds(first - placed)}): header tester ${header.green} of ${header.all} requests on green, ` +
              `cookie tester ${cookie.green} of ${cookie.all}, users ${figures.userRequestsOnGreen} of ${figures.userRequests} on green; testers' sessions lost ${figures.testerLost}; ` +
              `hook: ${describeHookCalls(lab, since)}; rule ${s.rule()}`,
          };
        } finally {
          await clicking.stop();
        }
      });
      await backToBlue();
    }

    if (steps.includes('n')) {
      await s.step('n', `hook answers FAILED after the first step (${formatPlan(PLANS.canary)}): cut-off`, async () => {
        const since = Date.now();
        behaviour = async (req) => (req.stage === HookStage.AFTER_STEP
          ? { hookStatus: 'FAILED', reason: 'the smoke test on green failed' } : { hookStatus: 'SUCCEEDED' });
        const stack = await toGreen(PLANS.canary);
        const cut = cutOffAt(lab, 'green', since);
        return {
          stack,
          note: `hook: ${describeHookCalls(lab, since)}; green cut off ${cut === undefined ? 'never' : `${seconds(cut - (firstStepAt(lab, 'green', since) ?? cut))} after the first step`}; rule ${s.rule()}`,
          failedColor: cut !== undefined ? { color: 'green', at: cut, changeAt: cut } : undefined,
        };
      });
      await backToBlue();
      await s.step('n', `hook answers IN_PROGRESS for 3 s after the first step, then SUCCEEDED (${formatPlan(PLANS.canary)}): the release waits, then goes on`, async () => {
        const since = Date.now();
        let askedAt: number | undefined;
        behaviour = async (req) => {
          if (req.stage !== HookStage.AFTER_STEP || req.share !== 25) {
            return { hookStatus: 'SUCCEEDED' };
          }
          askedAt ??= Date.now();
          return Date.now() - askedAt < 3000 ? { hookStatus: 'IN_PROGRESS' } : { hookStatus: 'SUCCEEDED' };
        };
        const stack = await toGreen(PLANS.canary);
        const polls = stack.requests.find((r) => r.phase === 'deploy')?.polls ?? 0;
        const inProgress = lab.endpoint!.invocations.filter((i) => i.at >= since && (i.payload as { hookStatus?: string } | null)?.hookStatus === 'IN_PROGRESS').length;
        return { stack, figures: { inProgress, polls }, note: `hook: ${describeHookCalls(lab, since)}; the waiter's isComplete polls: ${polls}; rule ${s.rule()}` };
      });
      await backToBlue();
    }

    if (steps.includes('m')) {
      const plan = ShiftPlan.canary(25, Duration.seconds(2))._spec;
      await s.step('m', `canary (${formatPlan(plan)}) with an 8 s bake; green's instances killed after the last step: cut-off during the bake`, async () => {
        const since = Date.now();
        behaviour = async () => ({ hookStatus: 'SUCCEEDED' });
        const deploying = toGreen(plan, { bakeSeconds: 8 });
        await waitFor('green at 100', async () => shiftRule(lab)?.targets.find((t) => t.group === 'green')?.weight === 100, 30_000);
        await s.arriveUntilOn('green', 3);
        const killedAt = Date.now();
        const dead = lab.instancesOf('green');
        await Promise.all(dead.map((n) => lab.kill(n)));
        const stack = await deploying;
        const cut = cutOffAt(lab, 'green', since);
        return {
          stack,
          note: `green's ${dead.length} instances killed ${seconds(killedAt - (firstStepAt(lab, 'green', since) ?? killedAt))} after the first step, in the bake; ` +
            `cut off ${cut === undefined ? 'never' : `${seconds(cut - killedAt)} after the kill`}; rule ${s.rule()}`,
          failedColor: { color: 'green', at: killedAt, changeAt: cut },
        };
      });
    }
  });
}

/** The gate scenarios asked for, in order: (j), (k), then (l), (n) and (m) in one lab. */
export async function gateScenarios(size: ScenarioSize, steps: readonly GateStep[] = ALL_GATE_STEPS): Promise<ReleaseStep[]> {
  const results: ReleaseStep[] = [];
  for (const gated of [false, true].filter((g) => steps.includes(g ? 'k' : 'j'))) {
    results.push(...await wrongStoreRelease(gated, size));
  }
  if (steps.some((s) => s === 'l' || s === 'm' || s === 'n')) {
    results.push(...await gateSequence(size, steps));
  }
  return results;
}

/**
 * A failed canary and its rollback: a canary to green through the real
 * traffic shifter (lab/traffic-shift.ts), green's instances fail after the
 * first step, the shifter's gate fails on the target health the lab's ELBv2
 * endpoint reports from HAProxy's checks, the shifter changes the rule, and
 * CloudFormation rolls the stack back. Users keep clicking throughout; what
 * matters is who is still sent to green after the rule change, and whose
 * session survives.
 */
import { setTimeout as sleep } from 'timers/promises';
import { Duration } from 'aws-cdk-lib/core';
import { SessionStrategyName } from '../lib/contract/app-env';
import { formatPlan } from '../lib/contract/traffic-shift';
import { ShiftPlan } from '../lib/shift-plan';
import { waitFor } from '../local/ports';
import { RoutingRule } from './elb/load-balancer';
import { Lab } from './lab';
import { LB_DAY, ScenarioResult, ScenarioSize, VirtualUser, describeStickiness, keepClicking, result, rounds } from './scenarios';
import { LabTrafficShift } from './traffic-shift';

/**
 * A quarter of new users to green, then the rest after the bake: the bake
 * must outlast the new users' arrival, two rounds and HAProxy's health
 * checks taking green out, all of which happen after the first step.
 */
const LAB_CANARY = ShiftPlan.canary(25, Duration.seconds(5))._spec;

/** Instances per color: the gate needs them all healthy, as `BlueGreenRouting`'s default (the fleet's minCapacity). */
const INSTANCES = 2;

/** The failed canary's own figures. */
export interface RollbackResult extends ScenarioResult {
  readonly strategy: SessionStrategyName;
  /** The gate's reason, as the shifter's error begins. */
  readonly gate: string;
  /** The shifter's rule after the change (see {@link describeRule}). */
  readonly ruleAfter: string;
  /** What CloudFormation made of the deploy (`UPDATE_ROLLBACK_COMPLETE`). */
  readonly stackStatus: string;
  /** Users whose last answer before green failed came from green. */
  readonly onGreen: number;
  /** From the kill of green's processes to the rule change (HAProxy's health checks, then the shifter's next poll), in ms. */
  readonly changeAfterKillMs: number;
  /** How long users went on clicking after the rule change, in ms. */
  readonly afterMs: number;
  /** Requests sent after the rule change that HAProxy sent to green (their X-Lab-Color), answered or not. */
  readonly sentToGreenAfter: number;
  /** Users who sent them. */
  readonly usersSentToGreenAfter: number;
  /** HAProxy's own count of requests to green's backend after the rule change. */
  readonly haproxyToGreenAfter: number;
  /** Requests sent after the rule change that failed. */
  readonly failedAfter: number;
  /** From the rule change to the last answer of a request sent to green (those in flight at the change too), in ms; 0 when none. */
  readonly lastToGreenMs: number;
  /** Users whose last request went to green: still pinned to it at the end. */
  readonly stuckOnGreen: number;
  /** Users on green who lost their session. */
  readonly lostOnGreen: number;
  /** Users not on green who lost their session (the users pinned to blue). */
  readonly lostOnBlue: number;
}


/** Users go on at least this long after the rule change, so that "still sent to green" means more than a round or two. */
const MIN_AFTER_MS = 2000;

/**
 * 9: blue serves everyone (users arrive, pinned to blue); a canary to green
 * ({@link LAB_CANARY}) deployed through the real shifter; after its first
 * step, new users arrive until a quarter of `size.users` are on green; after
 * two rounds, every green process is killed (SIGKILL); once HAProxy has them
 * down, the shifter's next poll finds the gate failed and changes the rule,
 * and CloudFormation rolls back. Users go on for half the rounds (at least
 * 3), and once more.
 */
export async function failedCanary(strategy: SessionStrategyName, size: ScenarioSize): Promise<RollbackResult> {
  const setup = `${strategy} on both colors, ${describeStickiness(LB_DAY)}, group ${describeStickiness(LB_DAY)}; the real shifter through CloudFormation's rollback`;
  const lab = await Lab.start({
    blue: { strategy, instances: INSTANCES, stickiness: LB_DAY },
    green: { strategy, instances: INSTANCES, stickiness: LB_DAY },
    groupStickiness: LB_DAY,
  });
  const shift = await LabTrafficShift.start(lab);
  try {
    const created = await shift.deploy({ target: 'blue', plan: { kind: 'all-at-once' }, minHealthyTargets: INSTANCES });
    if (created.status !== 'CREATE_COMPLETE') {
      throw new Error(`${setup}: the traffic shift was not created: ${created.status} ${created.reason}`);
    }
    const tally = new Map<string, number>();
    const users = Array.from({ length: Math.ceil(size.users / 2) }, () => new VirtualUser(lab.url));
    await rounds(users, 2, tally);
    const clicking = keepClicking(users, tally);
    const onGreen = new Set<VirtualUser>();
    const greenNames = lab.instancesOf('green');
    let killedAt = 0;
    let greenAtChange = 0;
    let cut: { at: number; rule: RoutingRule };
    let operation: Awaited<ReturnType<LabTrafficShift['deploy']>>;
    try {
      const since = Date.now();
      const deploying = shift.deploy({ target: 'green', plan: LAB_CANARY, minHealthyTargets: INSTANCES });
      await waitFor('the canary\'s first step', async () => (shiftRule(lab)?.targets.find((t) => t.group === 'green')?.weight ?? 0) > 0, 30_000);
      await arriveUntilOnGreen(lab.url, users, tally, Math.ceil(size.users / 4), 4 * size.users);
      await untilRounds(clicking.rounds, clicking.rounds() + 2);
      users.filter((u) => u.color === 'green').forEach((u) => onGreen.add(u));
      killedAt = Date.now();
      await Promise.all(greenNames.map((n) => lab.kill(n)));
      await Promise.all(greenNames.map((n) => lab.waitUntilDown(n, killedAt)));
      operation = await deploying;
      const change = lab.endpoint!.ruleChanges.find((c) => c.at >= since && greenClosed(c.rules));
      if (operation.status !== 'UPDATE_ROLLBACK_COMPLETE' || !change) {
        throw new Error(`${setup}: the gate passed though green's instances were killed: ${operation.status}; the rule has ${describeRule(shiftRule(lab))}`);
      }
      cut = { at: change.at, rule: change.rules.find((r) => r.id !== 'default')! };
      greenAtChange = await lab.haproxy!.requestsTo('green');
      await untilRounds(clicking.rounds, clicking.rounds() + Math.max(3, Math.ceil(size.rounds / 2)));
      await sleep(Math.max(0, cut.at + MIN_AFTER_MS - Date.now()));
    } finally {
      await clicking.stop();
    }
    // Everyone once more, so that each user is seen where the rule now sends them.
    await rounds(users, 1, tally);
    const haproxyToGreenAfter = (await lab.haproxy!.requestsTo('green')) - greenAtChange;
    const reason = operation.reason ?? '';
    return measure(setup, strategy, users, tally, onGreen, {
      reason: reason.slice(0, reason.indexOf(';') < 0 ? undefined : reason.indexOf(';')), rule: cut.rule, at: cut.at, killedAt, stackStatus: operation.status,
    }, haproxyToGreenAfter);
  } finally {
    await shift.stop();
    await lab.stop();
  }
}

/** The shifter's rule: the one rule besides the listener's default. */
export function shiftRule(lab: Lab): RoutingRule | undefined {
  // The weighted rule names both colors; a test rule (test traffic) forwards to one, at a priority before it.
  const rules = lab.loadBalancer.routing().filter((r) => r.id !== 'default');
  return rules.find((r) => r.targets.length > 1) ?? rules[0];
}

/** Whether green gets nobody by these rules: no rule names it, or only at weight 0 without group stickiness (no AWSALBTG honoured). */
function greenClosed(rules: readonly RoutingRule[]): boolean {
  return rules.every((r) => r.targets.every((t) => t.group !== 'green' || (t.weight === 0 && r.stickySeconds === 0)));
}

/** A rule's forward action in short: `blue=100` (a group alone), `blue=100/green=0`, and the group stickiness. */
export function describeRule(rule: RoutingRule | undefined): string {
  if (!rule) {
    return 'no rule';
  }
  const targets = rule.targets.map((t) => `${t.group}=${t.weight}`).join('/');
  return rule.stickySeconds > 0 ? `${targets}, group stickiness ${rule.stickySeconds} s` : `${targets}, no group stickiness`;
}

/**
 * New users arrive one after another (each with a first click) until `want`
 * of them are on green, as a canary's share of new users goes there; at most
 * `max` arrive. Each joins the users that keep clicking.
 */
async function arriveUntilOnGreen(url: string, users: VirtualUser[], tally: Map<string, number>, want: number, max: number): Promise<void> {
  let arrived = 0;
  let green = 0;
  while (green < want) {
    if (arrived >= max) {
      throw new Error(`only ${green} of ${arrived} new users went to green; the canary should send about a quarter there`);
    }
    const user = new VirtualUser(url);
    await user.step(tally);
    users.push(user);
    arrived++;
    green += user.color === 'green' ? 1 : 0;
  }
}

/** Waits until the clicking users have finished `target` rounds (bounded: a round that hangs would be a failure of its own). */
function untilRounds(done: () => number, target: number): Promise<void> {
  return waitFor(`the users to finish ${target} rounds`, async () => done() >= target, 60_000);
}

function measure(setup: string, strategy: SessionStrategyName, users: VirtualUser[], tally: Map<string, number>,
  onGreen: Set<VirtualUser>, failed: { reason: string; rule: RoutingRule; at: number; killedAt: number; stackStatus: string }, haproxyToGreenAfter: number): RollbackResult {
  const at = failed.at;
  const after = users.map((u) => u.log.filter((r) => r.sentAt >= at));
  const toGreenAfter = after.map((log) => log.filter((r) => r.sentTo === 'green').length);
  const answeredToGreen = users.flatMap((u) => u.log.filter((r) => r.sentTo === 'green' && r.doneAt >= at));
  const lastToGreenMs = Math.max(0, ...answeredToGreen.map((r) => r.doneAt - at));
  const afterMs = Math.max(0, ...users.flatMap((u) => u.log.map((r) => r.doneAt - at)));
  const stuckOnGreen = users.filter((u) => u.log[u.log.length - 1]?.sentTo === 'green').length;
  const sentToGreenAfter = toGreenAfter.reduce((a, b) => a + b, 0);
  const usersSentToGreenAfter = toGreenAfter.filter((n) => n > 0).length;
  const failedAfter = after.reduce((a, log) => a + log.filter((r) => r.status !== 200).length, 0);
  const failedBefore = users.reduce((a, u) => a + u.log.filter((r) => r.sentAt < at && r.status !== 200).length, 0);
  const lostOnGreen = users.filter((u) => onGreen.has(u) && u.lost > 0).length;
  const lostOnBlue = users.filter((u) => !onGreen.has(u) && u.lost > 0).length;
  const ruleAfter = describeRule(failed.rule);
  const where = stuckOnGreen > 0
    ? `${stuckOnGreen} still sent to green at the end of the run, ${(afterMs / 1000).toFixed(1)} s after the change (on the ALB, until their AWSALBTG expires: ${LB_DAY.duration!.toHumanString()})`
    : `the last request to green was answered ${lastToGreenMs} ms after the change`;
  const note = `${formatPlan(LAB_CANARY)}, green's ${INSTANCES} processes killed after the first step; ${failed.reason}; rule after: ${ruleAfter}, `
    + `${at - failed.killedAt} ms after the kill (${failedBefore} requests failed until then), stack ${failed.stackStatus}; ${onGreen.size} users on green; after the change ${sentToGreenAfter} requests from ${usersSentToGreenAfter} users sent to green (HAProxy counted ${haproxyToGreenAfter}), `
    + `${failedAfter} failed; ${where}; sessions lost: ${lostOnGreen} of the users on green, ${lostOnBlue} of the others`;
  return {
    ...result('failed canary', setup, users, tally, note),
    strategy,
    gate: failed.reason,
    ruleAfter,
    stackStatus: failed.stackStatus,
    onGreen: onGreen.size,
    changeAfterKillMs: at - failed.killedAt,
    afterMs,
    sentToGreenAfter,
    usersSentToGreenAfter,
    haproxyToGreenAfter,
    failedAfter,
    lastToGreenMs,
    stuckOnGreen,
    lostOnGreen,
    lostOnBlue,
  };
}

/**
 * What a rollback must achieve, as a list of what it missed (empty when it
 * achieved all): nobody sent to green after the rule change, by the users'
 * count and by HAProxy's; every request after it answered; nobody pinned to
 * blue losing a session; and with a shared store, no session lost at all.
 */
export function rollbackProblems(r: RollbackResult): string[] {
  const problems: string[] = [];
  if (r.sentToGreenAfter > 0 || r.haproxyToGreenAfter > 0) {
    problems.push(`${r.sentToGreenAfter} requests from ${r.usersSentToGreenAfter} users (HAProxy counted ${r.haproxyToGreenAfter}) were sent to green after the rule change; none may be`);
  }
  if (r.failedAfter > 0) {
    problems.push(`${r.failedAfter} requests failed after the rule change; blue must answer every one`);
  }
  if (r.lostOnBlue > 0) {
    problems.push(`${r.lostOnBlue} users not on green lost their session`);
  }
  if (r.strategy !== 'memory' && r.sessionsLost > 0) {
    problems.push(`${r.sessionsLost} sessions lost with ${r.strategy}, a shared store; none may be`);
  }
  return problems;
}

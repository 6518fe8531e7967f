/**
 * The traffic shifter's decisions, as pure functions: given the live weights,
 * the plan and the gate readings, what happens next. No SDK, no clock: the
 * handler passes `now` in, so every branch is tested without a client.
 */
import { FleetColorName } from '../../lib/contract/app-env';
import {
  HookStage, PlanSpec, SHIFT_OUTCOMES, ShiftOutcome, Weights, otherColor, plannedShares, sameWeights, shareOf, stepDelaySeconds, weightsFor,
} from '../../lib/contract/traffic-shift';

/** What the shifter knows when it decides. */
export interface ShiftState {
  /** The color that should end up with all the traffic. */
  readonly target: FleetColorName;
  readonly plan: PlanSpec;
  /** The weights before this deploy began: while the live weights equal them, the first step goes at once. */
  readonly start: Weights;
  /** The weights the rule has now. */
  readonly live: Weights;
  /** When this resource last changed the weights, in ms since the epoch. */
  readonly lastShiftAt?: number;
  /** The current time, in ms since the epoch. */
  readonly now: number;
  /** How long to keep watching the gates after the last step, in seconds. @default 0 */
  readonly bakeSeconds?: number;
  /** Whether the release calls a hook at each stage. @default false */
  readonly hooks?: boolean;
  /** The last stage whose hook succeeded in this release, if any. */
  readonly hookPassed?: StageKey;
}

/** A stage of a release, as the hook progress names it: `before-first-step`, `after-step:10`, `after-bake`. */
export type StageKey = string;

/** The key of a stage; `share` for `after-step`. */
export function stageKey(stage: HookStage, share?: number): StageKey {
  return stage === HookStage.AFTER_STEP ? `${stage}:${share}` : stage;
}

/** The next move. */
export type Decision =
  | { readonly action: 'done' }
  /** Nothing is due before `until`. */
  | { readonly action: 'wait'; readonly until: number }
  /** Call the hook for this stage; go on only once it succeeded. */
  | { readonly action: 'hook'; readonly stage: HookStage; readonly share?: number }
  /** Check the gates, then put the rule at `to`. */
  | { readonly action: 'shift'; readonly to: Weights; readonly final: boolean }
  /** The last step is taken: keep checking the gates until `until`. */
  | { readonly action: 'bake'; readonly until: number };

/**
 * The next move of a release, from the live weights and what its hook
 * passed. Before the first step, the hook's `before-first-step`; the first
 * step goes at once; after each step its `after-step` hook, then each later
 * step waits the plan's bake time or interval after the previous shift; after
 * the last step the bake (gates watched until it ends), then the
 * `after-bake` hook. Steps the live weights already passed are skipped, so a
 * retried or resumed shift continues where it stands; a release with nothing
 * to shift is done at once, without hooks.
 */
export function nextStep(state: ShiftState): Decision {
  const share = shareOf(state.target, state.live);
  const atTarget = share >= 100 && state.live[otherColor(state.target)] === 0;
  const moved = !sameWeights(state.live, state.start);
  const passed = (stage: HookStage, at?: number) => !state.hooks || state.hookPassed === stageKey(stage, at);
  if (atTarget && !moved) {
    return { action: 'done' };
  }
  if (!moved) {
    if (!passed(HookStage.BEFORE_FIRST_STEP)) {
      return { action: 'hook', stage: HookStage.BEFORE_FIRST_STEP };
    }
    return firstOrNextShift(state, share);
  }
  if (!passed(HookStage.AFTER_STEP, share) && !(atTarget && passed(HookStage.AFTER_BAKE))) {
    return { action: 'hook', stage: HookStage.AFTER_STEP, share };
  }
  if (!atTarget) {
    const due = (state.lastShiftAt ?? state.now) + stepDelaySeconds(state.plan) * 1000;
    return state.now < due ? { action: 'wait', until: due } : firstOrNextShift(state, share);
  }
  const bakeEnd = (state.lastShiftAt ?? state.now) + (state.bakeSeconds ?? 0) * 1000;
  if (state.now < bakeEnd) {
    return { action: 'bake', until: bakeEnd };
  }
  return passed(HookStage.AFTER_BAKE) ? { action: 'done' } : { action: 'hook', stage: HookStage.AFTER_BAKE };
}

function firstOrNextShift(state: ShiftState, share: number): Decision {
  const next = plannedShares(state.plan).find((s) => s > share) ?? 100;
  return { action: 'shift', to: weightsFor(state.target, next), final: next === 100 };
}

/** What the gates saw before a step. */
export interface GateReadings {
  /** The color about to receive more traffic. */
  readonly color: FleetColorName;
  /** Its targets by health state (`healthy`, `initial`, `unhealthy`, `draining`, `unused`, ...). */
  readonly targetStates: Readonly<Record<string, number>>;
  /** How many healthy targets the step needs. */
  readonly minHealthy: number;
  /** The gate alarms' names. */
  readonly alarmNames: readonly string[];
  /** The gate alarms' states by name, as DescribeAlarms returned them; a name without a state was not found. */
  readonly alarmStates: Readonly<Record<string, string>>;
}

/** Whether a step may go ahead. */
export type GateVerdict =
  | { readonly verdict: 'pass' }
  | { readonly verdict: 'pending'; readonly reason: string }
  | { readonly verdict: 'fail'; readonly reason: string };

/**
 * Pass when every gate alarm was found and none is in ALARM, and the color has
 * enough healthy targets; pending while targets are still in their initial
 * health checks; fail otherwise, with what was seen. An alarm that cannot be
 * read fails the gate rather than pass it unseen.
 */
export function gateVerdict(r: GateReadings): GateVerdict {
  const inAlarm = r.alarmNames.filter((name) => r.alarmStates[name] === 'ALARM');
  if (inAlarm.length > 0) {
    return { verdict: 'fail', reason: `alarm gate failed: ${inAlarm.join(', ')} in ALARM` };
  }
  const missing = r.alarmNames.filter((name) => r.alarmStates[name] === undefined);
  if (missing.length > 0) {
    return {
      verdict: 'fail',
      reason: `alarm gate failed: ${missing.join(', ')} not found, so not checked; a deleted alarm, or a composite alarm the shifter may not read ` +
        '(DescribeAlarms returns composite alarms only with cloudwatch:DescribeAlarms on "*", which BlueGreenRouting grants when a gate alarm is a CompositeAlarm construct)',
    };
  }
  const healthy = r.targetStates.healthy ?? 0;
  if (healthy >= r.minHealthy) {
    return { verdict: 'pass' };
  }
  const seen = Object.keys(r.targetStates).sort().map((state) => `${state} ${r.targetStates[state]}`).join(', ') || 'no targets';
  const what = `${r.color} has ${healthy} healthy target${healthy === 1 ? '' : 's'}, needs at least ${r.minHealthy} (${seen})`;
  if ((r.targetStates.initial ?? 0) > 0) {
    return { verdict: 'pending', reason: `health gate waiting: ${what}` };
  }
  // ELB's reason for `unused` is Target.NotInUse: the group is named by no action of the load balancer, or the
  // target is in a zone the load balancer does not serve. The shifter keeps both groups in its rule, so it is the zone.
  const unused = (r.targetStates.unused ?? 0) > 0
    ? `; unused targets are in an Availability Zone the load balancer does not serve, or their group is named by no action (Target.NotInUse)`
    : '';
  return { verdict: 'fail', reason: `health gate failed: ${what}${unused}` };
}

/** `blue=90/green=10`: how weights appear in messages and in the rule's tag. */
export function formatWeights(w: Weights): string {
  return `blue=${w.blue}/green=${w.green}`;
}

/**
 * The forward action the shifter keeps on its rule: always both colors'
 * target groups, with these weights. Normally with target-group stickiness,
 * so a user stays on the color where the session started. After a failed
 * gate, `cut` names the color that failed: it keeps weight 0 and the action
 * has no group stickiness, so no request reaches it, whatever AWSALBTG cookie
 * a user carries (with stickiness on, that cookie outranks a weight of 0).
 * The failed color stays named in the action because ELB health-checks only
 * target groups that some action forwards to; a group no action names reports
 * its targets `unused` (reason `Target.NotInUse`), and the next release to it
 * would fail its first health gate for that alone
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html,
 * "Target.NotInUse").
 */
export interface RuleState {
  /** The weights; a `cut` color has 0. */
  readonly weights: Weights;
  /** The color a failed gate cut off: weight 0, and no group stickiness on the action. */
  readonly cut?: FleetColorName;
}

/** What a failed gate leaves on the rule: everyone to the other color, the failed one at 0 without group stickiness. */
export function cutOff(failed: FleetColorName): RuleState {
  return { weights: weightsFor(otherColor(failed), 100), cut: failed };
}

/** Whether two rule states are the same. */
export function sameState(a: RuleState, b: RuleState): boolean {
  return a.cut === b.cut && sameWeights(a.weights, b.weights);
}

/** What the resource reports for the rule in `state`. */
export function outcomeOf(state: RuleState): ShiftOutcome {
  return state.cut ? SHIFT_OUTCOMES.ROLLED_BACK : SHIFT_OUTCOMES.SHIFTED;
}

/**
 * Whether the action carries target-group stickiness in `state`: when the
 * routing has it, and no color is cut off.
 */
export function groupStickinessOn(state: RuleState, groupStickinessSeconds: number): boolean {
  return !state.cut && groupStickinessSeconds > 0;
}

/**
 * The rule's tag: the weights, `blue=90/green=10`, and after a failed gate
 * the color cut off, `blue=100/green=0/cut=green`. ELBv2 tag values allow
 * only letters, digits, spaces and `_.:/=+-@`, so no comma.
 */
export function formatState(state: RuleState): string {
  return formatWeights(state.weights) + (state.cut ? `/cut=${state.cut}` : '');
}

/**
 * Parses {@link formatState}; undefined for anything else, such as
 * `blue=100,green=0` (tag values take no comma, so no shift wrote it) or a
 * cut color with a weight, which the handler then reports as a rule it
 * cannot read.
 */
export function parseState(text: string | undefined): RuleState | undefined {
  const match = /^blue=(\d{1,3})\/green=(\d{1,3})(?:\/cut=(blue|green))?$/.exec(text ?? '');
  if (!match) {
    return undefined;
  }
  const weights = { blue: Number(match[1]), green: Number(match[2]) };
  const cut = match[3] as FleetColorName | undefined;
  if (cut && weights[cut] !== 0) {
    return undefined;
  }
  return cut ? { weights, cut } : { weights };
}

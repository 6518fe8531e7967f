/**
 * The traffic shifter's decisions, as pure functions: given the live weights,
 * the plan and the gate readings, what happens next. No SDK, no clock: the
 * handler passes `now` in, so every branch is tested without a client.
 */
import { FleetColorName } from '../../lib/contract/app-env';
import {
  PlanSpec, SHIFT_OUTCOMES, ShiftOutcome, Weights, otherColor, plannedShares, sameWeights, shareOf, stepDelaySeconds, weightsFor,
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
}

/** The next move. */
export type Decision =
  | { readonly action: 'done' }
  | { readonly action: 'wait'; readonly until: number }
  | { readonly action: 'shift'; readonly to: Weights; readonly final: boolean };

/**
 * The next step of the plan from the live weights. The first step of a deploy
 * goes at once; each later one waits the plan's bake time or interval after
 * the previous shift. Steps the live weights already passed are skipped, so a
 * retried or resumed shift continues where it stands.
 */
export function nextStep(state: ShiftState): Decision {
  const share = shareOf(state.target, state.live);
  if (share >= 100 && state.live[otherColor(state.target)] === 0) {
    return { action: 'done' };
  }
  const next = plannedShares(state.plan).find((s) => s > share) ?? 100;
  if (!sameWeights(state.live, state.start) && state.lastShiftAt !== undefined) {
    const due = state.lastShiftAt + stepDelaySeconds(state.plan) * 1000;
    if (state.now < due) {
      return { action: 'wait', until: due };
    }
  }
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

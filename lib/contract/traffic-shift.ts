/**
 * The contract between `BlueGreenRouting` and the traffic-shifter Lambda: the
 * custom resource's property names, and the plan format and its pure logic.
 * Both sides import this module; it depends on nothing but the language and app-env.ts.
 */

import type { FleetColorName } from './app-env';

/** Weights of the two target groups of the forward action; they always add up to 100. */
export interface Weights {
  readonly blue: number;
  readonly green: number;
}

/** How traffic moves to the target color. */
export type PlanSpec =
  | { readonly kind: 'all-at-once' }
  | { readonly kind: 'canary'; readonly percent: number; readonly bakeSeconds: number }
  | { readonly kind: 'linear'; readonly percent: number; readonly intervalSeconds: number };

/** Names of the custom resource's properties, as CloudFormation passes them. */
export const SHIFT_PROPS = {
  LISTENER_ARN: 'ListenerArn',
  BLUE_TARGET_GROUP_ARN: 'BlueTargetGroupArn',
  GREEN_TARGET_GROUP_ARN: 'GreenTargetGroupArn',
  TARGET_COLOR: 'TargetColor',
  PLAN: 'Plan',
  GROUP_STICKINESS_SECONDS: 'GroupStickinessSeconds',
  MIN_HEALTHY_TARGETS: 'MinHealthyTargets',
  ALARM_NAMES: 'AlarmNames',
  RULE_PRIORITY: 'RulePriority',
} as const;

/** Attributes the custom resource reports (`getAttString`). */
export const SHIFT_ATTRIBUTES = {
  BLUE_WEIGHT: 'BlueWeight',
  GREEN_WEIGHT: 'GreenWeight',
  LAST_SHIFT_AT: 'LastShiftAt',
  DRAINED_AT: 'DrainedAt',
  RULE_ARN: 'RuleArn',
  /** One of {@link SHIFT_OUTCOMES}. */
  OUTCOME: 'Outcome',
} as const;

/** What the last change of the rule was, as the `Outcome` attribute reports it. */
export const SHIFT_OUTCOMES = {
  /**
   * A shift (or nothing to shift): the rule forwards to both colors with
   * target-group stickiness, so users pinned to the color that lost traffic
   * stay on it until `DrainedAt`.
   */
  SHIFTED: 'shifted',
  /**
   * A gate failed: the failed color is cut off (weight 0, no group
   * stickiness), so no user, pinned or not, reaches it (`DrainedAt` is when it was
   * cut off) until a later deploy shifts to it again.
   */
  ROLLED_BACK: 'rolled-back',
} as const;

/** A value of the `Outcome` attribute. */
export type ShiftOutcome = typeof SHIFT_OUTCOMES[keyof typeof SHIFT_OUTCOMES];

/**
 * How long CloudFormation waits for the traffic shift: the most a custom
 * resource's `ServiceTimeout` allows (1 hour, also its default). Past it the
 * stack fails and rolls back while the provider would go on shifting, so
 * everything below fits inside it.
 */
export const CUSTOM_RESOURCE_TIMEOUT_SECONDS = 3600;

/**
 * Kept outside the provider's waiter: the onEvent call (up to its 1-minute
 * timeout), the last isComplete call (the same), the answer to CloudFormation,
 * and each poll's own run time on top of the check interval (about a second,
 * for up to 300 polls at the shortest interval).
 */
export const PROVIDER_MARGIN_SECONDS = 600;

/** The longest the provider's waiter may poll (its `totalTimeout`): 50 minutes. */
export const MAX_WAIT_SECONDS = CUSTOM_RESOURCE_TIMEOUT_SECONDS - PROVIDER_MARGIN_SECONDS;

/**
 * Waiting the gates may do, over a whole shift, while the target's targets are
 * still in their first health checks (`initial`): a replaced instance boots,
 * passes its 5-minute grace period and the load balancer's checks in less.
 */
export const PENDING_ALLOWANCE_SECONDS = 600;

/** The longest a plan may take from its first step to its last: 40 minutes, what the waiter has left after the pending allowance. */
export const MAX_PLAN_SECONDS = MAX_WAIT_SECONDS - PENDING_ALLOWANCE_SECONDS;

/** Why plans are limited, for the messages that refuse one. */
export const PLAN_LIMIT_REASON = `CloudFormation waits at most ${CUSTOM_RESOURCE_TIMEOUT_SECONDS / 60} minutes for a custom resource (its ServiceTimeout), ` +
  `and the shifter keeps ${PROVIDER_MARGIN_SECONDS / 60} of them for the provider and ${PENDING_ALLOWANCE_SECONDS / 60} for targets still in their first health checks`;

/**
 * Parses `all-at-once`, `canary:<percent>:<seconds>` or `linear:<percent>:<seconds>`.
 * Throws an Error that names the value and what is allowed.
 */
export function parsePlan(text: string): PlanSpec {
  if (text === 'all-at-once') {
    return { kind: 'all-at-once' };
  }
  const match = /^(canary|linear):(\d+):(\d+)$/.exec(text);
  if (!match) {
    throw new Error(`plan: must be all-at-once, canary:<percent>:<seconds> or linear:<percent>:<seconds>, got ${JSON.stringify(text)}`);
  }
  const percent = Number(match[2]);
  const seconds = Number(match[3]);
  if (percent < 1 || percent > 99) {
    throw new Error(`plan: the step must be a whole percentage from 1 to 99, got ${percent} in ${JSON.stringify(text)}`);
  }
  const spec: PlanSpec = match[1] === 'canary'
    ? { kind: 'canary', percent, bakeSeconds: seconds }
    : { kind: 'linear', percent, intervalSeconds: seconds };
  const total = planSeconds(spec);
  if (seconds < 1 || total > MAX_PLAN_SECONDS) {
    throw new Error(`plan: must wait at least 1 s per step and at most ${MAX_PLAN_SECONDS} s in all, got ${total} s in ${JSON.stringify(text)}; ` +
      `use fewer or shorter steps. ${PLAN_LIMIT_REASON}`);
  }
  return spec;
}

/**
 * How long the provider's waiter must poll for `plan` when it checks every
 * `checkIntervalSeconds`: each step after the first goes at the first check
 * on or after its wait, so it takes a whole number of checks; then the
 * pending allowance, in whole checks (at least one).
 */
export function waiterSeconds(plan: PlanSpec, checkIntervalSeconds: number): { readonly plan: number; readonly total: number } {
  const checksPerStep = Math.ceil(stepDelaySeconds(plan) / checkIntervalSeconds);
  const polledPlan = (plannedShares(plan).length - 1) * checksPerStep * checkIntervalSeconds;
  const pendingChecks = Math.max(1, Math.floor(PENDING_ALLOWANCE_SECONDS / checkIntervalSeconds));
  return { plan: polledPlan, total: polledPlan + pendingChecks * checkIntervalSeconds };
}

/** The plan as its text form (the inverse of {@link parsePlan}). */
export function formatPlan(plan: PlanSpec): string {
  switch (plan.kind) {
    case 'all-at-once': return 'all-at-once';
    case 'canary': return `canary:${plan.percent}:${plan.bakeSeconds}`;
    case 'linear': return `linear:${plan.percent}:${plan.intervalSeconds}`;
  }
}

/** How long the plan waits between its first and its last step, in seconds. */
export function planSeconds(plan: PlanSpec): number {
  return (plannedShares(plan).length - 1) * stepDelaySeconds(plan);
}

/** The wait before each step after the first, in seconds. */
export function stepDelaySeconds(plan: PlanSpec): number {
  switch (plan.kind) {
    case 'all-at-once': return 0;
    case 'canary': return plan.bakeSeconds;
    case 'linear': return plan.intervalSeconds;
  }
}

/** The target color's share after each step, ending at 100. */
export function plannedShares(plan: PlanSpec): number[] {
  switch (plan.kind) {
    case 'all-at-once':
      return [100];
    case 'canary':
      return [plan.percent, 100];
    case 'linear': {
      const shares: number[] = [];
      for (let share = plan.percent; share < 100; share += plan.percent) {
        shares.push(share);
      }
      return [...shares, 100];
    }
  }
}

/** The weights that give `color` the given share. */
export function weightsFor(color: FleetColorName, share: number): Weights {
  return color === 'blue' ? { blue: share, green: 100 - share } : { blue: 100 - share, green: share };
}

/** The share of `color` in `weights`, as a percentage of their sum. */
export function shareOf(color: FleetColorName, weights: Weights): number {
  const total = weights.blue + weights.green;
  return total === 0 ? 0 : Math.round((100 * weights[color]) / total);
}

/** Whether two sets of weights are the same. */
export function sameWeights(a: Weights, b: Weights): boolean {
  return a.blue === b.blue && a.green === b.green;
}

/** The other color. */
export function otherColor(color: FleetColorName): FleetColorName {
  return color === 'blue' ? 'green' : 'blue';
}

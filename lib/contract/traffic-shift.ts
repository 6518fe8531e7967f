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
  /** The rule's conditions, as ELBv2's `RuleCondition` objects; none: every request (`/*`). */
  CONDITIONS: 'Conditions',
  /** Seconds the shifter keeps watching the gates after the last step; 0 for none. */
  BAKE_SECONDS: 'BakeSeconds',
  /** A Lambda function the shifter calls before the first step, after each step and after the bake; empty for none. */
  HOOK_FUNCTION_ARN: 'HookFunctionArn',
  /** How long one stage's hook may keep answering IN_PROGRESS before the release fails, in seconds. */
  HOOK_TIMEOUT_SECONDS: 'HookTimeoutSeconds',
  /** Test traffic: requests with this header (name) ... */
  TEST_HEADER_NAME: 'TestHeaderName',
  /** ... of this value go to the release's target color; empty: no test traffic. */
  TEST_HEADER_VALUE: 'TestHeaderValue',
  /** Test traffic from a browser: requests with this cookie (name) ... */
  TEST_COOKIE_NAME: 'TestCookieName',
  /** ... of this value; empty: no cookie rule. */
  TEST_COOKIE_VALUE: 'TestCookieValue',
  /** The priority of the header's test rule; the cookie's rule takes the next one. Both come before the weighted rule. */
  TEST_RULE_PRIORITY: 'TestRulePriority',
} as const;

/**
 * How long the shifter waits for a hook's answer: isComplete itself runs for
 * at most a minute, and a long check answers IN_PROGRESS and is asked again
 * at the next poll. BlueGreenRouting refuses a hook whose timeout is longer.
 */
export const HOOK_ANSWER_SECONDS = 30;

/** The stages of a release at which the shifter calls the hook. */
export enum HookStage {
  /** Before the first step: test traffic reaches the target color, no user does yet. */
  BEFORE_FIRST_STEP = 'before-first-step',
  /** After each step, before the next one (and before the bake after the last). */
  AFTER_STEP = 'after-step',
  /** After the bake, before the release completes. */
  AFTER_BAKE = 'after-bake',
}

/** What a hook answers, as `{ "hookStatus": ... }` (the values of Amazon ECS's lifecycle hooks). */
export enum HookStatus {
  /** The stage may go on. */
  SUCCEEDED = 'SUCCEEDED',
  /** A failed gate: the shifter cuts the target color off and fails the release. */
  FAILED = 'FAILED',
  /** Ask again at the next poll, until the hook timeout. */
  IN_PROGRESS = 'IN_PROGRESS',
}

/** What the shifter sends a hook. */
export interface HookRequest {
  readonly stage: HookStage;
  /** The color the release moves traffic to. */
  readonly targetColor: FleetColorName;
  /** The plan, as the `Plan` property reads. */
  readonly plan: string;
  /** The weights now. */
  readonly weights: Weights;
  /** The target color's share after the step just taken (`after-step`), in percent. */
  readonly share?: number;
  /** When the release began (its onEvent), ISO 8601. */
  readonly releaseStartedAt: string;
  /** How many times this stage's hook has been asked, counting this one. */
  readonly attempt: number;
  readonly listenerArn: string;
  readonly ruleArn: string;
  readonly blueTargetGroupArn: string;
  readonly greenTargetGroupArn: string;
  /** The test traffic's header, when there is test traffic: send it to reach the target color. */
  readonly testHeader?: { readonly name: string; readonly value: string };
}

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

/** What a release does besides its plan's steps, for the time it takes. */
export interface ReleaseExtras {
  /** Seconds of gate watching after the last step. */
  readonly bakeSeconds: number;
  /** Seconds one stage's hook may answer IN_PROGRESS; 0 without a hook. */
  readonly hookTimeoutSeconds: number;
}

/** No bake and no hook: a plan's steps alone. */
export const NO_EXTRAS: ReleaseExtras = { bakeSeconds: 0, hookTimeoutSeconds: 0 };

/** How many times a release calls its hook: before the first step, after each step, after the bake. */
export function hookStages(plan: PlanSpec): number {
  return plannedShares(plan).length + 2;
}

/**
 * The longest a release may take from its first step to its end: the plan's
 * waits, the bake, and every hook stage's timeout. It must fit in
 * {@link MAX_PLAN_SECONDS}.
 */
export function releaseSeconds(plan: PlanSpec, extras: ReleaseExtras = NO_EXTRAS): number {
  return planSeconds(plan) + extras.bakeSeconds + (extras.hookTimeoutSeconds > 0 ? hookStages(plan) * extras.hookTimeoutSeconds : 0);
}

/**
 * How long the provider's waiter must poll for a release of `plan` when it
 * checks every `checkIntervalSeconds`: each step after the first goes at the
 * first check on or after its wait, so it takes a whole number of checks; the
 * bake and each hook stage's timeout likewise; then the pending allowance, in
 * whole checks (at least one). `plan` is the polled release without that allowance.
 */
export function waiterSeconds(plan: PlanSpec, checkIntervalSeconds: number, extras: ReleaseExtras = NO_EXTRAS): { readonly plan: number; readonly total: number } {
  const checks = (seconds: number) => Math.ceil(seconds / checkIntervalSeconds) * checkIntervalSeconds;
  const hooks = extras.hookTimeoutSeconds > 0 ? hookStages(plan) * checks(extras.hookTimeoutSeconds) : 0;
  const polled = (plannedShares(plan).length - 1) * checks(stepDelaySeconds(plan)) + checks(extras.bakeSeconds) + hooks;
  const pendingChecks = Math.max(1, Math.floor(PENDING_ALLOWANCE_SECONDS / checkIntervalSeconds));
  return { plan: polled, total: polled + pendingChecks * checkIntervalSeconds };
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

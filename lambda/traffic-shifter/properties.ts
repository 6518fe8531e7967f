/** Parses and validates the custom resource's properties (CloudFormation passes every scalar as a string). */
import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { FleetColorName, MAX_STICKINESS_SECONDS } from '../../lib/contract/app-env';
import { MAX_PLAN_SECONDS, PLAN_LIMIT_REASON, PlanSpec, SHIFT_PROPS, parsePlan, releaseSeconds } from '../../lib/contract/traffic-shift';
import { TargetGroups } from './elb';

/** Requests that carry a header (and, from a browser, a cookie) the team names go to the release's target color. */
export interface TestTraffic {
  readonly headerName: string;
  readonly headerValue: string;
  /** The cookie; none: the header alone. */
  readonly cookie?: { readonly name: string; readonly value: string };
  /** The header rule's priority; the cookie rule takes the next one. */
  readonly rulePriority: number;
}

/** The properties, parsed. */
export interface ShiftProperties {
  readonly listenerArn: string;
  readonly groups: TargetGroups;
  readonly target: FleetColorName;
  readonly plan: PlanSpec;
  readonly groupStickinessSeconds: number;
  readonly minHealthyTargets: number;
  readonly alarmNames: readonly string[];
  readonly rulePriority: number;
  /** The rule's conditions; none: every request. */
  readonly conditions: readonly RuleCondition[];
  /** Seconds of gate watching after the last step. */
  readonly bakeSeconds: number;
  /** The hook, if any. */
  readonly hookFunctionArn?: string;
  /** Seconds a stage's hook may answer IN_PROGRESS. */
  readonly hookTimeoutSeconds: number;
  /** Test traffic, if any. */
  readonly testTraffic?: TestTraffic;
}

/** What the shifter puts in the rule when it is given no conditions: every request. */
export const EVERY_REQUEST: readonly RuleCondition[] = [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }];

const ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:/;
/** A Lambda function's ARN, with a version or alias or without (the hook). */
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?$/;
/** An HTTP header name (RFC 7230's token), at most 40 characters as ELB's http-header condition takes it. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/;
/** A cookie name or value the cookie rule can match in the Cookie header: no wildcard of ELB's, no separator of the header. */
const COOKIE_PART = /^[!#$%&'+.^_`|~0-9A-Za-z-]{1,60}$/;

/** Parses the properties; throws one Error listing every bad one, so nothing is changed. */
export function parseProperties(raw: Record<string, unknown> | undefined): ShiftProperties {
  const props = raw ?? {};
  const problems: string[] = [];
  const text = (key: string): string => {
    const value = props[key];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  };
  const arn = (key: string, kind: string): string => {
    const value = text(key);
    if (!ARN.test(value) || !value.includes(`:${kind}/`)) {
      problems.push(`${key}: must be an ELBv2 ${kind} ARN, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const integer = (key: string, min: number, max: number): number => {
    const value = text(key);
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      problems.push(`${key}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return Number(value);
  };

  const listenerArn = arn(SHIFT_PROPS.LISTENER_ARN, 'listener');
  const blue = arn(SHIFT_PROPS.BLUE_TARGET_GROUP_ARN, 'targetgroup');
  const green = arn(SHIFT_PROPS.GREEN_TARGET_GROUP_ARN, 'targetgroup');
  if (blue === green && blue !== '') {
    problems.push(`${SHIFT_PROPS.GREEN_TARGET_GROUP_ARN}: must differ from the blue target group, got the same ARN`);
  }
  const target = text(SHIFT_PROPS.TARGET_COLOR);
  if (target !== 'blue' && target !== 'green') {
    problems.push(`${SHIFT_PROPS.TARGET_COLOR}: must be blue or green, got ${JSON.stringify(target)}`);
  }
  let plan: PlanSpec = { kind: 'all-at-once' };
  try {
    plan = parsePlan(text(SHIFT_PROPS.PLAN));
  } catch (e) {
    problems.push(`${SHIFT_PROPS.PLAN}: ${(e as Error).message}`);
  }
  const groupStickinessSeconds = integer(SHIFT_PROPS.GROUP_STICKINESS_SECONDS, 0, MAX_STICKINESS_SECONDS);
  const minHealthyTargets = integer(SHIFT_PROPS.MIN_HEALTHY_TARGETS, 0, 1000);
  const rulePriority = integer(SHIFT_PROPS.RULE_PRIORITY, 1, 50000);
  const alarms = props[SHIFT_PROPS.ALARM_NAMES] ?? [];
  if (!Array.isArray(alarms) || alarms.some((a) => typeof a !== 'string' || a === '')) {
    problems.push(`${SHIFT_PROPS.ALARM_NAMES}: must be a list of alarm names, got ${JSON.stringify(alarms)}`);
  }
  const conditions = props[SHIFT_PROPS.CONDITIONS] ?? [];
  if (!Array.isArray(conditions) || conditions.some((c) => typeof c !== 'object' || c === null || typeof (c as RuleCondition).Field !== 'string')) {
    problems.push(`${SHIFT_PROPS.CONDITIONS}: must be a list of ELBv2 rule conditions, got ${JSON.stringify(conditions)}`);
  }
  const bakeSeconds = text(SHIFT_PROPS.BAKE_SECONDS) === '' ? 0 : integer(SHIFT_PROPS.BAKE_SECONDS, 0, MAX_PLAN_SECONDS);
  const hookFunctionArn = text(SHIFT_PROPS.HOOK_FUNCTION_ARN) || undefined;
  if (hookFunctionArn !== undefined && !FUNCTION_ARN.test(hookFunctionArn)) {
    problems.push(`${SHIFT_PROPS.HOOK_FUNCTION_ARN}: must be a Lambda function ARN, got ${JSON.stringify(hookFunctionArn)}`);
  }
  const hookTimeoutSeconds = hookFunctionArn === undefined ? 0 : integer(SHIFT_PROPS.HOOK_TIMEOUT_SECONDS, 1, MAX_PLAN_SECONDS);
  const testTraffic = parseTestTraffic(text, integer, problems, rulePriority);
  if (problems.length === 0) {
    const total = releaseSeconds(plan, { bakeSeconds, hookTimeoutSeconds });
    if (total > MAX_PLAN_SECONDS) {
      problems.push(`${SHIFT_PROPS.PLAN}: the plan, the bake and the hook timeouts take ${total} s, at most ${MAX_PLAN_SECONDS} s fit; ${PLAN_LIMIT_REASON}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`invalid properties, nothing was changed: ${problems.join('; ')}`);
  }
  return {
    listenerArn,
    groups: { blue, green },
    target: target as FleetColorName,
    plan,
    groupStickinessSeconds,
    minHealthyTargets,
    alarmNames: alarms as string[],
    rulePriority,
    conditions: (conditions as RuleCondition[]).length > 0 ? conditions as RuleCondition[] : EVERY_REQUEST,
    bakeSeconds,
    hookFunctionArn,
    hookTimeoutSeconds,
    testTraffic,
  };
}

/** The test traffic's properties: none when the header value is empty; its rules' priorities before the weighted rule's. */
function parseTestTraffic(
  text: (key: string) => string, integer: (key: string, min: number, max: number) => number, problems: string[], rulePriority: number,
): TestTraffic | undefined {
  const headerValue = text(SHIFT_PROPS.TEST_HEADER_VALUE);
  if (headerValue === '') {
    return undefined;
  }
  const headerName = text(SHIFT_PROPS.TEST_HEADER_NAME);
  if (!HEADER_NAME.test(headerName)) {
    problems.push(`${SHIFT_PROPS.TEST_HEADER_NAME}: must be an HTTP header name of at most 40 characters, got ${JSON.stringify(headerName)}`);
  }
  if (!/^[\x21-\x7e]{1,128}$/.test(headerValue) || /[*?]/.test(headerValue)) {
    problems.push(`${SHIFT_PROPS.TEST_HEADER_VALUE}: must be 1 to 128 visible ASCII characters without ELB's wildcards * and ?, got ${JSON.stringify(headerValue)}`);
  }
  const cookieName = text(SHIFT_PROPS.TEST_COOKIE_NAME);
  const cookieValue = text(SHIFT_PROPS.TEST_COOKIE_VALUE);
  if ((cookieName === '') !== (cookieValue === '') || (cookieName !== '' && (!COOKIE_PART.test(cookieName) || !COOKIE_PART.test(cookieValue)))) {
    problems.push(`${SHIFT_PROPS.TEST_COOKIE_NAME}: a cookie needs a name and a value, each 1 to 60 characters of a cookie token without * or ?, ` +
      `got ${JSON.stringify(`${cookieName}=${cookieValue}`)}`);
  }
  const priority = integer(SHIFT_PROPS.TEST_RULE_PRIORITY, 1, 50000);
  const last = priority + (cookieName === '' ? 0 : 1);
  if (last >= rulePriority) {
    problems.push(`${SHIFT_PROPS.TEST_RULE_PRIORITY}: the test rules must come before the weighted rule (${rulePriority}), got ${priority}` +
      `${cookieName === '' ? '' : ` and ${last}`}`);
  }
  return { headerName, headerValue, cookie: cookieName === '' ? undefined : { name: cookieName, value: cookieValue }, rulePriority: priority };
}

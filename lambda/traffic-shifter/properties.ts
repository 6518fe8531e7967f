/** Parses and validates the custom resource's properties (CloudFormation passes every scalar as a string). */
import { FleetColorName, MAX_STICKINESS_SECONDS } from '../../lib/contract/app-env';
import { PlanSpec, SHIFT_PROPS, parsePlan } from '../../lib/contract/traffic-shift';
import { TargetGroups } from './elb';

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
}

const ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:/;

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
  };
}

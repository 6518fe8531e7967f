import { Duration, Token } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IAppFleet } from '../app-fleet';
import { FLEET_COLORS, FleetColor } from '../contract/app-env';
import { MAX_PLAN_SECONDS, PLAN_LIMIT_REASON, waiterSeconds } from '../contract/traffic-shift';
import { DEFAULT_LOG_RETENTION } from '../private/keys';
import { ProblemList } from '../private/problems';
import { ShiftPlan } from '../shift-plan';
import { Stickiness, StickinessType } from '../stickiness';
import { BlueGreenRoutingProps, DEFAULT_GROUP_STICKINESS, DEFAULT_SHIFT_RULE_PRIORITY } from './props';

/** The props of a {@link BlueGreenRouting} with every default filled in and every rule checked. */
export interface ResolvedRoutingProps {
  readonly targetColor: FleetColor;
  /** Target-group stickiness in force: `none` with one fleet. */
  readonly groupStickiness: Stickiness;
  /** What the traffic shift is built from; only with a green fleet. */
  readonly shift?: ResolvedShiftProps;
}

/** The traffic shift's settings, resolved: they exist only when there is a green fleet to shift to. */
export interface ResolvedShiftProps {
  readonly green: IAppFleet;
  readonly plan: ShiftPlan;
  readonly checkInterval: Duration;
  /** The provider's `totalTimeout`: the plan as the waiter polls it, plus the pending allowance. */
  readonly waiterTimeout: Duration;
  readonly minHealthyTargets: number;
  readonly gateAlarms: cloudwatch.IAlarm[];
  readonly rulePriority: number;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Defaults, then every rule AWS would only refuse at deploy time: the props'
 * ranges, AWS's stickiness rules for weighted routing, and whether the plan
 * fits in the time CloudFormation gives a custom resource. Collects every
 * problem and throws once.
 */
export function resolveRoutingProps(scope: Construct, props: BlueGreenRoutingProps): ResolvedRoutingProps {
  const { blue, green } = props;
  const targetColor = props.targetColor ?? FleetColor.BLUE;
  const groupStickiness = green ? props.groupStickiness ?? DEFAULT_GROUP_STICKINESS : Stickiness.none();
  const plan = props.shiftPlan ?? ShiftPlan.allAtOnce();
  const checkInterval = props.checkInterval ?? Duration.seconds(30);

  const problems = new ProblemList();
  problems.check(!(FLEET_COLORS as readonly string[]).includes(targetColor), () => `targetColor: must be blue or green, got ${JSON.stringify(targetColor)}`);
  if (props.rulePriority !== undefined) {
    problems.check(!Token.isUnresolved(props.rulePriority) && (!Number.isInteger(props.rulePriority) || props.rulePriority < 1 || props.rulePriority > 50_000),
      () => `rulePriority: must be a whole number from 1 to 50000, got ${props.rulePriority}`);
  }
  if (props.minHealthyTargets !== undefined) {
    problems.check(!Number.isInteger(props.minHealthyTargets) || props.minHealthyTargets < 0,
      () => `minHealthyTargets: must be a whole number of at least 0, got ${props.minHealthyTargets}`);
  }
  const intervalSeconds = checkInterval.toSeconds({ integral: false });
  const intervalValid = Number.isInteger(intervalSeconds) && intervalSeconds >= 10 && intervalSeconds <= 300;
  problems.check(props.checkInterval !== undefined && !intervalValid,
    () => `checkInterval: must be whole seconds from 10 to 300, got ${checkInterval.toHumanString()}`);

  problems.check(!green && targetColor === FleetColor.GREEN,
    () => 'targetColor: there is no green fleet to shift to, got green; add a green fleet or target blue');
  problems.add(...routingStickinessProblems(blue.stickiness, green?.stickiness, green ? groupStickiness : props.groupStickiness));
  // Only a shift has a waiter to fit, and only a valid interval says how the waiter polls the plan.
  const wait = green && intervalValid ? waiterSeconds(plan.spec, intervalSeconds) : undefined;
  problems.check(wait !== undefined && wait.plan > MAX_PLAN_SECONDS,
    () => `shiftPlan: must take at most ${MAX_PLAN_SECONDS / 60} minutes from first to last step as the shifter checks it, ` +
      `got ${Duration.seconds(wait!.plan).toHumanString()} for ${plan} checked every ${checkInterval.toHumanString()} (each step waits a whole number of checks); ` +
      `use a checkInterval that divides the step wait, or fewer or shorter steps. ${PLAN_LIMIT_REASON}`);
  problems.throwIfAny(scope);

  return {
    targetColor,
    groupStickiness,
    shift: green && wait ? {
      green,
      plan,
      checkInterval,
      waiterTimeout: Duration.seconds(wait.total),
      minHealthyTargets: props.minHealthyTargets ?? (targetColor === FleetColor.BLUE ? blue : green).minCapacity,
      gateAlarms: props.gateAlarms ?? [],
      rulePriority: props.rulePriority ?? DEFAULT_SHIFT_RULE_PRIORITY,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    } : undefined,
  };
}

/**
 * The stickiness rules AWS enforces on blue/green routing, one sentence per
 * broken rule: target-group stickiness needs two fleets and is always the
 * load balancer's cookie; a weighted fleet cannot use application-cookie
 * stickiness; a sticky fleet needs target-group stickiness. `BlueGreenRouting`
 * checks them at synth, and the lab refuses the same setups with them.
 * @param groupStickiness with a green fleet, the stickiness in force; without, the one asked for, if any
 */
export function routingStickinessProblems(blue: Stickiness, green: Stickiness | undefined, groupStickiness: Stickiness | undefined): string[] {
  const problems: string[] = [];
  if (!green) {
    if (groupStickiness?.enabled) {
      problems.push(`groupStickiness: target-group stickiness needs two fleets, got ${groupStickiness}; add a green fleet or remove groupStickiness`);
    }
    return problems;
  }
  const group = groupStickiness ?? Stickiness.none();
  if (group.type === StickinessType.APPLICATION_COOKIE) {
    problems.push(`groupStickiness: target-group stickiness always uses the load balancer's AWSALBTG cookie, got ${group}; use Stickiness.loadBalancerCookie(duration) or Stickiness.none()`);
  }
  for (const [color, stickiness] of [['blue', blue], ['green', green]] as const) {
    if (stickiness.type === StickinessType.APPLICATION_COOKIE) {
      problems.push(`stickiness: the ${color} fleet uses ${stickiness}, but AWS does not support application-cookie stickiness with weighted blue/green routing; ` +
        'use Stickiness.loadBalancerCookie(duration), or run a single fleet');
    }
    if (stickiness.enabled && !group.enabled) {
      problems.push(`groupStickiness: must be on while the ${color} fleet is sticky (${stickiness}), got none; AWS rejects target stickiness without target-group stickiness. ` +
        'Use Stickiness.loadBalancerCookie(duration) for groupStickiness, or Stickiness.none() for the fleet');
    }
  }
  return problems;
}

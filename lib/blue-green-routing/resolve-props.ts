import { Annotations, Duration, Token } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { IAppFleet } from '../app-fleet';
import { FLEET_COLORS, FleetColor } from '../contract/app-env';
import { HOOK_ANSWER_SECONDS, MAX_PLAN_SECONDS, PLAN_LIMIT_REASON, hookStages, waiterSeconds } from '../contract/traffic-shift';
import { DEFAULT_LOG_RETENTION } from '../private/keys';
import { ProblemList } from '../private/problems';
import { ShiftPlan } from '../shift-plan';
import { Stickiness, StickinessType } from '../stickiness';
import { checkConditions } from './conditions';
import { BlueGreenRoutingProps, DEFAULT_GROUP_STICKINESS, DEFAULT_SHIFT_RULE_PRIORITY, TestTrafficOptions } from './props';

/** The props of a {@link BlueGreenRouting} with every default filled in and every rule checked. */
export interface ResolvedRoutingProps {
  /** The listener the rules go on, and the fleets, as given. */
  readonly listener: elbv2.IApplicationListener;
  readonly blue: IAppFleet;
  /** The VPC the shifter's functions run in, and the key of its log groups, when given. */
  readonly vpc?: ec2.IVpc;
  readonly logEncryptionKey?: kms.IKey;
  readonly targetColor: FleetColor;
  /** Target-group stickiness in force: `none` with one fleet. */
  readonly groupStickiness: Stickiness;
  /** Whether the listener's default action forwards to blue. */
  readonly takeDefaultAction: boolean;
  /** The routing's conditions; empty: every request. */
  readonly conditions: elbv2.ListenerCondition[];
  /** The priority of the weighted rule, or of the rule to blue with one fleet. */
  readonly rulePriority: number;
  /** Blue's own rule, without the default action: the weighted rule's conditions at the next priority. */
  readonly blueRulePriority?: number;
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
  /** `gateAlarms`, then the dashboard's alarms for the target color. */
  readonly gateAlarms: cloudwatch.IAlarm[];
  readonly rulePriority: number;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logRetention: logs.RetentionDays;
  readonly bakeTime: Duration;
  readonly hook?: lambda.IFunction;
  /** Zero without a hook. */
  readonly hookTimeout: Duration;
  readonly testTraffic?: ResolvedTestTraffic;
}

/** Test traffic with its defaults. */
export interface ResolvedTestTraffic {
  readonly headerName: string;
  readonly headerValue: string;
  readonly cookie?: { readonly name: string; readonly value: string };
  readonly rulePriority: number;
}

/** The header test traffic carries when no name is given. */
export const DEFAULT_TEST_HEADER = 'X-Session-Tier-Preview';

/** An HTTP header name (RFC 7230's token), at most 40 characters as ELB's http-header condition takes it. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,40}$/;
/** A cookie name or value the cookie rule can match in the Cookie header: no wildcard of ELB's, no separator of the header. */
const COOKIE_PART = /^[!#$%&'+.^_`|~0-9A-Za-z-]{1,60}$/;

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
  problems.wholeNumber('minHealthyTargets', props.minHealthyTargets, { min: 0 });
  const bakeTime = props.bakeTime ?? Duration.seconds(0);
  const hookTimeout = props.hook ? props.hookTimeout ?? Duration.minutes(2) : Duration.seconds(0);
  problems.wholeSeconds('bakeTime', props.bakeTime, { min: 0, max: MAX_PLAN_SECONDS });
  problems.wholeSeconds('hookTimeout', props.hookTimeout, { min: 1, max: MAX_PLAN_SECONDS });
  problems.check(props.hookTimeout !== undefined && !props.hook, () => 'hookTimeout: only applies with a hook, got no hook; pass hook or remove hookTimeout');
  const hookRuns = props.hook instanceof lambda.Function && props.hook.timeout && !props.hook.timeout.isUnresolved() ? props.hook.timeout : undefined;
  problems.check(hookRuns !== undefined && hookRuns.toSeconds() > HOOK_ANSWER_SECONDS,
    () => `hook: must answer within ${HOOK_ANSWER_SECONDS} s (the shifter waits that long for each answer), got a function with a timeout of ${hookRuns!.toHumanString()}; ` +
      'give it a timeout of 30 s or less, and answer IN_PROGRESS for a check that takes longer: it is asked again at the next poll');
  const takeDefaultAction = props.takeDefaultAction ?? false;
  // Without the default action, blue's own rule comes right after the shifter's: the same conditions, the next priority.
  const rulePriority = props.rulePriority ?? (takeDefaultAction ? DEFAULT_SHIFT_RULE_PRIORITY : DEFAULT_SHIFT_RULE_PRIORITY - 1);
  problems.check(!takeDefaultAction && !Token.isUnresolved(rulePriority) && rulePriority === 50_000,
    () => 'rulePriority: blue\'s own rule takes rulePriority + 1 on a listener whose default action the routing does not take, ' +
      'got 50000; give 49999 or less, or takeDefaultAction: true on a listener of yours that serves only this routing');
  const testTraffic = props.testTraffic ? resolveTestTraffic(problems, props.testTraffic, rulePriority) : undefined;
  const intervalSeconds = checkInterval.toSeconds({ integral: false });
  const intervalValid = Number.isInteger(intervalSeconds) && intervalSeconds >= 10 && intervalSeconds <= 300;
  problems.check(props.checkInterval !== undefined && !intervalValid,
    () => `checkInterval: must be whole seconds from 10 to 300, got ${checkInterval.toHumanString()}`);

  problems.check(takeDefaultAction && !(props.listener instanceof elbv2.ApplicationListener),
    () => 'takeDefaultAction: an imported listener\'s default action belongs to the stack that made it, got true with an imported listener; ' +
      'leave takeDefaultAction false (the routing adds rules of its own, with conditions and rulePriority)');
  const conditions = props.conditions ?? [];
  checkConditions(problems, props.conditions, green && testTraffic
    ? { values: 1, wildcards: testTraffic.cookie ? 2 : 0 }
    : { values: 0, wildcards: 0 });
  problems.check(!green && targetColor === FleetColor.GREEN,
    () => 'targetColor: there is no green fleet to shift to, got green; add a green fleet or target blue');
  problems.add(...routingStickinessProblems(blue.stickiness, green?.stickiness, green ? groupStickiness : props.groupStickiness));
  // Only a shift has a waiter to fit, and only a valid interval says how the waiter polls the plan.
  const extras = { bakeSeconds: wholeSecondsOr0(bakeTime), hookTimeoutSeconds: wholeSecondsOr0(hookTimeout) };
  const wait = green && intervalValid ? waiterSeconds(plan._spec, intervalSeconds, extras) : undefined;
  const parts = [`${plan}`, ...extras.bakeSeconds > 0 ? [`a bake of ${bakeTime.toHumanString()}`] : [],
    ...extras.hookTimeoutSeconds > 0 ? [`${hookStages(plan._spec)} hook stages of up to ${hookTimeout.toHumanString()}`] : []];
  problems.check(wait !== undefined && wait.plan > MAX_PLAN_SECONDS,
    () => `shiftPlan: a release must take at most ${MAX_PLAN_SECONDS / 60} minutes from first step to end as the shifter checks it, ` +
      `got ${Duration.seconds(wait!.plan).toHumanString()} for ${parts.join(', ')}, checked every ${checkInterval.toHumanString()} (each wait takes a whole number of checks); ` +
      `use a checkInterval that divides the waits, or fewer or shorter steps, a shorter bakeTime or hookTimeout. ${PLAN_LIMIT_REASON}`);
  problems.throwIfAny(scope);
  warnOfSecureCookiesOverHttp(scope, props);

  const dashboardAlarms = props.dashboard?.alarmsFor(targetColor) ?? [];
  return {
    listener: props.listener,
    blue,
    vpc: props.vpc,
    logEncryptionKey: props.logEncryptionKey,
    targetColor,
    groupStickiness,
    takeDefaultAction,
    conditions,
    rulePriority,
    blueRulePriority: takeDefaultAction ? undefined : rulePriority + 1,
    shift: green && wait ? {
      green,
      plan,
      checkInterval,
      waiterTimeout: Duration.seconds(wait.total),
      minHealthyTargets: props.minHealthyTargets ?? (targetColor === FleetColor.BLUE ? blue : green).minCapacity,
      gateAlarms: [...new Set([...props.gateAlarms ?? [], ...dashboardAlarms])],
      rulePriority,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      bakeTime,
      hook: props.hook,
      hookTimeout,
      testTraffic,
    } : undefined,
  };
}

/**
 * A fleet whose session cookie is Secure behind a listener known to serve
 * plain HTTP: a browser never sends that cookie back over HTTP, so every
 * request starts a new session, unless TLS ends in front of the load
 * balancer (CloudFront, say). A warning, as the tier's and the fleet's.
 */
function warnOfSecureCookiesOverHttp(scope: Construct, props: BlueGreenRoutingProps): void {
  const listener = props.listener;
  if (!(listener instanceof elbv2.ApplicationListener) || listener.protocol !== elbv2.ApplicationProtocol.HTTP) {
    return;
  }
  const secure = ([['blue', props.blue], ['green', props.green]] as const).filter(([, fleet]) => fleet?.secureCookies === true).map(([color]) => color);
  if (secure.length > 0) {
    Annotations.of(scope).addWarningV2('cdk-session-tier:secureCookiesOverHttp',
      `listener: serves plain HTTP on port ${listener.port}, got ${secure.join(' and ')} with secureCookies true: browsers never send a Secure cookie back over HTTP, ` +
      'so every request starts a new session; serve HTTPS (a certificate on the listener), or set secureCookies: false on the fleet when no TLS ends in front of the load balancer');
  }
}

/** A duration's whole seconds, or 0 when it is a token or not whole (an error says so elsewhere). */
function wholeSecondsOr0(d: Duration): number {
  const seconds = d.isUnresolved() ? 0 : d.toSeconds({ integral: false });
  return Number.isInteger(seconds) ? seconds : 0;
}

/** Test traffic's defaults and the rules of ELB's http-header condition and of rule priorities. */
function resolveTestTraffic(problems: ProblemList, t: TestTrafficOptions, rulePriority: number): ResolvedTestTraffic {
  const headerName = t.headerName ?? DEFAULT_TEST_HEADER;
  const known = (v?: string) => v !== undefined && !Token.isUnresolved(v);
  problems.check(known(headerName) && !HEADER_NAME.test(headerName),
    () => `testTraffic.headerName: must be an HTTP header name (letters, digits and !#$%&'*+-.^_\`|~), at most 40 characters, got ${JSON.stringify(headerName)}`);
  problems.check(known(t.headerValue) && (!/^[\x21-\x7e]{1,128}$/.test(t.headerValue) || /[*?]/.test(t.headerValue)),
    () => `testTraffic.headerValue: must be 1 to 128 visible ASCII characters without ELB's wildcards * and ?, got ${JSON.stringify(t.headerValue)}`);
  problems.check((t.cookieName === undefined) !== (t.cookieValue === undefined),
    () => `testTraffic.cookieName: a cookie needs both cookieName and cookieValue, got ${t.cookieName === undefined ? 'cookieValue' : 'cookieName'} alone`);
  for (const [prop, value] of [['cookieName', t.cookieName], ['cookieValue', t.cookieValue]] as const) {
    problems.check(known(value) && !COOKIE_PART.test(value!),
      () => `testTraffic.${prop}: must be 1 to 60 characters of a cookie token (letters, digits and !#$%&'+-.^_\`|~), without * or ?, got ${JSON.stringify(value)}`);
  }
  const priority = t.rulePriority ?? rulePriority - 2;
  const last = priority + (t.cookieName === undefined ? 0 : 1);
  problems.wholeNumber('testTraffic.rulePriority', t.rulePriority, { min: 1, max: 50_000 });
  problems.check(!Token.isUnresolved(priority) && !Token.isUnresolved(rulePriority) && (priority < 1 || last >= rulePriority),
    () => `testTraffic.rulePriority: the test rules (${priority}${last > priority ? ` and ${last}` : ''}) must come before the weighted rule (${rulePriority}) and from 1 on; ` +
      'give a lower testTraffic.rulePriority or a higher rulePriority');
  return {
    headerName,
    headerValue: t.headerValue,
    cookie: t.cookieName !== undefined && t.cookieValue !== undefined ? { name: t.cookieName, value: t.cookieValue } : undefined,
    rulePriority: priority,
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

import { BundlingOutput, CfnResource, CustomResource, Duration, Fn, Stack, Token, Validations } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { IAppFleet } from './app-fleet';
import { FleetColor } from './contract/app-env';
import { TRAFFIC_SHIFTER_BUNDLE, bundleAssetOptions } from './private/esbuild-bundle';
import { acknowledgeVpcAccess } from './private/acknowledgements';
import { DEFAULT_LOG_RETENTION, encryptedLogGroup, logsKey } from './private/keys';
import { ProblemList } from './private/problems';
import {
  CUSTOM_RESOURCE_TIMEOUT_SECONDS, MAX_PLAN_SECONDS, PLAN_LIMIT_REASON, SHIFT_ATTRIBUTES, SHIFT_PROPS, waiterSeconds,
} from './contract/traffic-shift';
import { SessionTierValidationError } from './errors';
import { ShiftPlan } from './shift-plan';
import { Stickiness, StickinessType } from './stickiness';

/** The rule priority the traffic shifter uses by default: the last one, so rules of your own come first. */
export const DEFAULT_SHIFT_RULE_PRIORITY = 50_000;

/** Properties of a {@link BlueGreenRouting}. */
export interface BlueGreenRoutingProps {
  /** The listener users reach. */
  readonly listener: elbv2.IApplicationListener;

  /** The blue fleet: an `AppFleet`, or a group of your own through `AppFleet.fromAutoScalingGroup`. */
  readonly blue: IAppFleet;

  /**
   * The green fleet. Without it the listener forwards straight to blue, the
   * only layout where application-cookie stickiness works.
   * @default no green fleet
   */
  readonly green?: IAppFleet;

  /**
   * The color that should have all the traffic once the deploy is done.
   * Change it and deploy to shift traffic by `shiftPlan`.
   * @default 'blue'
   */
  readonly targetColor?: FleetColor;

  /**
   * How the traffic moves when `targetColor` changes.
   * @default ShiftPlan.allAtOnce()
   */
  readonly shiftPlan?: ShiftPlan;

  /**
   * Target-group stickiness: keeps a user on the color where the session
   * started (the `AWSALBTG` cookie), so a release does not bounce users
   * between versions. Only `Stickiness.loadBalancerCookie(...)` or
   * `Stickiness.none()`; it must be on when either fleet is sticky (AWS
   * rejects target stickiness without it).
   * @default Stickiness.loadBalancerCookie(Duration.days(1))
   */
  readonly groupStickiness?: Stickiness;

  /**
   * Healthy targets the target color needs before each step.
   * @default the target fleet's minCapacity
   */
  readonly minHealthyTargets?: number;

  /**
   * Alarms that stop the shift: any of them in ALARM before a step restores
   * the weights from before the deploy and fails it.
   * @default no alarm gates
   */
  readonly gateAlarms?: cloudwatch.IAlarm[];

  /**
   * Priority of the listener rule the traffic shifter owns (1 to 50000).
   * @default 50000 (evaluated after any rule of your own)
   */
  readonly rulePriority?: number;

  /**
   * How often the traffic shifter checks its gates and takes a due step.
   * @default Duration.seconds(30)
   */
  readonly checkInterval?: Duration;

  /**
   * The VPC the traffic shifter's functions run in (private subnets with a
   * route out: they call the ELB and CloudWatch APIs over HTTPS). `SessionTier`
   * passes its own.
   * @default outside any VPC (Control Tower's CT.LAMBDA.PR.3 refuses such functions)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` for the functions.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The key the shifter's log groups are encrypted with; its policy must let CloudWatch Logs use it.
   * @default a new customer managed key, rotated, for log groups of this account only
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * How long the shifter's log groups keep events.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The routing between the blue and green fleets.
 *
 * With two fleets, a weighted forward rule with target-group stickiness sends
 * users to blue or green. That rule is created, changed and deleted only by a
 * custom resource (the traffic shifter Lambda), never by CloudFormation
 * directly, so no later deploy can reset the live weights (aws/aws-cdk#36649).
 * Changing `targetColor` and deploying moves traffic by `shiftPlan` in
 * health-checked steps; a failed gate restores the weights and fails the
 * deploy, so CloudFormation rolls back. The listener's own default action
 * forwards to blue and serves only while the rule does not exist.
 *
 * With one fleet, the listener forwards straight to it.
 */
export class BlueGreenRouting extends Construct {
  /** The color the deploy moves all traffic to. */
  public readonly targetColor: FleetColor;
  /** Target-group stickiness between the colors; `none` with one fleet. */
  public readonly groupStickiness: Stickiness;
  /** The traffic shifter custom resource, with two fleets. */
  public readonly trafficShift?: CustomResource;
  /** The provider (onEvent and isComplete functions), with two fleets. */
  public readonly provider?: cr.Provider;

  constructor(scope: Construct, id: string, props: BlueGreenRoutingProps) {
    super(scope, id);
    const { blue, green, listener } = props;
    this.targetColor = props.targetColor ?? 'blue';
    this.groupStickiness = green
      ? props.groupStickiness ?? DEFAULT_GROUP_STICKINESS
      : Stickiness.none();
    validateRouting(this, props, this.groupStickiness);

    // The fallback the listener serves only while the shifter's rule does not exist.
    listener.addAction('Default', { action: elbv2.ListenerAction.forward([blue.targetGroup]) });
    if (!green) {
      return;
    }
    const plan = props.shiftPlan ?? ShiftPlan.allAtOnce();
    const checkInterval = props.checkInterval ?? Duration.seconds(30);
    const logKey = props.logEncryptionKey ?? logsKey(this, 'LogsKey', 'Encrypts the traffic shifter\'s log groups');
    const retention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    const logGroup = (logId: string) => encryptedLogGroup(this, logId, logKey, retention);
    const network = props.vpc ? this.network(props.vpc, props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }) : undefined;
    const onEvent = this.handler('OnEvent', 'onEvent', Duration.minutes(1), logGroup, network);
    const isComplete = this.handler('IsComplete', 'isComplete', Duration.minutes(1), logGroup, network);
    this.grantShift(listener, props.gateAlarms ?? [], onEvent, isComplete);

    this.provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: checkInterval,
      totalTimeout: waiterTimeout(this, plan, checkInterval),
      logGroup: logGroup('ProviderLogs'),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: logGroup('WaiterLogs'),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
      ...network,
    });
    traceWaiter(this.provider);
    acknowledgeProvider(this.provider, [onEvent, isComplete]);

    const targetFleet = this.targetColor === 'blue' ? blue : green;
    this.trafficShift = new CustomResource(this, 'TrafficShift', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::BlueGreenTrafficShift',
      // Explicit: the provider's waiter and margins are sized to fit inside it.
      serviceTimeout: Duration.seconds(CUSTOM_RESOURCE_TIMEOUT_SECONDS),
      properties: {
        [SHIFT_PROPS.LISTENER_ARN]: listener.listenerArn,
        [SHIFT_PROPS.BLUE_TARGET_GROUP_ARN]: blue.targetGroup.targetGroupArn,
        [SHIFT_PROPS.GREEN_TARGET_GROUP_ARN]: green.targetGroup.targetGroupArn,
        [SHIFT_PROPS.TARGET_COLOR]: this.targetColor,
        [SHIFT_PROPS.PLAN]: plan.toString(),
        [SHIFT_PROPS.GROUP_STICKINESS_SECONDS]: String(this.groupStickiness.duration?.toSeconds() ?? 0),
        [SHIFT_PROPS.MIN_HEALTHY_TARGETS]: String(props.minHealthyTargets ?? targetFleet.minCapacity),
        [SHIFT_PROPS.ALARM_NAMES]: (props.gateAlarms ?? []).map((a) => a.alarmName),
        [SHIFT_PROPS.RULE_PRIORITY]: String(props.rulePriority ?? DEFAULT_SHIFT_RULE_PRIORITY),
      },
    });
    // Shift only to instances that exist and have signalled that the app answers.
    this.trafficShift.node.addDependency(blue.autoScalingGroup, green.autoScalingGroup, listener);
    if (network) {
      // Functions in private subnets reach the AWS APIs only once the routes out exist.
      this.trafficShift.node.addDependency(network.ready);
    }
    // Associates green with the load balancer (security group rules, metrics, the scaling policy's label)
    // through the rule the traffic shift creates: what depends on green being attached waits for it.
    green.targetGroup.registerListener(listener, this.trafficShift);
  }

  /** Blue's live weight once the deploy is done (an attribute of the traffic shift). */
  public get blueWeight(): string {
    return this.attribute(SHIFT_ATTRIBUTES.BLUE_WEIGHT);
  }

  /** Green's live weight once the deploy is done. */
  public get greenWeight(): string {
    return this.attribute(SHIFT_ATTRIBUTES.GREEN_WEIGHT);
  }

  /**
   * When the color that lost traffic holds no more sticky users: the last
   * shift plus the target-group stickiness duration (ISO 8601).
   */
  public get drainedAt(): string {
    return this.attribute(SHIFT_ATTRIBUTES.DRAINED_AT);
  }

  /**
   * What the last change of the rule was: `shifted` (both colors in the rule,
   * with target-group stickiness) or `rolled-back` (a gate failed and the
   * rule forwards to the surviving color alone, so nobody reaches the failed
   * one, pinned or not, until a deploy shifts to it again).
   */
  public get outcome(): string {
    return this.attribute(SHIFT_ATTRIBUTES.OUTCOME);
  }

  private attribute(name: string): string {
    if (!this.trafficShift) {
      throw new SessionTierValidationError(`${name}: only a routing between two fleets has a traffic shift, got blue alone; add a green fleet`, this);
    }
    return this.trafficShift.getAttString(name);
  }

  /** Where the functions run: the private subnets, with a security group that lets them out on HTTPS only. */
  private network(vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection): ShifterNetwork {
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Traffic shifter functions: out to the AWS APIs over HTTPS only, nothing in',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: the ELB, CloudWatch and Lambda APIs');
    return { vpc, vpcSubnets, securityGroups: [securityGroup], ready: vpc.selectSubnets(vpcSubnets).internetConnectivityEstablished };
  }

  private handler(id: string, handler: string, timeout: Duration, logGroupFor: (id: string) => logs.LogGroup, network?: ShifterNetwork): lambda.Function {
    const logGroup = logGroupFor(`${id}Logs`);
    // Its own role with write access to its own log group: no managed policy.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Blue/green traffic shifter (${handler}): the listener rule it owns, target health, gate alarms`,
    });
    logGroup.grantWrite(role);
    const { path: codeDir, ...code } = bundleAssetOptions(TRAFFIC_SHIFTER_BUNDLE, BundlingOutput.NOT_ARCHIVED);
    return new lambda.Function(this, id, {
      code: lambda.Code.fromAsset(codeDir, code),
      handler: `index.${handler}`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout,
      description: `Blue/green traffic shifter: ${handler}`,
      logGroup,
      role,
      vpc: network?.vpc,
      vpcSubnets: network?.vpcSubnets,
      securityGroups: network?.securityGroups,
    });
  }

  /**
   * Each handler's own least privilege: onEvent creates, carries over and
   * deletes the rule; isComplete moves its weights and reads the gates. Both
   * change only rules of this listener.
   */
  private grantShift(listener: elbv2.IApplicationListener, alarms: cloudwatch.IAlarm[], onEvent: iam.IGrantable, isComplete: iam.IGrantable): void {
    // listener ARN: arn:...:listener/app/<lb>/<lb-id>/<listener-id>; its rules: arn:...:listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>
    const parts = Fn.split(':listener/', listener.listenerArn, 2);
    const rulesOfListener = Fn.join('', [Fn.select(0, parts), ':listener-rule/', Fn.select(1, parts), '/*']);
    // CreateRule with tags is also authorized as AddTags on the new rule (tag on create), which this statement covers.
    const changeRules = (...actions: string[]) => new iam.PolicyStatement({
      sid: 'ChangeOnlyRulesOfThisListener', actions: actions.map((a) => `elasticloadbalancing:${a}`), resources: [rulesOfListener],
    });
    const describe = (actions: string[]) => new iam.PolicyStatement({ sid: 'DescribeCallsTakeNoResource', actions, resources: ['*'] });
    // DescribeAlarms takes alarm ARNs, but returns composite alarms only to a role allowed it on "*".
    const composite = alarms.some((alarm) => alarm instanceof cloudwatch.CompositeAlarm);
    const alarmsOnStar = composite ? ['cloudwatch:DescribeAlarms'] : [];
    const readTheGateAlarms = alarms.length > 0 && !composite
      ? [new iam.PolicyStatement({ sid: 'ReadOnlyTheGateAlarms', actions: ['cloudwatch:DescribeAlarms'], resources: alarms.map((a) => a.alarmArn) })]
      : [];
    const onStar = (names: string[]) => `${names.join(', ')} support no resource-level permissions: AWS requires "*". They only read.`;
    const grants = [
      {
        grantee: onEvent,
        statements: [
          new iam.PolicyStatement({ sid: 'CreateTheRuleOnThisListener', actions: ['elasticloadbalancing:CreateRule'], resources: [listener.listenerArn] }),
          changeRules('ModifyRule', 'DeleteRule', 'AddTags'),
          describe(['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetGroups']),
        ],
        starReason: onStar(['DescribeRules', 'DescribeTags', 'DescribeTargetGroups']),
      },
      {
        grantee: isComplete,
        statements: [
          changeRules('ModifyRule', 'AddTags'),
          describe([
            'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetHealth', ...alarmsOnStar,
          ]),
          ...readTheGateAlarms,
        ],
        starReason: onStar(['DescribeRules', 'DescribeTags', 'DescribeTargetHealth']) + (composite
          ? ' DescribeAlarms is allowed on "*" too: a gate alarm is a composite alarm, and DescribeAlarms returns composite alarms only to a role allowed it on "*".'
          : ''),
      },
    ];
    // cdk-nag names a finding by the resource as it renders the template: the parts of the Fn::Join, objects as JSON.
    const renderedRules = (Stack.of(this).resolve(rulesOfListener)['Fn::Join'][1] as unknown[])
      .map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
    for (const { grantee, statements, starReason } of grants) {
      for (const statement of statements) {
        grantee.grantPrincipal.addToPrincipalPolicy(statement);
      }
      const role = grantee.grantPrincipal;
      if (role instanceof Construct) {
        acknowledgeVpcAccess(role);
        Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: starReason });
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${renderedRules}]`,
          reason: 'The rules of this one listener only: the rule the shifter owns gets its ARN at deploy time, so the policy names the listener\'s rule prefix, never another listener\'s.',
        });
      }
    }
  }
}

/**
 * The provider's `totalTimeout` for `plan` checked every `checkInterval`: the
 * plan as the waiter polls it (each step a whole number of checks) plus the
 * pending allowance, at most 50 minutes (`MAX_WAIT_SECONDS`), so the waiter stops
 * before CloudFormation does. Fails when the polled plan cannot fit.
 */
function waiterTimeout(scope: Construct, plan: ShiftPlan, checkInterval: Duration): Duration {
  const interval = checkInterval.toSeconds();
  const wait = waiterSeconds(plan.spec, interval);
  if (wait.plan > MAX_PLAN_SECONDS) {
    throw new SessionTierValidationError(`shiftPlan: must take at most ${MAX_PLAN_SECONDS / 60} minutes from first to last step as the shifter checks it, ` +
      `got ${Duration.seconds(wait.plan).toHumanString()} for ${plan} checked every ${checkInterval.toHumanString()} (each step waits a whole number of checks); ` +
      `use a checkInterval that divides the step wait, or fewer or shorter steps. ${PLAN_LIMIT_REASON}`, scope);
  }
  return Duration.seconds(wait.total);
}

/** Where the shifter's functions run, when in a VPC. */
interface ShifterNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
  /** The subnets' routes out: the functions reach the AWS APIs through them. */
  readonly ready: IDependable;
}

/**
 * X-Ray tracing on the provider's waiter state machine (Control Tower
 * CT.STEPFUNCTIONS.PR.2), which `cr.Provider` offers no option for: set on
 * the state machine, with the X-Ray calls tracing needs on its role.
 */
function traceWaiter(provider: cr.Provider): void {
  const waiter = provider.node.findAll().find((c): c is cr.WaiterStateMachine => c instanceof cr.WaiterStateMachine);
  const machine = waiter?.node.defaultChild;
  const role = waiter?.node.tryFindChild('Role');
  if (!(machine instanceof sfn.CfnStateMachine) || !(role instanceof iam.Role)) {
    throw new Error('cdk-session-tier: found no waiter state machine and role in the provider to trace; aws-cdk-lib changed cr.Provider');
  }
  machine.tracingConfiguration = { enabled: true };
  // What the AWSXrayWriteOnlyAccess managed policy grants: the X-Ray API takes no resource.
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'WriteTraces',
    actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
    resources: ['*'],
  }));
}

/** The provider framework's own functions: acknowledged where its design leaves no choice. */
function acknowledgeProvider(provider: cr.Provider, handlers: lambda.IFunction[]): void {
  const stack = Stack.of(provider);
  for (const fn of [...handlers, ...provider.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function)]) {
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnResource)}.Arn>:*]`,
      reason: 'The provider framework invokes its handlers and its own functions by ARN including their versions (<arn>:*), as CDK grants lambda:InvokeFunction; no other function.',
    });
  }
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Step Functions log delivery (logs:CreateLogDelivery, PutResourcePolicy and the like) and X-Ray (PutTraceSegments, GetSamplingRules and the like) support no resource-level permissions; the waiter state machine needs them to log to its log group and to send its traces.',
  });
  acknowledgeVpcAccess(provider);
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The CDK provider framework\'s own functions use the AWS-maintained basic execution role to write their logs; it grants nothing else.',
  });
}

/** Target-group stickiness between two fleets when none is given: the load balancer's cookie, for a day. */
export const DEFAULT_GROUP_STICKINESS = Stickiness.loadBalancerCookie(Duration.days(1));

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

function validateRouting(scope: Construct, props: BlueGreenRoutingProps, groupStickiness: Stickiness): void {
  const problems = new ProblemList();
  const { green } = props;
  const targetColor = props.targetColor ?? 'blue';

  problems.check(!['blue', 'green'].includes(targetColor), () => `targetColor: must be blue or green, got ${JSON.stringify(targetColor)}`);
  if (props.rulePriority !== undefined) {
    problems.check(!Token.isUnresolved(props.rulePriority) && (!Number.isInteger(props.rulePriority) || props.rulePriority < 1 || props.rulePriority > 50_000),
      () => `rulePriority: must be a whole number from 1 to 50000, got ${props.rulePriority}`);
  }
  if (props.minHealthyTargets !== undefined) {
    problems.check(!Number.isInteger(props.minHealthyTargets) || props.minHealthyTargets < 0,
      () => `minHealthyTargets: must be a whole number of at least 0, got ${props.minHealthyTargets}`);
  }
  if (props.checkInterval !== undefined) {
    const seconds = props.checkInterval.toSeconds({ integral: false });
    problems.check(!Number.isInteger(seconds) || seconds < 10 || seconds > 300,
      () => `checkInterval: must be whole seconds from 10 to 300, got ${props.checkInterval!.toHumanString()}`);
  }

  problems.check(!green && targetColor === 'green',
    () => 'targetColor: there is no green fleet to shift to, got green; add a green fleet or target blue');
  problems.add(...routingStickinessProblems(props.blue.stickiness, green?.stickiness, green ? groupStickiness : props.groupStickiness));
  problems.throwIfAny(scope);
}

import { CustomResource, Duration } from 'aws-cdk-lib/core';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { CUSTOM_RESOURCE_TIMEOUT_SECONDS, SHIFT_ATTRIBUTES, SHIFT_PROPS } from '../contract/traffic-shift';
import { SessionTierValidationError } from '../errors';
import { encryptedLogGroup, logsKey } from '../private/keys';
import { Stickiness } from '../stickiness';
import { acknowledgeProvider } from './acknowledgements';
import { BlueGreenRoutingProps } from './props';
import { ResolvedRoutingProps, ResolvedShiftProps, resolveRoutingProps } from './resolve-props';
import { apiConditions } from './conditions';
import { ShifterNetwork, grantShift, shifterFunction, shifterNetwork, traceWaiter } from './shifter';

/**
 * The routing between the blue and green fleets.
 *
 * With two fleets, a weighted forward rule with target-group stickiness sends
 * users to blue or green. That rule is created, changed and deleted only by a
 * custom resource (the traffic shifter Lambda), never by CloudFormation
 * directly, so no later deploy can reset the live weights (aws/aws-cdk#36649).
 * Changing `targetColor` and deploying moves traffic by `shiftPlan` in
 * health-checked steps; a failed gate cuts the target color off the rule
 * (weight 0, no group stickiness, so no pinned user reaches it) and fails the deploy, so CloudFormation rolls back.
 * With `takeDefaultAction` the listener's own default action forwards to blue
 * and serves only while the rule does not exist; without it, the listener's
 * default action stays as you made it, and the weighted rule (limited to
 * `conditions`) is the only way to the fleets.
 *
 * With one fleet, the listener forwards straight to it: by its default
 * action with `takeDefaultAction`, else by a rule with `conditions` at `rulePriority`.
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
    const r = resolveRoutingProps(this, props);
    this.targetColor = r.targetColor;
    this.groupStickiness = r.groupStickiness;

    if (r.takeDefaultAction) {
      // Blue's, and with two fleets the fallback the listener serves only while the shifter's rule does not exist.
      r.listener.addAction('Default', { action: elbv2.ListenerAction.forward([r.blue.targetGroup]) });
    } else {
      // A listener shared with others: blue gets a rule of its own, and the default action stays theirs. It serves
      // blue alone, and is the fallback right behind the shifter's rule with two fleets (as the default action is with
      // takeDefaultAction), so it stays when green comes or goes: a rule made or deleted then would need the shifter's
      // priority while its rule still holds it (ELB: PriorityInUse). And blue's group is never `unused`.
      new elbv2.ApplicationListenerRule(this, 'BlueRule', {
        listener: r.listener,
        priority: r.blueRulePriority!,
        conditions: r.conditions.length > 0 ? r.conditions : [elbv2.ListenerCondition.pathPatterns(['/*'])],
        action: elbv2.ListenerAction.forward([r.blue.targetGroup]),
      });
    }
    if (!r.shift) {
      return;
    }
    const logGroup = this.logGroups(r.logEncryptionKey, r.shift.logRetention);
    const network = r.vpc ? shifterNetwork(this, r.vpc, r.shift.vpcSubnets) : undefined;
    const onEvent = shifterFunction(this, 'OnEvent', 'onEvent', Duration.minutes(1), logGroup, network);
    const isComplete = shifterFunction(this, 'IsComplete', 'isComplete', Duration.minutes(1), logGroup, network);
    grantShift(this, r.listener, r.shift.gateAlarms, onEvent, isComplete, r.shift.hook);
    this.provider = this.createProvider(onEvent, isComplete, r.shift, logGroup, network);
    this.trafficShift = this.createTrafficShift(this.provider, r, r.shift, network);
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
   * What the last change of the rule was: `shifted` (with target-group
   * stickiness) or `rolled-back` (a gate failed and the failed color is cut
   * off: weight 0 and no group stickiness, so nobody reaches it, pinned or
   * not, until a deploy shifts to it again).
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

  /** Makes the shifter's log groups on demand, all encrypted with one key and kept `retention`. */
  private logGroups(key: kms.IKey | undefined, retention: logs.RetentionDays): (id: string) => logs.LogGroup {
    const logKey = key ?? logsKey(this, 'LogsKey', 'Encrypts the traffic shifter\'s log groups');
    return (logId: string) => encryptedLogGroup(this, logId, logKey, retention);
  }

  /** The provider framework around the two functions: its waiter polls isComplete every check interval. */
  private createProvider(
    onEvent: lambda.IFunction, isComplete: lambda.IFunction, shift: ResolvedShiftProps, logGroup: (id: string) => logs.LogGroup, network?: ShifterNetwork,
  ): cr.Provider {
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: shift.checkInterval,
      totalTimeout: shift.waiterTimeout,
      logGroup: logGroup('ProviderLogs'),
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: logGroup('WaiterLogs'),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
      ...network,
    });
    traceWaiter(provider);
    acknowledgeProvider(provider, [onEvent, isComplete]);
    return provider;
  }

  /** The custom resource that owns the weighted rule, and what it waits for. */
  private createTrafficShift(
    provider: cr.Provider, r: ResolvedRoutingProps, shift: ResolvedShiftProps, network?: ShifterNetwork,
  ): CustomResource {
    const { blue, listener } = r;
    const { green } = shift;
    const trafficShift = new CustomResource(this, 'TrafficShift', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::BlueGreenTrafficShift',
      // Explicit: the provider's waiter and margins are sized to fit inside it.
      serviceTimeout: Duration.seconds(CUSTOM_RESOURCE_TIMEOUT_SECONDS),
      // Only what the rule should be, and no hash of the shifter's code (unlike the database setup's): the resource
      // states a desired routing, not an action to repeat, and a new release of the package must not start a shift.
      properties: {
        [SHIFT_PROPS.LISTENER_ARN]: listener.listenerArn,
        [SHIFT_PROPS.BLUE_TARGET_GROUP_ARN]: blue.targetGroup.targetGroupArn,
        [SHIFT_PROPS.GREEN_TARGET_GROUP_ARN]: green.targetGroup.targetGroupArn,
        [SHIFT_PROPS.TARGET_COLOR]: this.targetColor,
        [SHIFT_PROPS.PLAN]: shift.plan.toString(),
        [SHIFT_PROPS.GROUP_STICKINESS_SECONDS]: String(this.groupStickiness.duration?.toSeconds() ?? 0),
        [SHIFT_PROPS.MIN_HEALTHY_TARGETS]: String(shift.minHealthyTargets),
        [SHIFT_PROPS.ALARM_NAMES]: shift.gateAlarms.map((a) => a.alarmName),
        [SHIFT_PROPS.RULE_PRIORITY]: String(shift.rulePriority),
        // Only when given, so a template without conditions stays as it was (the shifter then matches every request).
        ...r.conditions.length > 0 ? { [SHIFT_PROPS.CONDITIONS]: apiConditions(r.conditions) } : {},
        [SHIFT_PROPS.BAKE_SECONDS]: String(shift.bakeTime.toSeconds()),
        ...shift.hook ? {
          [SHIFT_PROPS.HOOK_FUNCTION_ARN]: shift.hook.functionArn,
          [SHIFT_PROPS.HOOK_TIMEOUT_SECONDS]: String(shift.hookTimeout.toSeconds()),
        } : {},
        ...shift.testTraffic ? {
          [SHIFT_PROPS.TEST_HEADER_NAME]: shift.testTraffic.headerName,
          [SHIFT_PROPS.TEST_HEADER_VALUE]: shift.testTraffic.headerValue,
          [SHIFT_PROPS.TEST_RULE_PRIORITY]: String(shift.testTraffic.rulePriority),
          ...shift.testTraffic.cookie ? {
            [SHIFT_PROPS.TEST_COOKIE_NAME]: shift.testTraffic.cookie.name,
            [SHIFT_PROPS.TEST_COOKIE_VALUE]: shift.testTraffic.cookie.value,
          } : {},
        } : {},
      },
    });
    // Shift only to instances that exist and have signalled that the app answers.
    trafficShift.node.addDependency(blue.autoScalingGroup, green.autoScalingGroup, listener);
    if (network) {
      // Functions in private subnets reach the AWS APIs only once the routes out exist.
      trafficShift.node.addDependency(network.ready);
    }
    // Associates green with the load balancer (security group rules, metrics, the scaling policy's label)
    // through the rule the traffic shift creates: what depends on green being attached waits for it.
    green.targetGroup.registerListener(listener, trafficShift);
    return trafficShift;
  }
}

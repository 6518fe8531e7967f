import { Duration, Lazy, Validations } from 'aws-cdk-lib/core';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeControl } from '../private/control-tower';
import { encryptedTopic } from '../private/notification-topic';
import { ResolvedFleetProps } from './resolve-props';

/** The fleet's group and where it reports. */
export interface FleetGroup {
  /** The Auto Scaling group. */
  readonly group: autoscaling.AutoScalingGroup;
  /** The topic of its scaling notifications: the one given, or a new one. */
  readonly notificationsTopic: sns.ITopic;
}

/**
 * The fleet's Auto Scaling group (the fleet's `Resource`): its types preferred
 * in order, load balancer health checks, success signals, and a rolling update
 * one instance at a time that keeps `minCapacity` in service; its instances
 * registered in the target group, and scaled on requests per target.
 */
export function createAutoScalingGroup(fleet: Construct, r: ResolvedFleetProps,
  launchTemplate: ec2.LaunchTemplate, targetGroup: elbv2.ApplicationTargetGroup): FleetGroup {
  const notificationsTopic = r.notificationsTopic ?? encryptedTopic(fleet, 'Notifications', `${r.color} fleet scaling events`);
  const group = new autoscaling.AutoScalingGroup(fleet, 'Resource', {
    vpc: r.vpc,
    vpcSubnets: r.vpcSubnets,
    // Several types, preferred in order: a zone short of the first still launches (Control Tower CT.AUTOSCALING.PR.6).
    mixedInstancesPolicy: {
      launchTemplate,
      launchTemplateOverrides: r.instanceTypes.map((instanceType) => ({ instanceType })),
      instancesDistribution: {
        onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
        onDemandPercentageAboveBaseCapacity: 100,
      },
    },
    minCapacity: r.minCapacity,
    maxCapacity: r.maxCapacity,
    healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
      additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
      gracePeriod: r.healthCheckGracePeriod,
    }),
    cooldown: Duration.minutes(5),
    defaultInstanceWarmup: Duration.minutes(2),
    signals: autoscaling.Signals.waitForMinCapacity({ timeout: r.signalTimeout }),
    updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
      maxBatchSize: 1,
      // Keep serving at full strength while an instance is replaced.
      minInstancesInService: Math.max(0, Math.min(r.minCapacity, r.maxCapacity - 1)),
      pauseTime: r.signalTimeout,
      waitOnResourceSignals: true,
    }),
    notifications: [{ topic: notificationsTopic }],
    // Instances in service and desired, for the dashboard.
    groupMetrics: [new autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES, autoscaling.GroupMetric.DESIRED_CAPACITY)],
  });
  const subnets = r.vpc.selectSubnets(r.vpcSubnets);
  // Instances install packages and fetch their app at boot: they start once the subnets' routes out (NAT) exist.
  group.node.addDependency(subnets.internetConnectivityEstablished);
  // The zones of the subnets, named as well: Control Tower's hook (CT.AUTOSCALING.PR.1) reads this property, not the subnets.
  (group.node.defaultChild as autoscaling.CfnAutoScalingGroup).availabilityZones = subnets.availabilityZones;
  Validations.of(group).acknowledge({
    id: 'AwsSolutions-EC26',
    reason: 'The launch template encrypts the root volume (gp3, Encrypted true, asserted in the tests); cdk-nag cannot follow the launch template reference inside a mixed instances policy and reports an error instead of a finding.',
  });
  acknowledgeControl(group, 'CT.AUTOSCALING.PR.11',
    'Nitro encryption in transit protects traffic between two instances of supported types, and these instances talk to no other instance: ' +
    'only to the load balancer, to their session store over TLS (ElastiCache, RDS, EFS) and to AWS APIs over HTTPS. The default t4g types ' +
    'lack the feature; m7g or c7g types (instanceTypes) pass the control at more than twice the price (m7g.medium against t4g.small).');
  targetGroup.addTarget(group);
  trackRequestsPerTarget(fleet, group, targetGroup, r.targetRequestsPerMinute);
  return { group, notificationsTopic };
}

/**
 * Target tracking on requests per target. Its resource label names the load
 * balancer, known once a listener (or the traffic shifter's rule) forwards to
 * the group; Auto Scaling refuses the policy until then, so it waits for that.
 */
function trackRequestsPerTarget(fleet: Construct, group: autoscaling.AutoScalingGroup,
  targetGroup: elbv2.ApplicationTargetGroup, targetValue: number): void {
  const attached = () => {
    try {
      return targetGroup.firstLoadBalancerFullName;
    } catch {
      return undefined;
    }
  };
  // Checked before the label is rendered, so the error is one line of ours, not a resolution error of aws-cdk-lib's.
  fleet.node.addValidation({
    validate: () => attached() === undefined
      ? ['targetGroup: no load balancer forwards to it, so requests per target cannot be tracked; forward a listener to fleet.targetGroup ' +
        '(listener.addAction(..., { action: ListenerAction.forward([fleet.targetGroup]) }), or BlueGreenRouting / SessionTier, which do)']
      : [],
  });
  const policy = new autoscaling.TargetTrackingScalingPolicy(fleet, 'RequestsPerTarget', {
    autoScalingGroup: group,
    predefinedMetric: autoscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
    targetValue,
    resourceLabel: Lazy.string({ produce: () => `${attached()}/${targetGroup.targetGroupFullName}` }),
  });
  policy.node.addDependency(targetGroup.loadBalancerAttached);
}

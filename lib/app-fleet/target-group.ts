import { Duration } from 'aws-cdk-lib/core';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { AppFleetProps } from './props';
import { ResolvedFleetProps } from './resolve-props';

/** What the fleet's target group sends traffic to, and how it keeps users there. */
export interface TargetGroupOptions {
  /** The group whose instances are the targets. */
  readonly targets: autoscaling.AutoScalingGroup;
  /** The port the application listens on. */
  readonly port: number;
  /** The path its health check answers 200 on. */
  readonly healthCheckPath: string;
}

/** The target group the load balancer forwards the fleet's traffic to, health-checked on the app's path. */
export function createTargetGroup(fleet: Construct, props: AppFleetProps, r: ResolvedFleetProps, options: TargetGroupOptions): elbv2.ApplicationTargetGroup {
  const targetGroup = new elbv2.ApplicationTargetGroup(fleet, 'TargetGroup', {
    vpc: props.vpc,
    port: options.port,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.INSTANCE,
    targets: [options.targets],
    deregistrationDelay: r.deregistrationDelay,
    slowStart: props.slowStart,
    loadBalancingAlgorithmType: props.loadBalancingAlgorithm,
    healthCheck: {
      path: options.healthCheckPath,
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 3,
    },
  });
  for (const [key, value] of Object.entries(r.stickiness.targetGroupAttributes())) {
    targetGroup.setAttribute(key, value);
  }
  return targetGroup;
}

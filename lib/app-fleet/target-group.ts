import { Duration } from 'aws-cdk-lib/core';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { FleetApplicationConfig } from '../fleet-application';
import { ResolvedFleetProps } from './resolve-props';

/**
 * The target group the load balancer forwards the fleet's traffic to, on the
 * application's port, health-checked on its path, with the fleet's
 * stickiness; the Auto Scaling group registers its instances in it.
 */
export function createTargetGroup(fleet: Construct, r: ResolvedFleetProps, application: FleetApplicationConfig): elbv2.ApplicationTargetGroup {
  const targetGroup = new elbv2.ApplicationTargetGroup(fleet, 'TargetGroup', {
    vpc: r.vpc,
    port: application.port,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.INSTANCE,
    deregistrationDelay: r.deregistrationDelay,
    slowStart: r.slowStart,
    loadBalancingAlgorithmType: r.loadBalancingAlgorithm,
    healthCheck: {
      path: application.healthCheckPath,
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

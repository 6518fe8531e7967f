import { Arn, ArnFormat, Duration, Fn, Token } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IAppFleet } from '../app-fleet';
import { APP_METRICS_NAMESPACE, FleetColor } from '../contract/app-env';
import { SessionTierValidationError } from '../errors';

/** A metric the sample app publishes, by color. */
export function appMetric(metricName: string, color: FleetColor, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: APP_METRICS_NAMESPACE, metricName, statistic, period, dimensionsMap: { Color: color } });
}

/** `targetgroup/<name>/<id>`, as CloudWatch names a target group: from the ARN, so a group of your own works too. */
export function targetGroupFullName(targetGroup: elbv2.IApplicationTargetGroup): string {
  return targetGroup instanceof elbv2.ApplicationTargetGroup
    ? targetGroup.targetGroupFullName
    : Fn.select(5, Fn.split(':', targetGroup.targetGroupArn));
}

/**
 * `app/<name>/<id>`, as CloudWatch names a load balancer: from the ARN for
 * one you import (`ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes`),
 * the way aws-cdk-lib's own metrics of an imported load balancer do.
 */
function loadBalancerFullName(loadBalancer: elbv2.IApplicationLoadBalancer): string {
  if (loadBalancer instanceof elbv2.ApplicationLoadBalancer) {
    return loadBalancer.loadBalancerFullName;
  }
  const arn = loadBalancer.loadBalancerArn;
  if (Token.isUnresolved(arn)) {
    const parts = Fn.split('/', arn);
    return `${Fn.select(1, parts)}/${Fn.select(2, parts)}/${Fn.select(3, parts)}`;
  }
  const name = Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).resourceName;
  if (!name?.startsWith('app/')) {
    throw new SessionTierValidationError(`loadBalancer: must be an Application Load Balancer, whose ARN ends in loadbalancer/app/<name>/<id>, got ${arn}`);
  }
  return name;
}

/**
 * The load balancer's metrics of each fleet's target group, built by hand:
 * the green group reaches the listener through the shifter's rule, which CDK
 * does not see.
 */
export class TargetGroupMetrics {
  private readonly loadBalancerFullName: string;

  constructor(loadBalancer: elbv2.IApplicationLoadBalancer) {
    this.loadBalancerFullName = loadBalancerFullName(loadBalancer);
  }

  /** One metric of `fleet`'s target group. */
  public metric(fleet: IAppFleet, metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName,
      statistic,
      period,
      dimensionsMap: { LoadBalancer: this.loadBalancerFullName, TargetGroup: targetGroupFullName(fleet.targetGroup) },
    });
  }

  /** The share of requests the targets answered 5xx, in percent, over 5 minutes (0 without requests). */
  public http5xxRate(color: FleetColor, fleet: IAppFleet): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
      usingMetrics: {
        requests: this.metric(fleet, 'RequestCount', 'Sum', Duration.minutes(5)),
        errors: this.metric(fleet, 'HTTPCode_Target_5XX_Count', 'Sum', Duration.minutes(5)),
      },
      label: `${color} 5xx %`,
      period: Duration.minutes(5),
    });
  }
}

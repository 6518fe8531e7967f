/** A stack with a two-fleet `BlueGreenRouting`, synthesized the way users get it, for the contract checks. */
import { Stack } from 'aws-cdk-lib/core';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AppFleet, BlueGreenRouting, BlueGreenRoutingProps } from '../../lib';
import { testStack, testVpc } from '../helpers/app';

/** The routing, its stack and its template. */
export interface RoutingStack {
  readonly stack: Stack;
  readonly routing: BlueGreenRouting;
  readonly template: Template;
}

/**
 * Builds blue and green fleets behind one listener and routes between them.
 * @param gateAlarmNames metric alarms with these names become the routing's gate alarms
 */
export function routingStack(props: Partial<BlueGreenRoutingProps> = {}, gateAlarmNames: readonly string[] = []): RoutingStack {
  const stack = testStack();
  const vpc = testVpc(stack);
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const listener = alb.addListener('Http', { port: 80 });
  const blue = new AppFleet(stack, 'Blue', { vpc, color: 'blue' });
  const green = new AppFleet(stack, 'Green', { vpc, color: 'green' });
  const gateAlarms = gateAlarmNames.map((alarmName) => new cloudwatch.Alarm(stack, `Gate-${alarmName}`, {
    alarmName, metric: new cloudwatch.Metric({ namespace: 'App', metricName: alarmName }), threshold: 1, evaluationPeriods: 1,
  }));
  const routing = new BlueGreenRouting(stack, 'Routing', {
    listener, blue, green, ...gateAlarms.length > 0 ? { gateAlarms } : {}, ...props,
  });
  return { stack, routing, template: Template.fromStack(stack) };
}

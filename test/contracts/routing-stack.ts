/** A stack with a two-fleet `BlueGreenRouting`, synthesized the way users get it, for the contract checks. */
import { Duration, Stack } from 'aws-cdk-lib/core';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AppFleet, BlueGreenRouting, BlueGreenRoutingProps, FleetColor } from '../../lib';
import { testStack, testVpc } from '../helpers/app';
import { Statement, resolveIntrinsics } from './iam-policy';

/** The routing, its stack and its template. */
export interface RoutingStack {
  readonly stack: Stack;
  readonly routing: BlueGreenRouting;
  readonly template: Template;
}

/**
 * Builds blue and green fleets behind one listener and routes between them.
 * @param gateAlarmNames metric alarms with these names become the routing's gate alarms
 * @param withHook give the routing {@link releaseHook}
 */
export function routingStack(
  props: Partial<BlueGreenRoutingProps> = {}, gateAlarmNames: readonly string[] = [], withHook = false,
): RoutingStack {
  const stack = testStack();
  const vpc = testVpc(stack);
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const listener = alb.addListener('Http', { port: 80 });
  const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE });
  const green = new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN });
  const gateAlarms = gateAlarmNames.map((alarmName) => new cloudwatch.Alarm(stack, `Gate-${alarmName}`, {
    alarmName, metric: new cloudwatch.Metric({ namespace: 'App', metricName: alarmName }), threshold: 1, evaluationPeriods: 1,
  }));
  const routing = new BlueGreenRouting(stack, 'Routing', {
    listener, blue, green, takeDefaultAction: true, ...gateAlarms.length > 0 ? { gateAlarms } : {}, ...withHook ? { hook: releaseHook(stack) } : {}, ...props,
  });
  return { stack, routing, template: Template.fromStack(stack) };
}

/**
 * What a `BlueGreenRouting` left at its defaults passes the traffic shift
 * besides the listener and the two target groups: what the template tests
 * expect, and what the handler tests send unless a test changes one.
 */
export function defaultShiftSettings() {
  return {
    TargetColor: 'blue',
    Plan: 'all-at-once',
    GroupStickinessSeconds: '86400',
    MinHealthyTargets: '2',
    AlarmNames: [] as string[],
    RulePriority: '50000',
    BakeSeconds: '0',
  };
}

/** The name of the hook function {@link releaseHook} makes: its ARN is what the handler tests send. */
export const HOOK_NAME = 'release-hook';

/** A hook function for a routing in `stack`, named {@link HOOK_NAME}: a Node.js function that answers SUCCEEDED. */
export function releaseHook(stack: Stack): lambda.IFunction {
  return new lambda.Function(stack, 'ReleaseHook', {
    functionName: HOOK_NAME,
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ hookStatus: "SUCCEEDED" });'),
    timeout: Duration.seconds(10),
  });
}

/** Where the test stacks live (testStack's fixed environment). */
export const TEST_AWS = { partition: 'aws', region: 'eu-west-1', account: '123456789012' } as const;

/**
 * The statements of one handler role's policy, with their intrinsics resolved
 * to concrete ARNs: `listenerArn` for the listener, and each alarm's ARN from
 * its name. CDK's statement that lets the function write its own log group is
 * left out: no SDK command of the handlers needs it.
 * @param role a prefix of the role's logical id, e.g. `RoutingOnEventRole`
 */
export function rolePolicy(template: Template, role: string, listenerArn: string): Statement[] {
  const values: Record<string, string> = { 'AWS::Partition': TEST_AWS.partition, 'AWS::Region': TEST_AWS.region, 'AWS::AccountId': TEST_AWS.account };
  for (const id of Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::Listener'))) {
    values[id] = listenerArn;
  }
  for (const [id, fn] of Object.entries(template.findResources('AWS::Lambda::Function'))) {
    if (typeof fn.Properties.FunctionName === 'string') {
      values[`${id}.Arn`] = `arn:${TEST_AWS.partition}:lambda:${TEST_AWS.region}:${TEST_AWS.account}:function:${fn.Properties.FunctionName}`;
    }
  }
  for (const [id, alarm] of Object.entries(template.findResources('AWS::CloudWatch::Alarm'))) {
    values[`${id}.Arn`] = `arn:${TEST_AWS.partition}:cloudwatch:${TEST_AWS.region}:${TEST_AWS.account}:alarm:${alarm.Properties.AlarmName}`;
  }
  const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${role}`) }] } }));
  if (policies.length !== 1) {
    throw new Error(`${role}: expected one policy for the role, found ${policies.length}`);
  }
  const statements = policies[0].Properties.PolicyDocument.Statement as { Action: string | string[] }[];
  return statements
    .filter((statement) => ![statement.Action].flat().every((action) => action.startsWith('logs:')))
    .map((statement) => resolveIntrinsics(statement, values) as Statement);
}

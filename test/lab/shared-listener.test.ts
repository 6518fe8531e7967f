/**
 * Green coming and going on a listener you share, as AWS runs it: the rules
 * BlueGreenRouting's templates give CloudFormation and the traffic shifter's
 * own rule, made in CloudFormation's order (a deploy creates what it adds
 * before it deletes what it removes,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stack-failure-options.html
 * and the update behaviours of stack resources) on the lab's ELBv2 endpoint,
 * which refuses a second rule at one priority as ELB does (PriorityInUse).
 * The real onEvent handler creates and deletes the shifter's rule.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import {
  CreateRuleCommand, DeleteRuleCommand, DescribeRulesCommand, ElasticLoadBalancingV2Client, RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ElbEndpoint } from '../../lab/elb/endpoint';
import { LoadBalancer } from '../../lab/elb/load-balancer';
import { Haproxy } from '../../lab/haproxy';
import { LambdaFunction, trafficShifterBundle } from '../../lab/lambda';
import { AppFleet, BlueGreenRouting, FleetColor } from '../../lib';
import { SHIFT_PROPS } from '../../lib/contract/traffic-shift';
import { Stickiness } from '../../lib/stickiness';
import { freePort } from '../../local/ports';
import { testStack, testVpc } from '../helpers/app';

jest.setTimeout(120_000);

/** The rules of a routing on a listener of the team's, with one fleet or two: blue's own rule, and the shifter's properties. */
function routingTemplate(withGreen: boolean): { blueRule: { Priority: number; Conditions: RuleCondition[] }; shift?: Record<string, unknown> } {
  const stack = testStack();
  const vpc = testVpc(stack);
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
  const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, secureCookies: false });
  const green = withGreen ? new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN, secureCookies: false }) : undefined;
  new BlueGreenRouting(stack, 'Routing', {
    listener, blue, green, targetColor: withGreen ? FleetColor.GREEN : FleetColor.BLUE,
    conditions: [elbv2.ListenerCondition.hostHeaders(['shop.example.com'])], rulePriority: 40,
  });
  const template = Template.fromStack(stack);
  const rules = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
  expect(rules).toHaveLength(1);
  return {
    blueRule: rules[0].Properties,
    shift: Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0]?.Properties,
  };
}

let dir: string;
let lb: LoadBalancer;
let haproxy: Haproxy;
let endpoint: ElbEndpoint;
let elb: ElasticLoadBalancingV2Client;
let onEvent: LambdaFunction;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shared-listener-'));
  mkdirSync(join(dir, 'shifter'));
  lb = new LoadBalancer({ targetGroups: ['team', 'blue', 'green'], defaultAction: { targets: [{ group: 'team', weight: 1 }], stickySeconds: 0 } });
  haproxy = await Haproxy.start({
    port: await freePort(), dir, rules: lb.routing(), checkIntervalMs: 200,
    backends: Object.fromEntries(['team', 'blue', 'green'].map((g) => [g, { slots: 1, stickiness: Stickiness.none() }])),
  });
  endpoint = await ElbEndpoint.start(lb, haproxy, { deregistrationDelayMs: 200 });
  const env = endpoint.environment();
  elb = new ElasticLoadBalancingV2Client({ endpoint: endpoint.url, region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
  onEvent = new LambdaFunction({ name: 'shared-onEvent', bundle: trafficShifterBundle(join(dir, 'shifter')), handler: 'onEvent', environment: env });
});

afterAll(async () => {
  await onEvent?.stop();
  elb?.destroy();
  await endpoint?.stop();
  await haproxy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What CloudFormation sends for the rule of the template: the resource's properties as CreateRule's input. */
async function createTemplateRule(rule: { Priority: number; Conditions: RuleCondition[] }): Promise<string> {
  const created = await elb.send(new CreateRuleCommand({
    ListenerArn: lb.listenerArn, Priority: rule.Priority, Conditions: rule.Conditions,
    Actions: [{ Type: 'forward', TargetGroupArn: lb.groupArn('blue') }],
  }));
  return created.Rules![0].RuleArn!;
}

/** The traffic shift's properties with the lab's listener and groups for the template's references. */
function labShift(shift: Record<string, unknown>): Record<string, unknown> {
  return {
    ...shift,
    [SHIFT_PROPS.LISTENER_ARN]: lb.listenerArn,
    [SHIFT_PROPS.BLUE_TARGET_GROUP_ARN]: lb.groupArn('blue'),
    [SHIFT_PROPS.GREEN_TARGET_GROUP_ARN]: lb.groupArn('green'),
    [SHIFT_PROPS.ALARM_NAMES]: [],
  };
}

const priorities = async () => (await elb.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn }))).Rules!
  .map((r) => r.Priority).sort();

test('green added, then removed, on a shared listener: every rule CloudFormation and the shifter make fits beside the others', async () => {
  const alone = routingTemplate(false);
  const both = routingTemplate(true);
  // The first deploy: blue alone.
  const blueRule = await createTemplateRule(alone.blueRule);
  // Green added: the stack's new resources first, the traffic shift among them (blue's rule is in both templates).
  expect(both.blueRule).toEqual(alone.blueRule);
  const created = await onEvent.invoke({ RequestType: 'Create', ResourceProperties: labShift(both.shift!) }) as { PhysicalResourceId: string };
  expect(await priorities()).toEqual(['40', '41', 'default']);
  // Green removed: the traffic shift deleted in the cleanup; blue's rule stays and serves.
  await onEvent.invoke({ RequestType: 'Delete', PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: labShift(both.shift!) });
  expect(await priorities()).toEqual(['41', 'default']);
  await elb.send(new DeleteRuleCommand({ RuleArn: blueRule }));
});

test('the layout before, blue\'s rule at the shifter\'s priority, is what ELB refuses when green is added', async () => {
  const both = routingTemplate(true);
  const blueRule = await createTemplateRule({ ...both.blueRule, Priority: Number(both.shift![SHIFT_PROPS.RULE_PRIORITY]) });
  // The shifter reads the listener's rules before it creates its own, and fails the deploy as CreateRule would (PriorityInUse).
  await expect(onEvent.invoke({ RequestType: 'Create', ResourceProperties: labShift(both.shift!) })).rejects.toThrow(/priority 40 is taken on the listener/);
  await elb.send(new DeleteRuleCommand({ RuleArn: blueRule }));
});

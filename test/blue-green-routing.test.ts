import { Duration, Stack } from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AppFleet, BlueGreenRouting, BlueGreenRoutingProps, FleetColor, SessionDashboard, ShiftPlan, Stickiness } from '../lib';
import { parseProperties } from '../lambda/traffic-shifter/properties';
import { vpcFunctionRoleViolations } from './contracts/lambda-vpc';
import { defaultShiftSettings } from './contracts/routing-stack';
import { testStack, testVpc } from './helpers/app';

const LISTENER_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2';
const TG_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup';
const SHARED_LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';

interface Setup {
  readonly blueStickiness?: Stickiness;
  readonly greenStickiness?: Stickiness;
  readonly withGreen?: boolean;
}

function routing(setup: Setup, props: Partial<BlueGreenRoutingProps> = {}, inVpc = false): {
  stack: Stack; base: BlueGreenRoutingProps; build: () => BlueGreenRouting;
} {
  const stack = testStack();
  const vpc = testVpc(stack);
  if (inVpc) {
    props = { vpc, ...props };
  }
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const listener = alb.addListener('Http', { port: 80 });
  const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, stickiness: setup.blueStickiness });
  const green = setup.withGreen === false ? undefined
    : new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN, stickiness: setup.greenStickiness, minCapacity: 3, maxCapacity: 5 });
  return { stack, base: { listener, blue, green, takeDefaultAction: true }, build: () => new BlueGreenRouting(stack, 'Routing', { listener, blue, green, takeDefaultAction: true, ...props }) };
}

describe('BlueGreenRouting with two fleets', () => {
  const { stack, build } = routing({});
  const r = build();
  const template = Template.fromStack(stack);

  test('the template never carries the live weights: the listener only falls back to blue, the weighted rule belongs to the shifter', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') } }],
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    expect(JSON.stringify(template.toJSON())).not.toContain('"Weight"');
  });

  test('the traffic shift gets the listener, both groups, the target color, the plan, the stickiness and its gates', () => {
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', {
      ServiceToken: { 'Fn::GetAtt': [Match.stringLikeRegexp('RoutingProviderframeworkonEvent'), 'Arn'] },
      ListenerArn: { Ref: Match.stringLikeRegexp('^AlbHttp') },
      BlueTargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') },
      GreenTargetGroupArn: { Ref: Match.stringLikeRegexp('^GreenTargetGroup') },
      ...defaultShiftSettings(),
    });
    expect(r.targetColor).toBe('blue');
  });

  test('the shift waits for both fleets\' instances to signal and for the listener', () => {
    const shift = Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0];
    expect(shift.DependsOn).toEqual(expect.arrayContaining([
      expect.stringMatching(/^BlueASG/), expect.stringMatching(/^GreenASG/), expect.stringMatching(/^AlbHttp/),
    ]));
  });

  test('green is associated with the load balancer without an action, so its scaling policy can name it', () => {
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      TargetTrackingConfiguration: Match.objectLike({
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget',
          ResourceLabel: { 'Fn::Join': ['', Match.arrayWith([{ 'Fn::GetAtt': [Match.stringLikeRegexp('^GreenTargetGroup'), 'TargetGroupFullName'] }])] },
        },
      }),
    });
  });

  test('handlers: the newest Node.js runtime on arm64, bundled locally, with their own log groups; the provider polls every 30 s for the plan plus 10 minutes', () => {
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: Match.stringLikeRegexp('^index\\.(onEvent|isComplete)$') }, 2);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.onEvent', Timeout: 60, MemorySize: 256, LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('RoutingOnEventLogs') } } });
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.isComplete', Timeout: 60 });
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0].Properties;
    expect(machine.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    // all at once: 10 minutes for first health checks / 30 s = 20 polls
    expect(JSON.stringify(machine.DefinitionString)).toMatch(/\\"IntervalSeconds\\":30,\\"MaxAttempts\\":20,\\"BackoffRate\\":1/);
  });

  test('each handler may change only rules of this listener, and reads with the Describe calls it sends', () => {
    const statementsOf = (role: string) => Object.values(template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp(role) }] },
    }))[0].Properties.PolicyDocument.Statement;
    const rulesOfListener = {
      'Fn::Join': ['', [
        { 'Fn::Select': [0, [{ 'Fn::Select': [0, { 'Fn::Split': [':listener/', { Ref: Match.stringLikeRegexp('^AlbHttp') }] }] }, Match.anyValue()]] },
        ':listener-rule/',
        Match.anyValue(),
        '/*',
      ]],
    };
    const onEvent = statementsOf('RoutingOnEventRole');
    expect(onEvent).toEqual([
      expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }),
      { Sid: 'CreateTheRuleOnThisListener', Action: 'elasticloadbalancing:CreateRule', Effect: 'Allow', Resource: { Ref: expect.stringMatching(/^AlbHttp/) } },
      { Sid: 'ChangeOnlyRulesOfThisListener', Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:DeleteRule', 'elasticloadbalancing:ModifyRule', 'elasticloadbalancing:SetRulePriorities'], Effect: 'Allow', Resource: expect.anything() },
      {
        Sid: 'DescribeCallsTakeNoResource',
        Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetGroups'],
        Effect: 'Allow',
        Resource: '*',
      },
    ]);
    const isComplete = statementsOf('RoutingIsCompleteRole');
    expect(isComplete).toEqual([
      expect.objectContaining({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] }),
      { Sid: 'ChangeOnlyRulesOfThisListener', Action: ['elasticloadbalancing:AddTags', 'elasticloadbalancing:ModifyRule'], Effect: 'Allow', Resource: expect.anything() },
      {
        Sid: 'DescribeCallsTakeNoResource',
        Action: ['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetHealth'],
        Effect: 'Allow',
        Resource: '*',
      },
    ]);
    for (const statements of [onEvent, isComplete]) {
      const rules = statements.find((st: { Sid?: string }) => st.Sid === 'ChangeOnlyRulesOfThisListener');
      Template.fromJSON({ Resources: { P: { Type: 'X', Properties: { R: rules.Resource } } } }).hasResourceProperties('X', { R: rulesOfListener });
    }
  });

  test('outside a VPC, the handlers\' roles carry no managed policy: their own policies are all they have', () => {
    const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => /^Routing(OnEvent|IsComplete)Role/.test(id));
    expect(roles.map(([, role]) => role.Properties.ManagedPolicyArns)).toEqual([undefined, undefined]);
  });

  test('reports the live weights and when the drained color is empty as attributes of the shift', () => {
    expect(stack.resolve(r.blueWeight)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/RoutingTrafficShift/), 'BlueWeight'] });
    expect(stack.resolve(r.greenWeight)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/RoutingTrafficShift/), 'GreenWeight'] });
    expect(stack.resolve(r.drainedAt)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/RoutingTrafficShift/), 'DrainedAt'] });
    expect(stack.resolve(r.outcome)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/RoutingTrafficShift/), 'Outcome'] });
  });
});

describe('BlueGreenRouting in a VPC, as SessionTier builds it', () => {
  const { stack, build } = routing({}, {}, true);
  build();
  const template = Template.fromStack(stack);
  const functions = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => /^Routing/.test(f.Properties.Role['Fn::GetAtt'][0]));

  test('every function of the shifter and its provider runs in the private subnets, let out on HTTPS only', () => {
    expect(functions).toHaveLength(5);
    for (const fn of functions) {
      expect(fn.Properties.VpcConfig).toEqual({
        SubnetIds: [{ Ref: expect.stringMatching(/^VpcPrivateSubnet1/) }, { Ref: expect.stringMatching(/^VpcPrivateSubnet2/) }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^RoutingSecurityGroup/), 'GroupId'] }],
      });
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^Traffic shifter functions'),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
      SecurityGroupIngress: Match.absent(),
    });
    // The shift runs once the private subnets' routes out exist.
    const shift = Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0];
    expect(shift.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^VpcPrivateSubnet1DefaultRoute/)]));
  });

  test('the shifter\'s roles carry AWSLambdaVPCAccessExecutionRole, as aws-cdk\'s own roles do: Lambda creates no function in a VPC without it', () => {
    const vpcAccess = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] };
    const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => /^Routing(OnEvent|IsComplete)Role/.test(id));
    expect(roles.map(([, role]) => role.Properties.ManagedPolicyArns)).toEqual([[vpcAccess], [vpcAccess]]);
    expect(vpcFunctionRoleViolations(template.toJSON())).toEqual([]);
  });

  test('its log groups keep a year and are encrypted with a customer managed key; the waiter traces to X-Ray', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')).filter((g) => JSON.stringify(g).includes('RoutingLogsKey'));
    expect(groups).toHaveLength(4);
    for (const g of groups) {
      expect(g.Properties).toEqual(expect.objectContaining({ RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^RoutingLogsKey/), 'Arn'] } }));
    }
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
    const waiterPolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => /^RoutingProviderwaiterstatemachineRole/.test(id))![1];
    for (const action of ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets']) {
      expect(JSON.stringify(waiterPolicy.Properties.PolicyDocument)).toContain(`"${action}"`);
    }
  });
});

describe('BlueGreenRouting options', () => {
  test('targets green by a canary with alarm gates and its own priority; the gate defaults to green\'s min capacity', () => {
    const other = routing({});
    const alarm2 = new cloudwatch.Alarm(other.stack, 'Errors', {
      metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Errors' }), threshold: 1, evaluationPeriods: 1,
    });
    new BlueGreenRouting(other.stack, 'Routing2', {
      listener: (other.stack.node.findChild('Alb') as elbv2.ApplicationLoadBalancer).listeners[0],
      blue: other.stack.node.findChild('Blue') as AppFleet,
      green: other.stack.node.findChild('Green') as AppFleet,
      takeDefaultAction: true,
      targetColor: FleetColor.GREEN,
      shiftPlan: ShiftPlan.canary(10, Duration.minutes(5)),
      gateAlarms: [alarm2],
      rulePriority: 10,
    });
    const template = Template.fromStack(other.stack);
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', {
      TargetColor: 'green', Plan: 'canary:10:300', MinHealthyTargets: '3', AlarmNames: [{ Ref: Match.stringLikeRegexp('^Errors') }], RulePriority: '10',
    });
    // DescribeAlarms supports resource-level permissions: only the gate alarms, by ARN.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: Match.objectLike({ Statement: Match.arrayWith([{
        Sid: 'ReadOnlyTheGateAlarms', Action: 'cloudwatch:DescribeAlarms', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Errors'), 'Arn'] },
      }]) }),
    });
  });

  test('a composite gate alarm gets DescribeAlarms on "*", the only scope under which AWS returns composite alarms', () => {
    const other = routing({});
    const metric = new cloudwatch.Alarm(other.stack, 'Errors', {
      metric: new cloudwatch.Metric({ namespace: 'App', metricName: 'Errors' }), threshold: 1, evaluationPeriods: 1,
    });
    const composite = new cloudwatch.CompositeAlarm(other.stack, 'Health', { alarmRule: cloudwatch.AlarmRule.fromAlarm(metric, cloudwatch.AlarmState.ALARM) });
    new BlueGreenRouting(other.stack, 'Routing2', {
      listener: (other.stack.node.findChild('Alb') as elbv2.ApplicationLoadBalancer).listeners[0],
      blue: other.stack.node.findChild('Blue') as AppFleet,
      green: other.stack.node.findChild('Green') as AppFleet,
      takeDefaultAction: true,
      gateAlarms: [metric, composite],
    });
    const policies = Template.fromStack(other.stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Routing2IsCompleteRole') }] },
    });
    expect(Object.values(policies)[0].Properties.PolicyDocument.Statement).toContainEqual({
      Sid: 'DescribeCallsTakeNoResource',
      Action: ['cloudwatch:DescribeAlarms', 'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetHealth'],
      Effect: 'Allow',
      Resource: '*',
    });
  });

  test('with one fleet forwards straight to it, with no traffic shifter: the layout where application-cookie stickiness works', () => {
    const { stack, build } = routing({ withGreen: false, blueStickiness: Stickiness.applicationCookie('sid', Duration.hours(1)) });
    const r = build();
    expect(r.groupStickiness.enabled).toBe(false);
    expect(r.trafficShift).toBeUndefined();
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') } }],
    });
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Handler: Match.stringLikeRegexp('^index\\.') }, 0);
    template.resourceCountIs('Custom::BlueGreenTrafficShift', 0);
    expect(() => r.blueWeight).toThrow('BlueWeight: only a routing between two fleets has a traffic shift, got blue alone; add a green fleet');
  });

  test('group stickiness off is allowed when no fleet is sticky, and is sent as 0', () => {
    const { stack, build } = routing({ blueStickiness: Stickiness.none(), greenStickiness: Stickiness.none() }, { groupStickiness: Stickiness.none() });
    build();
    Template.fromStack(stack).hasResourceProperties('Custom::BlueGreenTrafficShift', { GroupStickinessSeconds: '0' });
  });
});

describe('BlueGreenRouting validation', () => {
  test('fails when the group stickiness is out of range, before any construct exists', () => {
    expect(() => routing({}, { groupStickiness: Stickiness.loadBalancerCookie(Duration.days(8)) })).toThrow(
      /stickiness: duration must be whole seconds from 1 s to 7 days \(604800 s\), got 8 days/,
    );
  });

  test('fails when application-cookie stickiness meets weighted routing, and suggests the lb cookie', () => {
    expect(routing({ greenStickiness: Stickiness.applicationCookie('sid', Duration.hours(1)) }).build).toThrow(
      'stickiness: the green fleet uses app cookie sid for 1 hour, but AWS does not support application-cookie stickiness with weighted blue/green routing; ' +
      'use Stickiness.loadBalancerCookie(duration), or run a single fleet',
    );
  });

  test('fails when a fleet is sticky while group stickiness is off', () => {
    expect(routing({}, { groupStickiness: Stickiness.none() }).build).toThrow(
      /groupStickiness: must be on while the blue fleet is sticky \(lb cookie for 1 day\), got none; AWS rejects target stickiness without target-group stickiness/,
    );
  });

  test('fails when group stickiness is an application cookie', () => {
    expect(routing({ blueStickiness: Stickiness.none(), greenStickiness: Stickiness.none() },
      { groupStickiness: Stickiness.applicationCookie('sid', Duration.hours(1)) }).build).toThrow(
      /groupStickiness: target-group stickiness always uses the load balancer's AWSALBTG cookie, got app cookie sid for 1 hour/,
    );
  });

  test('fails when green is the target without a green fleet', () => {
    expect(routing({ withGreen: false }, { targetColor: FleetColor.GREEN }).build).toThrow(
      'targetColor: there is no green fleet to shift to, got green; add a green fleet or target blue',
    );
  });

  test.each([
    [{ rulePriority: 0 }, 'rulePriority: must be a whole number from 1 to 50000, got 0'],
    [{ rulePriority: 50001 }, 'rulePriority: must be a whole number from 1 to 50000, got 50001'],
    [{ minHealthyTargets: -1 }, 'minHealthyTargets: must be a whole number of at least 0, got -1'],
    [{ checkInterval: Duration.seconds(5) }, 'checkInterval: must be whole seconds from 10 to 300, got 5 seconds'],
  ])('fails on %o', (props, message) => {
    expect(routing({}, props).build).toThrow(`${message} (at Test/Routing)`);
  });
});

describe('BlueGreenRouting with Auto Scaling groups of your own', () => {
  /** A plain aws-cdk-lib group and target group, as a team that brings its own fleet has them. */
  function ownFleet(stack: Stack, vpc: ec2.IVpc, id: string) {
    const group = new autoscaling.AutoScalingGroup(stack, `${id}Group`, {
      vpc,
      instanceType: new ec2.InstanceType('t4g.small'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      minCapacity: 2,
    });
    const targetGroup = new elbv2.ApplicationTargetGroup(stack, `${id}Targets`, { vpc, port: 8080, targets: [group], stickinessCookieDuration: Duration.hours(1) });
    return AppFleet.fromAppFleetAttributes(stack, id, { autoScalingGroup: group, targetGroup, minCapacity: 2, stickiness: Stickiness.loadBalancerCookie(Duration.hours(1)) });
  }

  test('the traffic shifter moves traffic between them, waits for both groups, and the listener falls back to blue', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80 });
    const blue = ownFleet(stack, vpc, 'Blue');
    const green = ownFleet(stack, vpc, 'Green');
    new BlueGreenRouting(stack, 'Routing', { listener, blue, green, targetColor: FleetColor.GREEN, takeDefaultAction: true });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', {
      BlueTargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargets') },
      GreenTargetGroupArn: { Ref: Match.stringLikeRegexp('^GreenTargets') },
      TargetColor: 'green',
      MinHealthyTargets: '2',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargets') } }],
    });
    const shift = Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0];
    expect(shift.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^BlueGroupASG/), expect.stringMatching(/^GreenGroupASG/)]));
    // Green's instances are let in from the load balancer, though only the shifter's rule forwards to them.
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8080, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GreenGroupInstanceSecurityGroup'), 'GroupId'] },
    });
  });

  test('AWS\'s stickiness rules hold for them too: a sticky group of your own needs target-group stickiness', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80 });
    expect(() => new BlueGreenRouting(stack, 'Routing', {
      listener, blue: ownFleet(stack, vpc, 'Blue'), green: ownFleet(stack, vpc, 'Green'), groupStickiness: Stickiness.none(),
    })).toThrow(/groupStickiness: must be on while the blue fleet is sticky/);
  });
});

test('green\'s scaling policy waits for the rule the traffic shift creates: Auto Scaling refuses a label of a group no load balancer forwards to', () => {
  const { stack, build } = routing({});
  build();
  const template = Template.fromStack(stack);
  const policy = Object.entries(template.findResources('AWS::AutoScaling::ScalingPolicy')).find(([id]) => id.startsWith('GreenRequestsPerTarget'))![1];
  const shift = Object.keys(template.findResources('Custom::BlueGreenTrafficShift'))[0];
  expect(policy.DependsOn).toContain(shift);
  const bluePolicy = Object.entries(template.findResources('AWS::AutoScaling::ScalingPolicy')).find(([id]) => id.startsWith('BlueRequestsPerTarget'))![1];
  expect(bluePolicy.DependsOn).toEqual([expect.stringMatching(/^AlbHttp/)]);
});

describe('release controls: bake, hook, test traffic', () => {
  const hookFn = (stack: Stack, timeout = Duration.seconds(10)) => new lambda.Function(stack, 'Hook', {
    runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({ hookStatus: "SUCCEEDED" })'), timeout,
  });

  test('the shift carries the bake, the hook and the test traffic; only isComplete may invoke the hook, by its ARN alone', () => {
    const { stack, base } = routing({});
    const hook = hookFn(stack);
    new BlueGreenRouting(stack, 'Routing', {
      ...base,
      bakeTime: Duration.minutes(5),
      hook,
      testTraffic: { headerValue: 'tester-7f3a', cookieName: 'preview', cookieValue: 'green-7f3a' },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', {
      BakeSeconds: '300',
      HookFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Hook'), 'Arn'] },
      HookTimeoutSeconds: '120',
      TestHeaderName: 'X-Session-Tier-Preview',
      TestHeaderValue: 'tester-7f3a',
      TestCookieName: 'preview',
      TestCookieValue: 'green-7f3a',
      TestRulePriority: '49998',
    });
    const invokers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) => JSON.stringify(p).includes('lambda:InvokeFunction')
      && JSON.stringify(p.Properties.PolicyDocument).includes('InvokeTheHook'));
    expect(invokers.map(([, p]) => p.Properties.Roles[0].Ref)).toEqual([expect.stringMatching(/^RoutingIsCompleteRole/)]);
    expect(JSON.stringify(invokers[0][1].Properties.PolicyDocument)).not.toContain(':*"');
  });

  test.each([
    [{ hookTimeout: Duration.minutes(1) }, 'hookTimeout: only applies with a hook, got no hook; pass hook or remove hookTimeout'],
    [{ bakeTime: Duration.millis(1500) }, 'bakeTime: must be whole seconds from 0 to 2400, got 1 second 500 millis'],
    [{ testTraffic: { headerValue: 'a*b' } }, 'testTraffic.headerValue: must be 1 to 128 visible ASCII characters without ELB\'s wildcards * and ?, got "a*b"'],
    [{ testTraffic: { headerValue: 'x', headerName: 'Bad Name' } }, 'testTraffic.headerName: must be an HTTP header name'],
    [{ testTraffic: { headerValue: 'x', cookieName: 'preview' } }, 'testTraffic.cookieName: a cookie needs both cookieName and cookieValue, got cookieName alone'],
    [{ testTraffic: { headerValue: 'x', rulePriority: 49999, cookieName: 'a', cookieValue: 'b' } },
      'testTraffic.rulePriority: the test rules (49999 and 50000) must come before the weighted rule (50000) and from 1 on'],
  ])('fails when %j', (props, message) => {
    const { build } = routing({}, props as Partial<BlueGreenRoutingProps>);
    expect(build).toThrow(message);
  });

  test('fails when the hook may run longer than the shifter waits for its answer', () => {
    const { stack, base } = routing({});
    const hook = hookFn(stack, Duration.minutes(1));
    expect(() => new BlueGreenRouting(stack, 'Routing', { ...base, hook })).toThrow(
      'hook: must answer within 30 s (the shifter waits that long for each answer), got a function with a timeout of 1 minute');
  });
});

describe('BlueGreenRouting on a listener you share (issue 25)', () => {
  const shopHost = elbv2.ListenerCondition.hostHeaders(['shop.example.com']);
  /** A listener of the team's, with its own default action (a 404). */
  function shared(withGreen = true) {
    const stack = testStack();
    const vpc = testVpc(stack);
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404, { messageBody: 'not here' }) });
    const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, secureCookies: false });
    const green = withGreen ? new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN, secureCookies: false }) : undefined;
    return { stack, vpc, alb, listener, blue, green };
  }
  /** The team's listener, imported as another stack exports it. */
  const importedListener = (stack: Stack) => elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'SharedListener', {
    listenerArn: SHARED_LISTENER, securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'SharedAlbGroup', 'sg-0123456789abcdef0'),
  });
  const teamDefault = { DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })] };

  test('two fleets: the default action stays the team\'s; the shifter\'s rule gets the conditions (as the ELB API takes them) and the priority, blue\'s own rule the same conditions behind it', () => {
    const { stack, listener, blue, green } = shared();
    new BlueGreenRouting(stack, 'Routing', { listener, blue, green, conditions: [shopHost, elbv2.ListenerCondition.pathPatterns(['/shop/*'])], rulePriority: 100 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', teamDefault);
    const conditions = [
      { Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } },
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/shop/*'] } },
    ];
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 101, Conditions: conditions, Actions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') } }],
    });
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', { Conditions: conditions, RulePriority: '100' });
    // The handler reads them as they are: they are what it sends in CreateRule.
    const shift = Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0].Properties;
    expect(parseProperties({ ...shift, ListenerArn: LISTENER_ARN, BlueTargetGroupArn: `${TG_ARN}/blue/1`, GreenTargetGroupArn: `${TG_ARN}/green/2` }).conditions)
      .toEqual(conditions);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('default Action already existed'))).toEqual([]);
  });

  test('two fleets: blue\'s scaling waits for its own rule, green\'s for the shifter\'s (Auto Scaling refuses a label of an unused group)', () => {
    const { stack, listener, blue, green } = shared();
    new BlueGreenRouting(stack, 'Routing', { listener, blue, green });
    const template = Template.fromStack(stack);
    const shift = Object.keys(template.findResources('Custom::BlueGreenTrafficShift'))[0];
    const blueRule = Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))[0];
    const policy = (color: string) => Object.entries(template.findResources('AWS::AutoScaling::ScalingPolicy')).find(([id]) => id.startsWith(`${color}RequestsPerTarget`))![1];
    expect(policy('Blue').DependsOn).toContain(blueRule);
    expect(policy('Green').DependsOn).toContain(shift);
    // No conditions: the property is left out and the shifter matches every request, as before.
    expect(Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0].Properties.Conditions).toBeUndefined();
  });

  test('one fleet: a rule forwards to blue with the conditions, right after the priority, so blue is in use and the default action stays', () => {
    const { stack, listener, blue } = shared(false);
    new BlueGreenRouting(stack, 'Routing', { listener, blue, conditions: [shopHost], rulePriority: 7 });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', teamDefault);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 8,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^BlueTargetGroup') } }],
    });
  });

  // CloudFormation creates what a deploy adds before it deletes what the deploy removes, and the shifter's rule is made
  // and deleted by the traffic shift: a rule that came or went with green would be made while the other still holds
  // its priority, and ELB refuses a second rule at one priority (PriorityInUse, CreateRule in the ELBv2 API reference).
  test('adding or removing green never needs two rules at one priority: blue\'s rule is the same in both templates, and apart from the shifter\'s and the test rules', () => {
    const priorities = (withGreen: boolean) => {
      const { stack, listener, blue, green } = shared(withGreen);
      new BlueGreenRouting(stack, 'Routing', { listener, blue, green, conditions: [shopHost], rulePriority: 40, testTraffic: withGreen ? { headerValue: 'tester', cookieName: 'preview', cookieValue: '1' } : undefined });
      const template = Template.fromStack(stack);
      const rules = Object.entries(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'));
      const shift = Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0]?.Properties;
      return {
        blueRule: rules.map(([id, r]) => `${id}@${r.Properties.Priority}`),
        shifter: shift ? [Number(shift.RulePriority), Number(shift.TestRulePriority), Number(shift.TestRulePriority) + 1] : [],
      };
    };
    const alone = priorities(false);
    const both = priorities(true);
    expect(both.blueRule).toEqual(alone.blueRule);
    expect(alone.blueRule).toEqual([expect.stringMatching(/@41$/)]);
    expect(both.shifter).toEqual([40, 38, 39]);
  });

  test('without the default action, rulePriority leaves room for blue\'s rule after it: 50000 is refused, naming the fix', () => {
    const { stack, listener, blue } = shared(false);
    expect(() => new BlueGreenRouting(stack, 'Routing', { listener, blue, rulePriority: 50000 })).toThrow(
      'rulePriority: blue\'s own rule takes rulePriority + 1 on a listener whose default action the routing does not take, got 50000; give 49999 or less');
  });

  test('one fleet without conditions: the rule matches every request at priority 50000 (the default 49999, plus one)', () => {
    const { stack, listener, blue } = shared(false);
    new BlueGreenRouting(stack, 'Routing', { listener, blue });
    Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 50000, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
    });
  });

  test('an imported load balancer and listener: the routing and the dashboard synthesize; the dashboard\'s alarms for the target color gate the shift', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'SharedAlb', {
      loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188',
      securityGroupId: 'sg-0123456789abcdef0',
      loadBalancerDnsName: 'shared-1234.eu-west-1.elb.amazonaws.com',
    });
    const listener = importedListener(stack);
    const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE });
    const green = new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN });
    const dashboard = new SessionDashboard(stack, 'Health', { loadBalancer, blue, green });
    new BlueGreenRouting(stack, 'Routing', { listener, blue, green, targetColor: FleetColor.GREEN, conditions: [shopHost], rulePriority: 20, dashboard });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 0);
    const shift = Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0].Properties;
    expect(shift.ListenerArn).toBe(SHARED_LISTENER);
    const gates = (shift.AlarmNames as Array<{ Ref: string }>).map((a) => a.Ref);
    expect(gates).toEqual(expect.arrayContaining([expect.stringMatching(/^HealthGreenSessionsLost/), expect.stringMatching(/^HealthGreenUnhealthyHosts/)]));
    expect(gates.some((g) => g.startsWith('HealthBlue'))).toBe(false);
    // The handlers may change only rules of that listener.
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(
      'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2/*');
  });

  test('an imported listener with one fleet gets the rule to blue', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const listener = importedListener(stack);
    new BlueGreenRouting(stack, 'Routing', { listener, blue: new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE }), conditions: [shopHost], rulePriority: 30 });
    Template.fromStack(stack).hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: SHARED_LISTENER, Priority: 31,
    });
  });

  test('takeDefaultAction on an imported listener fails at synth, naming the prop', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const listener = importedListener(stack);
    expect(() => new BlueGreenRouting(stack, 'Routing', { listener, blue: new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE }), takeDefaultAction: true }))
      .toThrow(/takeDefaultAction: an imported listener's default action belongs to the stack that made it, got true with an imported listener; leave takeDefaultAction false/);
  });

  test.each([
    ['two host conditions', [shopHost, elbv2.ListenerCondition.hostHeaders(['b.example.com'])], undefined,
      /conditions: ELB allows at most one host-header condition per rule, got 2/],
    ['four values in one condition', [elbv2.ListenerCondition.pathPatterns(['/a', '/b', '/c', '/d'])], undefined,
      /conditions: ELB allows at most 3 values per condition, got 4 in the path-pattern condition/],
    ['six values in a rule', [elbv2.ListenerCondition.pathPatterns(['/a', '/b', '/c']), elbv2.ListenerCondition.httpHeader('X-A', ['1', '2', '3'])], undefined,
      /conditions: ELB allows at most 5 condition values per rule, got 6;/],
    ['five values and test traffic', [elbv2.ListenerCondition.pathPatterns(['/a', '/b', '/c']), elbv2.ListenerCondition.httpHeader('X-A', ['1', '2'])],
      { headerValue: 'tester' }, /conditions: ELB allows at most 5 condition values per rule, got 6 \(test traffic adds 1 to each of its rules\)/],
    ['six wildcards', [elbv2.ListenerCondition.pathPatterns(['/a*', '/b*', '/c*']), elbv2.ListenerCondition.hostHeaders(['*.x.com', '*.y.com'])],
      { headerValue: 'tester', cookieName: 'p', cookieValue: 'g' }, /conditions: ELB allows at most 5 wildcards \(\* and \?\) per rule, got 7/],
  ])('conditions within ELB\'s limits for a rule: %s fails at synth', (_, conditions, testTraffic, message) => {
    const { stack, listener, blue, green } = shared();
    expect(() => new BlueGreenRouting(stack, 'Routing', { listener, blue, green, conditions, testTraffic })).toThrow(message);
  });

  test('five values without test traffic pass', () => {
    const { stack, listener, blue, green } = shared();
    expect(() => new BlueGreenRouting(stack, 'Routing', {
      listener, blue, green, conditions: [elbv2.ListenerCondition.pathPatterns(['/a', '/b', '/c']), elbv2.ListenerCondition.httpHeader('X-A', ['1', '2'])],
    })).not.toThrow();
  });

  test('a fleet with Secure cookies behind a plain-HTTP listener is warned about; without Secure, or behind HTTPS, it is not', () => {
    const warningsOf = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('secureCookiesOverHttp'));
    const secure = testStack();
    const vpc = testVpc(secure);
    const listener = new elbv2.ApplicationLoadBalancer(secure, 'Alb', { vpc }).addListener('Http', { port: 80 });
    new BlueGreenRouting(secure, 'Routing', { listener, blue: new AppFleet(secure, 'Blue', { vpc, color: FleetColor.BLUE }), takeDefaultAction: true });
    expect(warningsOf(secure)).toHaveLength(1);
    expect(warningsOf(secure)[0].entry.data).toMatch(/listener: serves plain HTTP on port 80, got blue with secureCookies true: browsers never send a Secure cookie back over HTTP/);

    const plain = shared(false);
    new BlueGreenRouting(plain.stack, 'Routing', { listener: plain.listener, blue: plain.blue });
    expect(warningsOf(plain.stack)).toEqual([]);

    const https = testStack();
    const vpc2 = testVpc(https);
    const tls = new elbv2.ApplicationLoadBalancer(https, 'Alb', { vpc: vpc2 }).addListener('Https', {
      port: 443, certificates: [elbv2.ListenerCertificate.fromArn('arn:aws:acm:eu-west-1:123456789012:certificate/abc')],
    });
    new BlueGreenRouting(https, 'Routing', { listener: tls, blue: new AppFleet(https, 'Blue', { vpc: vpc2, color: FleetColor.BLUE }), takeDefaultAction: true });
    expect(warningsOf(https)).toEqual([]);
  });
});

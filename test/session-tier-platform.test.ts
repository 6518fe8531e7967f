/**
 * A tier on a platform team's load balancer and stack (issue 25): an existing
 * load balancer and listener, the ALB settings of the one it builds, the
 * stack's region, messages without tokens, and teardown.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnParameter, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib/core';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AppFleet, BlueGreenRouting, FleetApplication, FleetColor, SessionStrategy, SessionTier, SessionTierProps, ShiftPlan } from '../lib';
import { testApp, testStack } from './helpers/app';
import { addControlTower, controlTowerReport } from './helpers/control-tower';

const LB_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shared/50dc6c495c0c9188';
const LISTENER_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';
const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

/** A VPC, and the team's ALB and HTTPS listener in it, imported as another stack would export them. */
function sharedAlb(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'SharedAlb', {
    loadBalancerArn: LB_ARN, securityGroupId: 'sg-0123456789abcdef0', loadBalancerDnsName: 'shared-1234.eu-west-1.elb.amazonaws.com', vpc,
  });
  const listener = elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'SharedListener', {
    listenerArn: LISTENER_ARN, securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'SharedAlbGroup', 'sg-0123456789abcdef0'),
  });
  return { vpc, loadBalancer, listener };
}

function tierIn(stack: Stack, props: SessionTierProps) {
  const tier = new SessionTier(stack, 'Tier', props);
  return { tier, template: Template.fromStack(stack) };
}

describe('SessionTier on your load balancer and listener', () => {
  const stack = testStack();
  const { vpc, loadBalancer, listener } = sharedAlb(stack);
  const { tier, template } = tierIn(stack, {
    vpc, loadBalancer, listener,
    conditions: [elbv2.ListenerCondition.hostHeaders(['shop.example.com'])],
    rulePriority: 40,
    green: {},
    shiftPlan: ShiftPlan.canary(10, Duration.minutes(5)),
    targetColor: FleetColor.GREEN,
  });

  test('creates no load balancer, no listener and no access-logs bucket', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 0);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(tier.accessLogsBucket).toBeUndefined();
    expect(tier.loadBalancer).toBe(loadBalancer);
    expect(tier.listener).toBe(listener);
  });

  test('the shifter\'s rule on your listener carries the host condition and the priority; your default action is left alone', () => {
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', {
      ListenerArn: LISTENER_ARN,
      RulePriority: '40',
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }],
    });
    // Blue's own rule, the fallback right behind it with the same condition.
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 41, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }],
    });
  });

  test('the URL is the load balancer\'s DNS name, over HTTPS (a listener of yours is not known to serve HTTP), and the cookies are Secure', () => {
    expect(stack.resolve(tier.url)).toBe('https://shared-1234.eu-west-1.elb.amazonaws.com');
    expect(tier.blue.secureCookies).toBe(true);
    expect(tier.green!.secureCookies).toBe(true);
  });

  test('the dashboard over your load balancer gates the shift with green\'s alarms, the session-continuity alarm among them', () => {
    const shift = Object.values(template.findResources('Custom::BlueGreenTrafficShift'))[0].Properties;
    const gates = (shift.AlarmNames as Array<{ Ref: string }>).map((a) => a.Ref);
    expect(gates).toEqual(expect.arrayContaining([expect.stringMatching(/^TierDashboardGreenSessionsLost/)]));
    expect(gates.some((g) => /Blue/.test(g))).toBe(false);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'SessionsLost' }) }) })]),
    });
  });

  test('the fleets let in only your load balancer\'s security group', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      SourceSecurityGroupId: 'sg-0123456789abcdef0', GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TierBlueSecurityGroup'), 'GroupId'] },
    });
  });
});

describe('SessionTier on your load balancer and listener, with one fleet', () => {
  test('a rule of its own forwards to blue with the conditions and the priority', () => {
    const stack = testStack();
    const { vpc, loadBalancer, listener } = sharedAlb(stack);
    const { template } = tierIn(stack, { vpc, loadBalancer, listener, conditions: [elbv2.ListenerCondition.pathPatterns(['/shop/*'])], rulePriority: 12 });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: LISTENER_ARN,
      Priority: 13,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/shop/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^TierBlueTargetGroup') } }],
    });
  });

  test('a listener of this app that serves HTTP: cookies without Secure, as the tier does for its own HTTP listener', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const listener = loadBalancer.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    const { tier } = tierIn(stack, { vpc, loadBalancer, listener });
    expect(tier.blue.secureCookies).toBe(false);
    expect(tier.url).toMatch(/^http:\/\//);
  });
});

describe('SessionTier on your load balancer, with a listener it adds', () => {
  test('an HTTPS listener with your TLS policy and the redirect; the load balancer\'s access logs only when you give a bucket', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const accessLogsBucket = new s3.Bucket(stack, 'Logs', { encryption: s3.BucketEncryption.S3_MANAGED });
    const { template } = tierIn(stack, { vpc, loadBalancer, accessLogsBucket, certificateArn: CERT, sslPolicy: elbv2.SslPolicy.TLS13_13 });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS', SslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, DefaultActions: [Match.objectLike({ Type: 'redirect' })] });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    template.resourceCountIs('AWS::S3::Bucket', 1);
  });

  test('an imported load balancer gets the listener, the redirect and no access logs', () => {
    const stack = testStack();
    const { vpc, loadBalancer } = sharedAlb(stack);
    const { template } = tierIn(stack, { vpc, loadBalancer, certificateArn: CERT });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { LoadBalancerArn: LB_ARN, Port: 443, SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      LoadBalancerArn: LB_ARN, Port: 80, DefaultActions: [Match.objectLike({ Type: 'redirect' })],
    });
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });
});

describe('the load balancer the tier builds', () => {
  test('internal: scheme internal, in the private subnets', () => {
    const { template } = tierIn(testStack(), { internetFacing: false });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internal',
      Subnets: [{ Ref: Match.stringLikeRegexp('^TierVpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('^TierVpcPrivateSubnet2') }],
    });
  });
});

describe('SessionTier validation of the load balancer props', () => {
  test.each<[string, (stack: Stack) => SessionTierProps, RegExp]>([
    ['a listener without its load balancer', (stack) => ({ listener: sharedAlb(stack).listener }),
      /listener: needs the load balancer it belongs to .*, got listener without loadBalancer; pass loadBalancer as well/],
    ['internetFacing with your load balancer', (stack) => ({ loadBalancer: sharedAlb(stack).loadBalancer, internetFacing: false }),
      /internetFacing: only applies to the load balancer the tier creates, got both loadBalancer and internetFacing/],
    ['deletion protection with your load balancer', (stack) => ({ loadBalancer: sharedAlb(stack).loadBalancer, loadBalancerDeletionProtection: false }),
      /loadBalancerDeletionProtection: only applies to the load balancer the tier creates/],
    ['a certificate with your listener', (stack) => ({ ...sharedAlb(stack), certificateArn: CERT }),
      /certificateArn: only applies to the listener the tier creates, got both listener and certificateArn/],
    ['a TLS policy without a certificate', () => ({ sslPolicy: elbv2.SslPolicy.TLS13_13 }),
      /sslPolicy: only applies to the HTTPS listener, got sslPolicy without certificateArn/],
    ['an access-logs bucket for an imported load balancer', (stack) => ({ loadBalancer: sharedAlb(stack).loadBalancer, accessLogsBucket: new s3.Bucket(stack, 'B') }),
      /accessLogsBucket: the tier turns on access logs only for a load balancer of this app, got an imported loadBalancer/],
  ])('fails at synth: %s', (_, props, message) => {
    const stack = testStack();
    expect(() => new SessionTier(stack, 'Tier', props(stack))).toThrow(message);
  });
});

describe('a stack without a region', () => {
  test('fails at synth naming env.region and how to set it, not with aws-cdk-lib\'s access-logging error', () => {
    const stack = new Stack(testApp(), 'NoRegion');
    let message = '';
    try {
      new SessionTier(stack, 'Tier');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^env\.region: the tier turns on the load balancer's access logs, .* got a stack without a region; give the stack one: new Stack\(app, 'Id', \{ env: \{ account: '123456789012', region: 'eu-west-1' \} \}\)/);
    expect(message).not.toMatch(/Region is required/);
  });

  test('on your load balancer without access logs the tier needs no region', () => {
    const stack = new Stack(testApp(), 'NoRegion');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
    expect(() => tierIn(stack, { vpc, loadBalancer, certificateArn: CERT })).not.toThrow();
  });
});

describe('messages print no token', () => {
  test('a VPC over one Availability Zone (maxAzs: 1): says how many zones, and that the VPC needs two, without a token', () => {
    // An environment-agnostic VPC's zones are tokens (Fn::GetAZs); the fleet alone needs no region.
    const stack = new Stack(new App(), 'Agnostic');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    let message = '';
    try {
      new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^vpc: the fleet's private subnets must span at least two Availability Zones, got 1; give the VPC two or more \(ec2.Vpc's maxAzs: 2\)/);
    expect(message).not.toMatch(/\$\{Token|-1\.888/);
  });

  test('the same through the tier, in a stack with a region: the zone is named', () => {
    const stack = testStack();
    expect(() => new SessionTier(stack, 'Tier', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 }) }))
      .toThrow(/vpc: the fleet's private subnets must span at least two Availability Zones, got 1 \(eu-west-1a\); .*maxAzs/);
  });

  /** What a message says about `build`'s failure; '' when it does not fail. */
  const messageOf = (build: () => unknown) => {
    try {
      build();
      return '';
    } catch (e) {
      return (e as Error).message;
    }
  };
  const TOKEN_TEXT = /\$\{Token|Token\[|-1\.888/;

  test('natGateways from a CfnParameter beside a VPC of yours: named, without the token', () => {
    const stack = testStack();
    const message = messageOf(() => new SessionTier(stack, 'Tier', { vpc: new ec2.Vpc(stack, 'Mine'), natGateways: numberParameter(stack) }));
    expect(message).toMatch(/natGateways: only applies to the VPC the tier creates, got a value known at deploy time with a given vpc/);
    expect(message).not.toMatch(TOKEN_TEXT);
  });

  test('minHealthyTargets from a CfnParameter passes synth as a reference (it read as -1.888e+289 and failed)', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80 });
    const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE });
    const green = new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN });
    expect(messageOf(() => new BlueGreenRouting(stack, 'Routing', { listener, blue, green, takeDefaultAction: true, minHealthyTargets: numberParameter(stack) }))).toBe('');
  });

  test('an application\'s healthCheckPath from a CfnParameter passes synth; a bad literal one is still refused', () => {
    const stack = testStack();
    const path = new CfnParameter(stack, 'HealthPath', { type: 'String' }).valueAsString;
    expect(messageOf(() => FleetApplication.fromAsset(__dirname, { command: 'node app.js', healthCheckPath: path, packages: [new CfnParameter(stack, 'Pkg').valueAsString] }))).toBe('');
    expect(messageOf(() => FleetApplication.fromAsset(__dirname, { command: 'node app.js', healthCheckPath: 'no-slash' }))).toMatch(/healthCheckPath: must be a URL path/);
  });
});

function numberParameter(stack: Stack): number {
  return new CfnParameter(stack, `P${stack.node.children.length}`, { type: 'Number' }).valueAsNumber;
}

describe('teardown: removalPolicy', () => {
  const retained = (template: Template) => Object.entries(template.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>)
    .filter(([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'Snapshot').map(([id, r]) => `${r.Type} ${id}`);

  test('by default the buckets, keys and log groups are retained and the load balancer refuses deletion', () => {
    const { template } = tierIn(testStack(), {});
    expect(retained(template).map((r) => r.split(' ')[0]).sort()).toEqual([
      'AWS::KMS::Key', 'AWS::KMS::Key', 'AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket', 'AWS::S3::Bucket',
    ]);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  });

  test('DESTROY: nothing is retained, the buckets are emptied by a function in the VPC, deletion protection is off', () => {
    const { template } = tierIn(testStack(), { removalPolicy: RemovalPolicy.DESTROY, green: {}, blue: { strategy: SessionStrategy.redis() } });
    expect(retained(template)).toEqual([]);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
    const handler = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => /autoDeleteObjects|AutoDeleteObjects/.test(JSON.stringify(f.Properties.Description ?? '') + JSON.stringify(f.Properties.Handler)))
      ?? Object.entries(template.toJSON().Resources as Record<string, any>).find(([id]) => id.startsWith('CustomS3AutoDeleteObjectsCustomResourceProviderHandler'))![1];
    expect(handler.Properties.VpcConfig).toEqual({
      SubnetIds: [{ Ref: expect.stringMatching(/^TierVpcPrivateSubnet1/) }, { Ref: expect.stringMatching(/^TierVpcPrivateSubnet2/) }],
      SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^TierAutoDeleteObjectsSecurityGroup/), 'GroupId'] }],
    });
  });

  test('DESTROY with deletion protection asked for keeps it; a store\'s own removal policy wins over the tier\'s', () => {
    const { template } = tierIn(testStack(), {
      removalPolicy: RemovalPolicy.DESTROY, loadBalancerDeletionProtection: true,
      blue: { strategy: SessionStrategy.redis() }, cacheProps: { removalPolicy: RemovalPolicy.RETAIN },
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
    template.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Retain' });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });
});

describe('teardown under the checks the demo passes', () => {
  test('cdk-nag AwsSolutions finds nothing unacknowledged in a tier with removalPolicy DESTROY (the auto-delete function in the VPC)', () => {
    const app = testApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Teardown', { env: { account: '123456789012', region: 'eu-west-1' } });
    new SessionTier(stack, 'Tier', { removalPolicy: RemovalPolicy.DESTROY, green: {} });
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    for (const plugin of report.pluginReports) {
      expect({ plugin: plugin.pluginName, conclusion: plugin.conclusion }).toEqual({ plugin: plugin.pluginName, conclusion: 'success' });
    }
  });
});

test('AWS Control Tower\'s proactive controls find nothing unacknowledged in a tier with removalPolicy DESTROY', () => {
  const app = testApp({ '@aws-cdk/core:failSynthOnValidationErrors': false });
  addControlTower(app);
  new SessionTier(new Stack(app, 'Teardown', { env: { account: '123456789012', region: 'eu-west-1' } }), 'Tier', { removalPolicy: RemovalPolicy.DESTROY, certificateArn: CERT });
  const report = controlTowerReport(app.synth().directory);
  expect(report.unacknowledged.map((f) => `${f.control} ${f.path}`)).toEqual([]);
  expect(report.acknowledged.map((f) => `${f.control} ${f.path}`)).toContain('CT.ELASTICLOADBALANCING.PR.5 Teardown/Tier/LoadBalancer/Resource');
});

import { CfnParameter, Duration, Resource, Stack } from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  AppFleet, DashboardPartBindOptions, DashboardPartConfig, FleetColor, IDashboardPart, ISessionStore, RedisSessionCache, SessionDashboard, SessionDashboardProps,
  SessionFileSystem, SessionStrategy, SessionTier,
} from '../lib';
import { testStack, testVpc } from './helpers/app';

/** Two fleets behind a load balancer, with the stores when asked for. */
function dashboardStack(props: Partial<SessionDashboardProps> & { withStores?: boolean } = {}) {
  const stack = testStack();
  const vpc = testVpc(stack);
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const cache = new RedisSessionCache(stack, 'Cache', { vpc });
  const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE });
  const green = new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN, strategy: SessionStrategy.redis(cache) });
  loadBalancer.addListener('Http', { port: 80, defaultTargetGroups: [blue.targetGroup, green.targetGroup] });
  const stores = props.withStores ? [cache, new SessionFileSystem(stack, 'Files', { vpc })] : [];
  const dashboard = new SessionDashboard(stack, 'Health', { loadBalancer, blue, green, stores, ...props });
  return { stack, dashboard, template: Template.fromStack(stack) };
}

/** A load balancer forwarding to a blue fleet. */
function blueBehindLoadBalancer(stack: Stack) {
  const vpc = testVpc(stack);
  const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE });
  loadBalancer.addListener('Http', { port: 80, defaultTargetGroups: [blue.targetGroup] });
  return { vpc, loadBalancer, blue };
}

/** The alarm whose logical id starts with `Health<id>`. */
function alarm(template: Template, id: string) {
  const found = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(([logicalId]) => logicalId.startsWith(`Health${id}`));
  expect(found).toHaveLength(1);
  return found[0][1].Properties;
}

const tgDimensions = (color: 'Blue' | 'Green') => [
  { Name: 'LoadBalancer', Value: { 'Fn::GetAtt': [expect.stringMatching(/^Alb/), 'LoadBalancerFullName'] } },
  { Name: 'TargetGroup', Value: { 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${color}TargetGroup`)), 'TargetGroupFullName'] } },
];

describe('SessionDashboard alarms', () => {
  const { template, dashboard } = dashboardStack({ withStores: true });

  test.each(['Blue', 'Green'] as const)('%s: unhealthy targets, 1 or more in each of 3 minutes', (color) => {
    expect(alarm(template, `${color}UnhealthyHosts`)).toEqual(expect.objectContaining({
      Namespace: 'AWS/ApplicationELB', MetricName: 'UnHealthyHostCount', Statistic: 'Maximum', Period: 60,
      Dimensions: tgDimensions(color), Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
    }));
  });

  test.each(['Blue', 'Green'] as const)('%s: 5xx above 5 %% of requests over 5 minutes, with no traffic counted as 0 %%', (color) => {
    const props = alarm(template, `${color}Http5xxRate`);
    expect(props).toEqual(expect.objectContaining({ Threshold: 5, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' }));
    const [expression, ...metrics] = props.Metrics;
    expect(expression).toEqual(expect.objectContaining({ Expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)', ReturnData: true }));
    expect(metrics).toEqual(expect.arrayContaining([
      expect.objectContaining({ Id: 'requests', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ MetricName: 'RequestCount' }), Period: 300, Stat: 'Sum' }) }),
      expect.objectContaining({ Id: 'errors', MetricStat: expect.objectContaining({ Metric: expect.objectContaining({ MetricName: 'HTTPCode_Target_5XX_Count' }), Period: 300, Stat: 'Sum' }) }),
    ]));
  });

  test.each(['Blue', 'Green'] as const)('%s: target response time p99 above 1 s over 5 minutes', (color) => {
    expect(alarm(template, `${color}LatencyP99`)).toEqual(expect.objectContaining({
      MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Period: 300, Dimensions: tgDimensions(color),
      Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold',
    }));
  });

  test.each(['Blue', 'Green'] as const)('%s: 10 or more failed store calls in 5 minutes, from the app\'s own metrics', (color) => {
    expect(alarm(template, `${color}StoreErrors`)).toEqual(expect.objectContaining({
      Namespace: 'SessionTier/App', MetricName: 'StoreErrors', Statistic: 'Sum', Period: 300,
      Dimensions: [{ Name: 'Color', Value: color.toLowerCase() }], Threshold: 10, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }));
  });

  test.each(['Blue', 'Green'] as const)('%s: the session-continuity alarm, more than 5 %% of returning users losing their session in a minute, once 3 did', (color) => {
    const props = alarm(template, `${color}SessionsLost`);
    expect(props).toEqual(expect.objectContaining({ Threshold: 5, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' }));
    const byId = Object.fromEntries((props.Metrics as { Id: string }[]).map((m) => [m.Id, m]));
    expect(byId.expr_1 ?? Object.values(byId).find((m) => 'Expression' in m)).toEqual(expect.objectContaining({
      Expression: 'IF(FILL(lost, 0) >= 3, 100 * FILL(lost, 0) / (FILL(lost, 0) + FILL(loaded, 0)), 0)', ReturnData: true,
    }));
    for (const [id, metricName] of [['lost', 'SessionsLost'], ['loaded', 'SessionsLoaded']]) {
      expect(byId[id]).toEqual(expect.objectContaining({
        MetricStat: { Metric: { Namespace: 'SessionTier/App', MetricName: metricName, Dimensions: [{ Name: 'Color', Value: color.toLowerCase() }] }, Period: 60, Stat: 'Sum' },
        ReturnData: false,
      }));
    }
  });

  test('the cache: primary memory above 80 %, any eviction, a replica 10 s behind for 3 minutes', () => {
    const node = (n: number) => [{ Name: 'CacheClusterId', Value: { 'Fn::Join': ['', [{ Ref: expect.stringMatching(/^Cache/) }, `-00${n}`]] } }];
    expect(alarm(template, 'CacheMemory')).toEqual(expect.objectContaining({
      Namespace: 'AWS/ElastiCache', MetricName: 'DatabaseMemoryUsagePercentage', Statistic: 'Maximum', Period: 300, Dimensions: node(1),
      Threshold: 80, ComparisonOperator: 'GreaterThanThreshold',
    }));
    expect(alarm(template, 'CacheEvictions')).toEqual(expect.objectContaining({
      MetricName: 'Evictions', Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }));
    expect(alarm(template, 'CacheReplicationLag')).toEqual(expect.objectContaining({
      MetricName: 'ReplicationLag', Statistic: 'Maximum', Period: 60, Dimensions: node(2), Threshold: 10, EvaluationPeriods: 3,
    }));
  });

  test('the file system: 90 % of its I/O limit for 15 minutes', () => {
    expect(alarm(template, 'FileSystemIoLimit')).toEqual(expect.objectContaining({
      Namespace: 'AWS/EFS', MetricName: 'PercentIOLimit', Statistic: 'Maximum', Period: 300, Threshold: 90, EvaluationPeriods: 3,
      Dimensions: [{ Name: 'FileSystemId', Value: { Ref: expect.stringMatching(/^Files/) } }],
    }));
  });

  test('fourteen alarms, each notifying the topic when it fires and when it recovers', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(14);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^HealthAlarmTopic/) }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^HealthAlarmTopic/) }]);
    }
    expect(dashboard.alarms).toHaveLength(14);
  });

  test('the alarm topic is encrypted with a rotated customer managed key CloudWatch may use, and refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HealthAlarmTopicKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*' } },
      })]) },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the topic policy, which replaces SNS\'s default one, lets CloudWatch publish for this account\'s alarms', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([{
        Sid: 'CloudWatchAlarmsOfThisAccountPublish',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: Match.stringLikeRegexp('^HealthAlarmTopic') },
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*' } },
      }]) },
    });
  });

  test('alarmsFor gives the alarms of one color, for the traffic shifter\'s gates', () => {
    const stack = Stack.of(dashboard);
    const ids = (color: FleetColor) => dashboard.alarmsFor(color).map((a) => stack.resolve((a as any).node.id));
    expect(ids(FleetColor.GREEN)).toEqual(['GreenUnhealthyHosts', 'GreenHttp5xxRate', 'GreenLatencyP99', 'GreenStoreErrors', 'GreenSessionsLost']);
    expect(ids(FleetColor.BLUE)).toEqual(['BlueUnhealthyHosts', 'BlueHttp5xxRate', 'BlueLatencyP99', 'BlueStoreErrors', 'BlueSessionsLost']);
  });
});

describe('SessionDashboard widgets', () => {
  /** The dashboard body with tokens rendered, and its widgets' titles. */
  function widgets(template: Template): { titles: string[]; body: string } {
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
    const parts = dashboard.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    const body = parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p).replace(/"/g, "'"))).join('');
    const titles = [...body.matchAll(/"title":"([^"]+)"/g)].map((m) => m[1]);
    return { titles, body };
  }

  test('per color: traffic, errors, latency, healthy hosts, spread, instances; the app\'s sessions and store; the stores that exist', () => {
    const { titles, body } = widgets(dashboardStack({ withStores: true }).template);
    expect(titles).toEqual([
      'Alarms',
      'Requests', 'Target 5xx', 'Target response time p99 (seconds)',
      'Healthy targets', 'Requests per target (the spread stickiness causes)', 'Instances in service',
      'Sessions created', 'Sessions saved', 'Sessions rejected (tampered, malformed)',
      'Sessions lost (the store no longer had them)', 'Sessions loaded', 'Sessions expired',
      'Session age p50 (seconds)', 'Session size p99 (bytes)', 'Store latency p99 (ms)',
      'Store latency p50 (ms)', 'Store errors', 'Write conflicts',
      'Cache engine CPU (%)', 'Cache memory (%)', 'Cache evictions', 'Cache connections', 'Cache replication lag (seconds)',
      'File system throughput (bytes)', 'File system I/O limit (%)', 'File system burst credits',
    ]);
    expect(body).toContain('"label":"blue"');
    expect(body).toContain('"label":"green"');
    expect(body).toContain('["AWS/AutoScaling","GroupInServiceInstances","AutoScalingGroupName"');
    expect(body).toContain('["SessionTier/App","StoreLatency","Color","green",{"color":"#2ca02c","label":"green","period":60,"stat":"p99"}]');
  });

  test('no store widgets and no store alarms without stores', () => {
    const { template } = dashboardStack();
    expect(widgets(template).titles.some((t) => /^(Cache|File system)/.test(t))).toBe(false);
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(10);
  });
});

describe('SessionDashboard options', () => {
  test('thresholds and the topic are props', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Pager');
    const { template } = dashboardStack({
      alarmThresholds: { unhealthyHosts: 2, http5xxPercent: 1, latencyP99: Duration.millis(250), storeErrors: 3 },
      alarmTopic: sns.Topic.fromTopicArn(stack, 'Imported', 'arn:aws:sns:eu-west-1:123456789012:pager'),
    });
    expect(alarm(template, 'GreenUnhealthyHosts').Threshold).toBe(2);
    expect(alarm(template, 'GreenHttp5xxRate').Threshold).toBe(1);
    expect(alarm(template, 'GreenLatencyP99').Threshold).toBe(0.25);
    expect(alarm(template, 'GreenStoreErrors').Threshold).toBe(3);
    expect(alarm(template, 'GreenStoreErrors').AlarmActions).toEqual(['arn:aws:sns:eu-west-1:123456789012:pager']);
    // No alarm topic key of its own (the fleets' log keys remain).
    template.resourcePropertiesCountIs('AWS::KMS::Key', { Description: Match.stringLikeRegexp('alarm topic') }, 0);
    expect(topic).toBeDefined();
  });

  test('fails on thresholds out of range, naming each, all at once', () => {
    expect(() => dashboardStack({
      alarmThresholds: { http5xxPercent: 0, cacheMemoryPercent: 120, unhealthyHosts: 0.5, storeErrors: 0, latencyP99: Duration.seconds(0) },
    })).toThrow(/^5 problems \(at Test\/Health\):\n {2}- alarmThresholds\.http5xxPercent: must be a percentage above 0 and at most 100, got 0\n {2}- alarmThresholds\.cacheMemoryPercent: .*got 120\n {2}- alarmThresholds\.unhealthyHosts: must be a whole number of at least 1, got 0\.5\n {2}- alarmThresholds\.storeErrors: .*got 0\n {2}- alarmThresholds\.latencyP99: must be longer than 0, got 0 seconds$/);
  });

  test('thresholds given as CloudFormation parameters pass synth, and reach the alarms as references, never as a token\'s text', () => {
    const stack = testStack();
    const number = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
    const { vpc, loadBalancer, blue } = blueBehindLoadBalancer(stack);
    new SessionDashboard(stack, 'Health', {
      loadBalancer, blue, stores: [new RedisSessionCache(stack, 'Cache', { vpc })],
      alarmThresholds: {
        unhealthyHosts: number('Unhealthy'), http5xxPercent: number('Rate'), latencyP99: Duration.seconds(number('Latency')),
        storeErrors: number('Errors'), cacheMemoryPercent: number('Memory'), cacheEvictions: number('Evictions'),
        cacheReplicationLag: Duration.seconds(number('Lag')),
      },
    });
    const template = Template.fromStack(stack);
    expect(alarm(template, 'BlueUnhealthyHosts').Threshold).toEqual({ Ref: 'Unhealthy' });
    expect(alarm(template, 'BlueLatencyP99').Threshold).toEqual({ Ref: 'Latency' });
    expect(alarm(template, 'CacheReplicationLag').Threshold).toEqual({ Ref: 'Lag' });
    expect(JSON.stringify(alarm(template, 'BlueUnhealthyHosts').AlarmDescription)).toContain('{"Ref":"Unhealthy"}');
    expect(JSON.stringify(template.toJSON())).not.toMatch(/e\+289|\$\{Token/);
    expect(JSON.stringify(Annotations.fromStack(stack).findWarning('*', Match.anyValue()))).not.toMatch(/e\+289|\$\{Token/);
  });
});

describe('SessionTier and its dashboard', () => {
  test('creates one by default, and gates the shift on the target color\'s alarms as well as the given ones', () => {
    const stack = testStack();
    new SessionTier(stack, 'Tier', {
      blue: { strategy: SessionStrategy.cookie() },
      green: { strategy: SessionStrategy.cookie() },
      targetColor: FleetColor.GREEN,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', {
      AlarmNames: ['UnhealthyHosts', 'Http5xxRate', 'LatencyP99', 'StoreErrors', 'SessionsLost']
        .map((name) => ({ Ref: Match.stringLikeRegexp(`^TierDashboardGreen${name}`) })),
    });
  });

  test('dashboard: false leaves it out, and the gates are the given alarms only', () => {
    const stack = testStack();
    new SessionTier(stack, 'Tier', { blue: {}, green: { strategy: SessionStrategy.cookie() }, dashboard: false });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', { AlarmNames: [] });
  });
});

describe('SessionDashboard for groups of your own', () => {
  function ownFleetDashboard(publishesAppMetrics: boolean) {
    const stack = testStack();
    const vpc = testVpc(stack);
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
      vpc, instanceType: new ec2.InstanceType('t4g.small'), machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
    });
    const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Targets', { vpc, port: 8080, targets: [group] });
    loadBalancer.addListener('Http', { port: 80, defaultTargetGroups: [targetGroup] });
    const blue = AppFleet.fromAppFleetAttributes(stack, 'Mine', { autoScalingGroup: group, targetGroup, minCapacity: 1, publishesAppMetrics });
    const dashboard = new SessionDashboard(stack, 'Health', { loadBalancer, blue });
    return { dashboard, template: Template.fromStack(stack) };
  }

  test('the load balancer\'s alarms and widgets for the group; no app metrics for an application that publishes none', () => {
    const { dashboard, template } = ownFleetDashboard(false);
    expect(dashboard.alarmsFor(FleetColor.BLUE).map((a) => a.node.id)).toEqual(['BlueUnhealthyHosts', 'BlueHttp5xxRate', 'BlueLatencyP99']);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'UnHealthyHostCount',
      Dimensions: Match.arrayWith([{ Name: 'TargetGroup', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Targets'), 'TargetGroupFullName'] } }]),
    });
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect(body).toContain('GroupInServiceInstances');
    expect(body).not.toContain('SessionTier/App');
  });

  test('with the app\'s metrics when the application publishes them', () => {
    const { dashboard, template } = ownFleetDashboard(true);
    expect(dashboard.alarmsFor(FleetColor.BLUE).map((a) => a.node.id)).toContain('BlueStoreErrors');
    expect(JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody)).toContain('SessionTier/App');
  });

  test('an imported target group is named in the metrics by its ARN', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const loadBalancer = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    const targetGroup = elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Tg', {
      targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop/73e2d6bc24d8a067',
    });
    const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'shop');
    new SessionDashboard(stack, 'Health', { loadBalancer, blue: AppFleet.fromAppFleetAttributes(stack, 'Shop', { autoScalingGroup: group, targetGroup, minCapacity: 2 }) });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'UnHealthyHostCount',
      Dimensions: Match.arrayWith([{ Name: 'TargetGroup', Value: 'targetgroup/shop/73e2d6bc24d8a067' }]),
    });
  });

  test('takes a load balancer of yours, imported by its ARN, and names it in the metrics as CloudWatch does', () => {
    const stack = testStack();
    // Compiles only because the prop is IApplicationLoadBalancer (npx tsc checks this file).
    const loadBalancer: elbv2.IApplicationLoadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Shared', {
      loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/platform/50dc6c495c0c9188',
      securityGroupId: 'sg-0123456789abcdef0',
    });
    const targetGroup = elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Tg', {
      targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop/73e2d6bc24d8a067',
    });
    const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'shop');
    const blue = AppFleet.fromAppFleetAttributes(stack, 'Shop', { autoScalingGroup: group, targetGroup, minCapacity: 2 });
    new SessionDashboard(stack, 'Health', { loadBalancer, blue });
    expect(alarm(Template.fromStack(stack), 'BlueUnhealthyHosts').Dimensions).toEqual([
      { Name: 'LoadBalancer', Value: 'app/platform/50dc6c495c0c9188' },
      { Name: 'TargetGroup', Value: 'targetgroup/shop/73e2d6bc24d8a067' },
    ]);
  });

  test('fails for an imported load balancer whose ARN is not an Application Load Balancer\'s', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(stack, 'Nlb', {
      loadBalancerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/platform/50dc6c495c0c9188',
      securityGroupId: 'sg-0123456789abcdef0',
    });
    expect(() => new SessionDashboard(stack, 'Health', { loadBalancer, blue: new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE }) }))
      .toThrow('loadBalancer: must be an Application Load Balancer, whose ARN ends in loadbalancer/app/<name>/<id>, got arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/platform/50dc6c495c0c9188');
  });
});

describe('SessionDashboard parts', () => {
  test('each part is a section under its title: the fleets\', then each store\'s', () => {
    const body = JSON.stringify(Object.values(dashboardStack({ withStores: true }).template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect([...body.matchAll(/"markdown\\":\\"### ([^"\\]+)/g)].map((m) => m[1])).toEqual(['Fleets', 'Session cache', 'Session files']);
  });

  test('a store given twice is shown once', () => {
    const stack = testStack();
    const { vpc, loadBalancer, blue } = blueBehindLoadBalancer(stack);
    const cache = new RedisSessionCache(stack, 'Cache', { vpc });
    const dashboard = new SessionDashboard(stack, 'Health', { loadBalancer, blue, stores: [cache, cache] });
    expect(dashboard.alarms.map((a) => a.node.id).filter((id) => id.startsWith('Cache'))).toEqual(['CacheMemory', 'CacheEvictions', 'CacheReplicationLag']);
  });

  test('a store of your own brings its section: the dashboard gains its graphs and alarms, on the topic, with no change to the library', () => {
    const stack = testStack();
    const { loadBalancer, blue } = blueBehindLoadBalancer(stack);
    const sessions = new TableSessionStore(stack, 'Table');
    const dashboard = new SessionDashboard(stack, 'Health', { loadBalancer, blue, stores: [sessions] });
    const template = Template.fromStack(stack);
    expect(alarm(template, 'TableThrottles')).toEqual(expect.objectContaining({
      Namespace: 'AWS/DynamoDB', MetricName: 'ThrottledRequests', Threshold: 5,
      Dimensions: [{ Name: 'TableName', Value: { Ref: expect.stringMatching(/^Table/) } }],
      AlarmActions: [{ Ref: expect.stringMatching(/^HealthAlarmTopic/) }], OKActions: [{ Ref: expect.stringMatching(/^HealthAlarmTopic/) }],
    }));
    expect(dashboard.alarms.map((a) => a.node.id)).toContain('TableThrottles');
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect(body).toContain('### Session table');
    expect(body).toContain('\\"title\\":\\"Table reads and writes\\"');
    // Its alarm is in the status widget with the fleets'.
    expect(body).toMatch(/"alarms\\":\[.*TableThrottles/);
  });

  test('a part of your own, given as parts, comes after the stores\'', () => {
    const stack = testStack();
    const { vpc, loadBalancer, blue } = blueBehindLoadBalancer(stack);
    const table = dynamodb.TableV2.fromTableName(stack, 'Orders', 'orders');
    new SessionDashboard(stack, 'Health', {
      loadBalancer, blue,
      stores: [new SessionFileSystem(stack, 'Files', { vpc })], parts: [new TablePart(table, { throttledRequests: 1 })],
    });
    const template = Template.fromStack(stack);
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect([...body.matchAll(/"markdown\\":\\"### ([^"\\]+)/g)].map((m) => m[1])).toEqual(['Fleets', 'Session files', 'Session table']);
    expect(alarm(template, 'TableThrottles').Threshold).toBe(1);
  });
});

// A store this library does not have, with its part, as a user writes one: no change to lib/.

/** Sessions in a DynamoDB table. */
class TableSessionStore extends Resource implements ISessionStore {
  public readonly table: dynamodb.TableV2;
  // DynamoDB is reached over HTTPS, not through security groups.
  public readonly connections = new ec2.Connections();

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Resource', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
  }

  public dashboardPart(): IDashboardPart {
    return new TablePart(this.table, { throttledRequests: 5 });
  }
}

/** The table's section, with its own threshold. */
class TablePart implements IDashboardPart {
  constructor(private readonly table: dynamodb.ITableV2, private readonly thresholds: { readonly throttledRequests: number }) {}

  public bind(scope: Construct, _options: DashboardPartBindOptions): DashboardPartConfig {
    const throttles = new cloudwatch.Metric({
      namespace: 'AWS/DynamoDB', metricName: 'ThrottledRequests', dimensionsMap: { TableName: this.table.tableName }, statistic: 'Sum',
    });
    const alarm = throttles.createAlarm(scope, 'TableThrottles', { threshold: this.thresholds.throttledRequests, evaluationPeriods: 1 });
    const graph = new cloudwatch.GraphWidget({
      title: 'Table reads and writes', width: 12,
      left: ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits'].map((metricName) => new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB', metricName, dimensionsMap: { TableName: this.table.tableName }, statistic: 'Sum',
      })),
    });
    return { title: 'Session table', widgets: [graph, new cloudwatch.GraphWidget({ title: 'Table throttles', left: [throttles], width: 12 })], alarms: [alarm] };
  }
}

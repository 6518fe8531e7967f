import { CfnParameter, CfnResource, Duration, Stack } from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AppFleet, AppFleetProps, FleetColor, SessionStrategy, Stickiness } from '../lib';
import { testApp, testStack, testVpc } from './helpers/app';
import { bootConfig, bootScriptOf } from './helpers/boot-harness';

/** A fleet behind a listener, as SessionTier builds it. */
function fleetStack(props: Partial<AppFleetProps> = {}, build?: (fleet: AppFleet, stack: Stack) => void) {
  const stack = testStack();
  const vpc = testVpc(stack);
  const fleet = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, ...props });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  alb.addListener('Http', { port: 80, defaultTargetGroups: [fleet.targetGroup] });
  build?.(fleet, stack);
  return { stack, fleet, template: Template.fromStack(stack) };
}

/** The user data script of the fleet's launch template, intrinsics rendered by the boot harness's stand-ins. */
function userDataOf(template: Template): string {
  return bootScriptOf(template);
}

describe('AppFleet defaults', () => {
  const { template, fleet } = fleetStack();

  test('launch template: AL2023 on the type\'s architecture, IMDSv2 only, encrypted gp3 root, detailed monitoring, no SSH key', () => {
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        ImageId: { Ref: Match.stringLikeRegexp('^SsmParameterValueawsserviceamiamazonlinuxlatestal2023amikernel.*arm64') },
        InstanceType: 't4g.small',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        Monitoring: { Enabled: true },
        BlockDeviceMappings: [{
          DeviceName: '/dev/xvda',
          Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 8, DeleteOnTermination: true },
        }],
      }),
    });
    const lt = Object.values(template.findResources('AWS::EC2::LaunchTemplate'))[0];
    expect(lt.Properties.LaunchTemplateData.KeyName).toBeUndefined();
  });

  test('an x86 instance type gets the x86 image', () => {
    const x86 = fleetStack({ instanceType: new ec2.InstanceType('m7i.large') }).template;
    x86.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ ImageId: { Ref: Match.stringLikeRegexp('al2023amikernel.*x8664') } }),
    });
  });

  test('instance role: Session Manager through AmazonSSMManagedInstanceCore, read of exactly the app bundle and the session-id key, writes to its own log group', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      }),
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 's3:GetObject',
            Effect: 'Allow',
            Resource: Match.stringLikeRegexp('^arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1/[0-9a-f]{64}\\.js$'),
          },
          { Action: 'cloudformation:SignalResource', Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } },
          {
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Effect: 'Allow',
            Resource: { Ref: Match.stringLikeRegexp('^BlueSessionIdKey') },
          },
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BlueAppMetrics'), 'Arn'] },
          },
        ],
        Version: '2012-10-17',
      },
    });
  });

  test('Auto Scaling group: private subnets in two AZs, ELB health checks with a grace period, 2 to 4 instances', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '2',
      MaxSize: '4',
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 300,
      VPCZoneIdentifier: [{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('VpcPrivateSubnet2') }],
      NotificationConfigurations: [{
        NotificationTypes: [
          'autoscaling:EC2_INSTANCE_LAUNCH',
          'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
          'autoscaling:EC2_INSTANCE_TERMINATE',
          'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
        ],
        TopicARN: Match.anyValue(),
      }],
    });
  });

  test('a mixed instances policy: t4g.small first, t4g.medium when a zone has none; the zones named beside the subnets', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MixedInstancesPolicy: {
        LaunchTemplate: {
          LaunchTemplateSpecification: Match.objectLike({ LaunchTemplateId: { Ref: Match.stringLikeRegexp('^BlueLaunchTemplate') } }),
          Overrides: [{ InstanceType: 't4g.small' }, { InstanceType: 't4g.medium' }],
        },
        InstancesDistribution: { OnDemandAllocationStrategy: 'prioritized', OnDemandPercentageAboveBaseCapacity: 100 },
      },
      AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
      LaunchTemplate: Match.absent(),
    });
  });

  test('rolling update, one instance at a time, waits for each instance\'s success signal', () => {
    template.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      CreationPolicy: { ResourceSignal: { Count: 2, Timeout: 'PT15M' } },
      UpdatePolicy: Match.objectLike({
        AutoScalingRollingUpdate: Match.objectLike({
          MaxBatchSize: 1,
          MinInstancesInService: 2,
          WaitOnResourceSignals: true,
          PauseTime: 'PT15M',
        }),
      }),
    });
  });

  test('target tracking on requests per target, labelled with the load balancer and the target group', () => {
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget',
          ResourceLabel: {
            'Fn::Join': ['', Match.arrayWith([Match.objectLike({ 'Fn::Select': Match.anyValue() }), '/', { 'Fn::GetAtt': [Match.stringLikeRegexp('BlueTargetGroup'), 'TargetGroupFullName'] }])],
          },
        },
        TargetValue: 1000,
      },
    });
  });

  test('scaling notifications go to a topic encrypted at rest that refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: Match.stringLikeRegexp('alias/aws/sns'),
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      }),
    });
  });

  test('target group: health check on /health, 30 s deregistration delay, lb cookie stickiness for a day', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      Protocol: 'HTTP',
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '30' },
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.type', Value: 'lb_cookie' },
        { Key: 'stickiness.lb_cookie.duration_seconds', Value: '86400' },
      ]),
    });
  });

  test('the app port is open to the load balancer only', () => {
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress');
    const toFleet = Object.values(ingress).filter((r) => JSON.stringify(r.Properties.GroupId).includes('BlueSecurityGroup'));
    expect(toFleet).toHaveLength(1);
    expect(toFleet[0].Properties).toMatchObject({ FromPort: 8080, ToPort: 8080, IpProtocol: 'tcp' });
    expect(JSON.stringify(toFleet[0].Properties.SourceSecurityGroupId)).toContain('AlbSecurityGroup');
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('blue fleet'),
      SecurityGroupIngress: Match.absent(),
    });
  });

  test('user data installs Node.js, writes the app environment, starts it under systemd, and signals only after the health check', () => {
    const script = userDataOf(template);
    const order = [
      "trap 'fail ",
      'install_packages nodejs22',
      'aws s3 cp',
      'SESSION_APP_COLOR="blue"',
      'SESSION_STRATEGY="memory"',
      'ExecStart=/usr/bin/node-22 /opt/session-app/server.js',
      'systemctl enable --now session-app',
      'curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:8080/health',
      'signal SUCCESS',
    ].map((needle) => {
      const at = script.indexOf(needle);
      expect({ needle, found: at >= 0 }).toEqual({ needle, found: true });
      return at;
    });
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(script).toContain('SESSION_INSTANCE_METADATA="imds"');
    expect(script).toContain('SESSION_COOKIE_NAME="sid"');
    expect(script).toContain('SESSION_SECURE_COOKIE="true"');
    expect(script).toMatch(/^readonly STACK='Test' RESOURCE='BlueASG[0-9A-F]{8}' REGION='eu-west-1'$/m);
    expect(fleet.cookieSecret).toBeUndefined();
  });

  test('memory sessions: ids signed with a key of the strategy\'s, beside the fleet, read at boot', () => {
    expect(bootConfig(userDataOf(template)).secrets).toEqual({
      SESSION_ID_KEYS: { arn: expect.stringMatching(/secret:BlueSessionIdKey[0-9A-F]{8}$/), field: undefined },
    });
    expect(fleet.sessionIdKey?.node.path).toBe('Test/BlueSessionIdKey');
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: 'Signs the session ids of the session tier\'s memory strategy (HMAC key)',
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
  });

  test('secure cookies by default, with no warning', () => {
    expect(fleet.secureCookies).toBe(true);
    expect(Annotations.fromStack(Stack.of(fleet)).findWarning('*', Match.stringLikeRegexp('secureCookies'))).toEqual([]);
  });
});

describe('AppFleet metrics', () => {
  test('the CloudWatch agent listens for Embedded Metric Format before the app starts, and ships it to the fleet\'s log group', () => {
    const { template, fleet } = fleetStack();
    const script = userDataOf(template);
    expect(bootConfig(script).packages).toContain('amazon-cloudwatch-agent');
    const order = [
      'install_packages ',
      'AWS_EMF_LOG_STREAM_NAME "$INSTANCE_ID"',
      '"logs":{"metrics_collected":{"emf":{}}',
      'amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s',
      'systemctl enable --now session-app',
    ].map((needle) => script.indexOf(needle));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(script).toContain('SESSION_METRICS_INTERVAL_SECONDS="60"');
    expect(script).toContain('AWS_EMF_ENVIRONMENT="Agent"');
    expect(script).toContain('AWS_EMF_AGENT_ENDPOINT="tcp://127.0.0.1:25888"');
    expect(bootConfig(script).env.AWS_EMF_LOG_GROUP_NAME).toMatch(/^ref-BlueAppMetrics[0-9A-F]{8}$/);
    // A stream per instance, named by the instance id read at boot.
    expect(script).toContain(`printf '%s="%s"\\n' AWS_EMF_LOG_STREAM_NAME "$INSTANCE_ID" >> /etc/session-app/app.env`);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BlueLogsKey'), 'Arn'] } });
    // The instances may write to that log group and no other.
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BlueAppMetrics'), 'Arn'] },
      }]) },
    });
    expect(fleet.logGroup).toBeDefined();
  });

  test('metricsInterval and logRetention are props', () => {
    const { template } = fleetStack({ metricsInterval: Duration.seconds(10), logRetention: 7 });
    expect(userDataOf(template)).toContain('SESSION_METRICS_INTERVAL_SECONDS="10"');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });
});

describe('AppFleet options', () => {
  test('application-cookie stickiness names the app\'s own cookie, and the app uses that name', () => {
    const { template } = fleetStack({ stickiness: Stickiness.applicationCookie('appsid', Duration.hours(2)) });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'stickiness.type', Value: 'app_cookie' },
        { Key: 'stickiness.app_cookie.cookie_name', Value: 'appsid' },
        { Key: 'stickiness.app_cookie.duration_seconds', Value: '7200' },
      ]),
    });
    expect(userDataOf(template)).toContain('SESSION_COOKIE_NAME="appsid"');
  });

  test('no stickiness turns it off explicitly, and memory sessions without it get a warning', () => {
    const { stack, template } = fleetStack({ stickiness: Stickiness.none() });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'stickiness.enabled', Value: 'false' }]),
    });
    Annotations.fromStack(stack).hasWarning('/Test/Blue', Match.stringLikeRegexp('memory sessions without stickiness are lost'));
  });

  test('slow start and least outstanding requests are set when asked for', () => {
    fleetStack({ slowStart: Duration.seconds(60), deregistrationDelay: Duration.seconds(0) }).template
      .hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([
          { Key: 'deregistration_delay.timeout_seconds', Value: '0' },
          { Key: 'slow_start.duration_seconds', Value: '60' },
        ]),
      });
    fleetStack({ loadBalancingAlgorithm: elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS }).template
      .hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([{ Key: 'load_balancing.algorithm.type', Value: 'least_outstanding_requests' }]),
      });
  });

  test('secureCookies: false drops Secure from the app\'s cookie, with a warning of its own', () => {
    const { stack, template, fleet } = fleetStack({ secureCookies: false });
    expect(userDataOf(template)).toContain('SESSION_SECURE_COOKIE="false"');
    expect(fleet.secureCookies).toBe(false);
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Blue', Match.anyValue()).map((w) => String(w.entry.data));
    expect(warnings).toEqual([expect.stringMatching(
      /^secureCookies: false, so the session cookie lacks Secure and a browser also sends it over plain HTTP, unencrypted; serve HTTPS .* \[ack: cdk-session-tier:insecureCookies\]$/)]);
  });

  test('the cookie strategy gets a generated sealing key, read at boot into a root-only file, never into the template', () => {
    const { template, fleet } = fleetStack({ strategy: SessionStrategy.cookie() });
    expect(fleet.cookieSecret).toBeDefined();
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({
          Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
          Resource: { Ref: Match.stringLikeRegexp('BlueCookieSecret') },
        })]),
      }),
    });
    const script = userDataOf(template);
    expect(script).toContain('install -m 0600 /dev/null /etc/session-app/secrets.env');
    expect(bootConfig(script).secrets).toEqual({ SESSION_COOKIE_SECRETS: { arn: expect.stringMatching(/secret:BlueCookieSecret[0-9A-F]{8}$/), field: undefined } });
    expect(bootConfig(script).env.SESSION_STRATEGY).toBe('cookie');
    expect(JSON.stringify(template.toJSON())).not.toMatch(/resolve:secretsmanager/);
  });

  test('addEnvironment, addSecretEnvironment and addToRolePolicy reach the app', () => {
    const { template } = fleetStack({}, (fleet, stack) => {
      fleet.addEnvironment('FEATURE_FLAG', 'say "hi" \\o/');
      fleet.addSecretEnvironment('API_KEY', new secretsmanager.Secret(stack, 'ApiKey'));
      fleet.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:PutMetricData'], resources: ['*'] }));
    });
    const script = userDataOf(template);
    expect(script).toContain('FEATURE_FLAG="say \\"hi\\" \\\\o/"');
    expect(bootConfig(script).secrets.API_KEY).toEqual({ arn: expect.stringMatching(/secret:ApiKey/), field: undefined });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudwatch:PutMetricData' })]),
      }),
    });
  });

  test('fails when an environment variable name or value is unsafe for the environment file', () => {
    const { fleet } = fleetStack();
    expect(() => fleet.addEnvironment('lower-case', 'x')).toThrow('environment: variable name must match [A-Z_][A-Z0-9_]*, got "lower-case"');
    expect(() => fleet.addEnvironment('MULTI', 'a\nb')).toThrow('environment: MULTI must be a single line, got "a\\nb"; remove the line breaks');
  });

  test('fails at synth when the target group is not behind a load balancer', () => {
    const stack = testStack();
    new AppFleet(stack, 'Blue', { vpc: testVpc(stack), color: FleetColor.BLUE });
    expect(() => Template.fromStack(stack)).toThrow(/targetGroup: no load balancer forwards to it, so requests per target cannot be tracked; forward a listener to fleet.targetGroup/);
  });
});

describe('AppFleet instance types', () => {
  /** The group's overrides and the fleet's warnings, for one `instanceType` or `instanceTypes`. */
  function typesOf(props: Partial<AppFleetProps>) {
    const { stack, template } = fleetStack(props);
    const group = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    const overrides = group.Properties.MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType);
    const warnings = Annotations.fromStack(stack).findWarning('/Test/Blue', Match.anyValue()).map((w) => String(w.entry.data));
    return { overrides, warnings };
  }

  test.each([
    ['m7i.2xlarge', 'm7i.4xlarge'],
    ['m7i.4xlarge', 'm7i.8xlarge'],
    ['m7i.8xlarge', 'm7i.12xlarge'],
    ['m7i.16xlarge', 'm7i.24xlarge'],
    ['c7g.4xlarge', 'c7g.8xlarge'],
    ['r6i.16xlarge', 'r6i.24xlarge'],
    ['m7i.large', 'm7i.xlarge'],
    ['t4g.small', 't4g.medium'],
  ])('instanceType %s falls back on %s, the next larger size of its family that EC2 has', (type, fallback) => {
    expect(typesOf({ instanceType: new ec2.InstanceType(type) })).toEqual({ overrides: [type, fallback], warnings: [] });
  });

  test.each([
    ['t4g.2xlarge', 'no larger size of t4g to fall back on, got t4g.2xlarge'],
    ['m7i.48xlarge', 'no larger size of m7i to fall back on, got m7i.48xlarge'],
    ['m7g.metal', 'no larger size of m7g to fall back on, got m7g.metal'],
    ['m99x.large', 'not an EC2 instance type this package knows'],
    ['m7i.3xlarge', 'not an EC2 instance type this package knows'],
  ])('instanceType %s launches alone, with a warning that names instanceTypes as the fix', (type, why) => {
    const { overrides, warnings } = typesOf({ instanceType: new ec2.InstanceType(type) });
    expect(overrides).toEqual([type]);
    expect(warnings).toEqual([expect.stringMatching(new RegExp(`^instanceType: ${why.replace(/\./g, '\\.')}.*; give instanceTypes`))]);
  });

  test('instanceTypes that the data does not know are kept, with a warning naming them', () => {
    const { overrides, warnings } = typesOf({ instanceTypes: [new ec2.InstanceType('m7g.large'), new ec2.InstanceType('m99g.large'), new ec2.InstanceType('m7g.3xlarge')] });
    expect(overrides).toEqual(['m7g.large', 'm99g.large', 'm7g.3xlarge']);
    expect(warnings).toEqual([expect.stringMatching(/^instanceTypes: not an EC2 instance type this package knows .*, got m99g\.large, m7g\.3xlarge; /)]);
  });
});

describe('AppFleet validation', () => {
  function build(props: Partial<AppFleetProps>, vpcOf?: (stack: Stack) => ec2.IVpc) {
    const stack = testStack();
    return () => new AppFleet(stack, 'Blue', { vpc: vpcOf ? vpcOf(stack) : testVpc(stack), color: FleetColor.BLUE, ...props });
  }

  test.each([
    [Duration.seconds(3601), '1 hour 1 second'],
    [Duration.hours(2), '2 hours'],
    [Duration.millis(500), '500 millis'],
  ])('fails when the deregistration delay is %s', (delay, shown) => {
    expect(build({ deregistrationDelay: delay })).toThrow(`deregistrationDelay: must be whole seconds from 0 to 3600, got ${shown} (at Test/Blue)`);
  });

  test.each([Duration.seconds(0), Duration.millis(1500), Duration.hours(2)])('fails when metricsInterval is %s', (interval) => {
    expect(build({ metricsInterval: interval })).toThrow(`metricsInterval: must be whole seconds from 1 to 3600, got ${interval.toHumanString()}`);
  });

  test('accepts deregistration delays of 0 and 3600 seconds', () => {
    expect(build({ deregistrationDelay: Duration.seconds(0) })).not.toThrow();
    expect(build({ deregistrationDelay: Duration.seconds(3600) })).not.toThrow();
  });

  test('fails when slow start is combined with least outstanding requests', () => {
    expect(build({
      slowStart: Duration.seconds(60),
      loadBalancingAlgorithm: elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
    })).toThrow('slowStart: not supported with the least_outstanding_requests algorithm, got slowStart 1 minute; remove slowStart or use ROUND_ROBIN');
  });

  test.each([Duration.seconds(29), Duration.seconds(901)])('fails when slow start is %s', (slow) => {
    expect(build({ slowStart: slow })).toThrow(/slowStart: must be whole seconds from 30 to 900/);
  });

  test('fails when maxCapacity does not exceed minCapacity, and when minCapacity is 0', () => {
    expect(build({ minCapacity: 3, maxCapacity: 3 })).toThrow('maxCapacity: must be a whole number greater than minCapacity (3), got 3');
    expect(build({ minCapacity: 0 })).toThrow('minCapacity: must be a whole number of at least 1, got 0');
  });

  test('fails when the subnets span one Availability Zone, and when they are public', () => {
    const oneAz = (stack: Stack) => new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    expect(build({}, oneAz)).toThrow(/^vpc: the fleet's private subnets must span at least two Availability Zones, got 1 \(eu-west-1a\); give the VPC two or more \(ec2.Vpc's maxAzs: 2\)/);
    expect(build({ vpcSubnets: { availabilityZones: ['eu-west-1a'] } })).toThrow(/^vpcSubnets: the fleet must span at least two Availability Zones, got 1 \(eu-west-1a\)/);
    expect(build({ vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } })).toThrow(/vpcSubnets: the fleet must run in private subnets, got public ones/);
  });

  test('instanceTypes: in order of preference, one architecture; an x86 type falls back on its next size', () => {
    const overrides = (t: Template) => Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup'))[0].Properties.MixedInstancesPolicy.LaunchTemplate.Overrides;
    expect(overrides(fleetStack({ instanceTypes: [new ec2.InstanceType('c7g.large'), new ec2.InstanceType('m7g.large')] }).template))
      .toEqual([{ InstanceType: 'c7g.large' }, { InstanceType: 'm7g.large' }]);
    expect(overrides(fleetStack({ instanceType: new ec2.InstanceType('m7i.large') }).template)).toEqual([{ InstanceType: 'm7i.large' }, { InstanceType: 'm7i.xlarge' }]);
  });

  test('fails when instanceTypes mix architectures, repeat a type, or come with instanceType', () => {
    expect(build({ instanceTypes: [new ec2.InstanceType('t4g.small'), new ec2.InstanceType('t3.small')] })).toThrow(
      'instanceTypes: must share one architecture (the instances boot one AMI), got t4g.small (arm64), t3.small (x86_64); use only Graviton or only x86 types');
    expect(build({ instanceTypes: [new ec2.InstanceType('t4g.small'), new ec2.InstanceType('t4g.small')] })).toThrow(
      'instanceTypes: must not repeat a type, got t4g.small, t4g.small');
    expect(build({ instanceType: new ec2.InstanceType('t4g.small'), instanceTypes: [new ec2.InstanceType('t4g.medium')] })).toThrow(
      /^instanceTypes: give either instanceType or instanceTypes, got instanceType t4g.small and instanceTypes t4g.medium; put t4g.small first in instanceTypes/);
    expect(build({ instanceTypes: [] })).toThrow('instanceTypes: must name at least one instance type, got none');
  });

  test.each([0, 1.5])('fails when rootVolumeSize is %s', (size) => {
    expect(build({ rootVolumeSize: size })).toThrow(`rootVolumeSize: must be a whole number of at least 1, got ${size}`);
  });

  test('numbers known only at deploy time (CfnParameter) pass synth, are never checked against known values, and never printed', () => {
    const stack = testStack();
    const number = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
    const vpc = testVpc(stack);
    const fleet = new AppFleet(stack, 'Blue', {
      vpc, color: FleetColor.BLUE,
      minCapacity: number('Min'), maxCapacity: number('Max'), targetRequestsPerMinute: number('Target'), rootVolumeSize: number('Root'),
    });
    new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [fleet.targetGroup] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: { Ref: 'Min' }, MaxSize: { Ref: 'Max' } });
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', { TargetTrackingConfiguration: Match.objectLike({ TargetValue: { Ref: 'Target' } }) });
    // A deploy-time maxCapacity beside a known, wrong minCapacity: only what is known is reported.
    const other = testStack();
    const error = (() => {
      try {
        new AppFleet(other, 'Blue', { vpc: testVpc(other), color: FleetColor.BLUE, minCapacity: 0, maxCapacity: new CfnParameter(other, 'Max', { type: 'Number' }).valueAsNumber });
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(error).toBe('minCapacity: must be a whole number of at least 1, got 0; a fleet behind a load balancer needs an instance to serve (at Test/Blue)');
  });

  test('an environment-agnostic stack\'s one zone is counted, not printed as a token', () => {
    const stack = new Stack(testApp(), 'Agnostic');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    expect(() => new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE })).toThrow(
      'vpc: the fleet\'s private subnets must span at least two Availability Zones, got 1; give the VPC two or more (ec2.Vpc\'s maxAzs: 2), ' +
      'or select subnets in two or more zones with vpcSubnets (at Agnostic/Blue)');
  });

  test('reports every problem at once', () => {
    expect(build({ minCapacity: 0, deregistrationDelay: Duration.hours(2), rootVolumeSize: 0 })).toThrow(
      /^3 problems \(at Test\/Blue\):\n {2}- minCapacity: .*\n {2}- rootVolumeSize: .*\n {2}- deregistrationDelay: .*$/,
    );
  });
});

describe('AppFleet.fromAppFleetAttributes', () => {
  function imported(attrs: { minCapacity: number; secureCookies?: boolean; withVpc?: boolean }) {
    const stack = testStack();
    const vpc = testVpc(stack);
    const autoScalingGroup = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'shop');
    const targetGroup = elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Targets', {
      targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop/0123456789abcdef',
    });
    const fleet = AppFleet.fromAppFleetAttributes(stack, 'Shop', {
      autoScalingGroup, targetGroup, minCapacity: attrs.minCapacity, secureCookies: attrs.secureCookies, vpc: attrs.withVpc ? vpc : undefined,
    });
    return { stack, vpc, fleet, created: fleet.node.findAll().filter((c) => c instanceof CfnResource).length };
  }

  test('creates no resource, and knows the VPC and secure cookies only when told', () => {
    const told = imported({ minCapacity: 2, secureCookies: true, withVpc: true });
    expect(told.created).toBe(0);
    expect(told.fleet).toMatchObject({ minCapacity: 2, secureCookies: true, vpc: told.vpc, publishesAppMetrics: false });
    expect(told.fleet.stickiness.enabled).toBe(false);
    const untold = imported({ minCapacity: 2 });
    expect(untold.fleet.secureCookies).toBeUndefined();
    expect(untold.fleet.vpc).toBeUndefined();
  });

  test('fails when minCapacity is not a whole number of at least 0, unless known only at deploy time', () => {
    expect(() => imported({ minCapacity: -1 })).toThrow('minCapacity: must be a whole number of at least 0, got -1 (at Test/Shop)');
    const stack = testStack();
    expect(() => AppFleet.fromAppFleetAttributes(stack, 'Shop', {
      autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'shop'),
      targetGroup: elbv2.ApplicationTargetGroup.fromTargetGroupAttributes(stack, 'Targets', { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop/0123456789abcdef' }),
      minCapacity: new CfnParameter(stack, 'Min', { type: 'Number' }).valueAsNumber,
    })).not.toThrow();
  });
});

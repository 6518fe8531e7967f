import * as fs from 'fs';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib/core';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import * as logs from 'aws-cdk-lib/aws-logs';
import { tierPropsFromContext } from '../../bin/demo-context';
import { DemoStack } from '../../bin/demo-stack';
import { testApp } from '../helpers/app';

/** The demo stack as `npx cdk synth` builds it, with nag registered the same way. */
function demo(context: Record<string, unknown> = {}): { app: App; stack: DemoStack } {
  const app = testApp(context);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new DemoStack(app, 'SessionTierDemo', {
    env: { account: '123456789012', region: 'eu-west-1' },
    tier: tierPropsFromContext(app.node),
  });
  return { app, stack };
}

test('cdk.json carries exactly the feature flags the tests use', () => {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '../../cdk.json'), 'utf8'));
  const flags = Object.fromEntries(Object.entries(cdkJson.context).filter(([key]) => key.startsWith('@aws-cdk')));
  expect(flags).toEqual(cxapi.CURRENTLY_RECOMMENDED_FLAGS);
});

test('the demo stack matches its snapshot', () => {
  const { stack } = demo();
  expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
});

test('with a certificate no listener serves the app over plain HTTP (port 80 only redirects) and cookies are Secure', () => {
  const template = Template.fromStack(demo({ certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555' }).stack);
  const listeners = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::Listener')).map((l) => l.Properties);
  expect(listeners.map((l) => l.Protocol).sort()).toEqual(['HTTP', 'HTTPS']);
  for (const plain of listeners.filter((l) => l.Protocol === 'HTTP')) {
    expect(plain.DefaultActions).toEqual([{ Type: 'redirect', RedirectConfig: expect.objectContaining({ Protocol: 'HTTPS', Port: '443' }) }]);
  }
  // Nothing adds a rule to the plain listener.
  const rulesOn = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::ListenerRule')).map((r) => JSON.stringify(r.Properties.ListenerArn));
  expect(rulesOn.filter((arn) => arn.includes('Redirect'))).toEqual([]);
  const userData = JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'));
  expect(userData).toContain('SESSION_SECURE_COOKIE=\\"true\\"');
  expect(userData).not.toContain('SESSION_SECURE_COOKIE=\\"false\\"');
});

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['the defaults', {}],
    ['HTTPS with cookie sessions on both colors', {
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
      blueStrategy: 'cookie', greenStrategy: 'cookie',
    }],
    ['one fleet with application-cookie stickiness', { greenStrategy: 'none', stickiness: 'app:sid:1h' }],
    ['redis on blue and file on green', { blueStrategy: 'redis', greenStrategy: 'file' }],
    ['memory on blue and database (PostgreSQL, 2 replicas, RDS Proxy) on green', { greenStrategy: 'database', readReplicas: 2, databaseProxy: true }],
    ['database on MySQL without replicas on both colors', { blueStrategy: 'database', greenStrategy: 'database', readReplicas: 0, databaseEngine: 'mysql' }],
  ])('finds nothing unacknowledged in the demo stack with %s', (_name, context) => {
    const { app } = demo(context);
    // An unacknowledged finding makes synth throw (the next test shows it does).
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    for (const plugin of report.pluginReports) {
      expect({ plugin: plugin.pluginName, conclusion: plugin.conclusion }).toEqual({ plugin: plugin.pluginName, conclusion: 'success' });
    }
  });

  test('fails the synth on an unacknowledged finding, so the check above can fail', () => {
    const app = testApp();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = new Stack(app, 'Open', { env: { account: '123456789012', region: 'eu-west-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    sg.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(22));
    expect(() => app.synth()).toThrow(/ERROR The VPC does not have an associated Flow Log. \(AwsSolutions\)/);
  });

  test('every acknowledgement in the demo stack carries a reason', () => {
    const { stack } = demo({ blueStrategy: 'cookie' });
    const acknowledged = stack.node.findAll().flatMap((c) => c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .filter(([id]) => id.includes('AwsSolutions-'))
      .map(([id, reason]) => ({ path: c.node.path, id, reason })));
    const ids = acknowledged.map((a) => a.id.replace(/\{.*:listener-rule\/.*\/\*\]$/, '<rules of the listener>/*]')).sort();
    expect(ids).toEqual([
      'Annotation::AwsSolutions-EC23',
      'Annotation::AwsSolutions-EC26',
      'Annotation::AwsSolutions-EC26',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-IAM5[Resource::<TierRoutingIsCompleteF40EE6E9.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<TierRoutingOnEvent63D461AB.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<TierRoutingProviderframeworkisCompleteB46B2C96.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<TierRoutingProviderframeworkonEvent22E38BDF.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<TierRoutingProviderframeworkonTimeout16BAD927.Arn>:*]',
      'Annotation::AwsSolutions-IAM5[Resource::<rules of the listener>/*]',
      'Annotation::AwsSolutions-IAM5[Resource::<rules of the listener>/*]',
      'Annotation::AwsSolutions-S1',
      'Annotation::AwsSolutions-SMG4',
    ]);
    for (const { reason } of acknowledged) {
      expect(reason.length).toBeGreaterThan(80);
    }
  });
});

/**
 * cdk-nag's NIST 800-53 rev 5 pack, as a report beside AwsSolutions: run on
 * the synthesized tree, it fails nothing (the demo synth does not run it);
 * the README gives its counts.
 */
describe('cdk-nag NIST 800-53 rev 5, a report that fails nothing', () => {
  const findingsOf = (app: App) => {
    const report = new NIST80053R5Checks(app).validateScope(app);
    const byRule: Record<string, number> = {};
    for (const v of report.violations) {
      byRule[v.ruleName] = (byRule[v.ruleName] ?? 0) + v.violatingResources.length;
    }
    return byRule;
  };

  test.each([
    ['the defaults', {}],
    ['redis on blue and file on green', { blueStrategy: 'redis', greenStrategy: 'file' }],
    ['database on MySQL with RDS Proxy on both colors', { blueStrategy: 'database', greenStrategy: 'database', databaseProxy: true, databaseEngine: 'mysql' }],
  ])('reports the demo with %s without failing its synth, and none of the findings the constructs fixed', (_name, context) => {
    const { app } = demo(context);
    app.synth();
    const byRule = findingsOf(app);
    expect(Object.keys(byRule).length).toBeGreaterThan(0);
    for (const fixed of ['CloudWatchLogGroupEncrypted', 'LambdaInsideVPC', 'S3BucketVersioningEnabled',
      'S3BucketLoggingEnabled', 'RDSEnhancedMonitoringEnabled', 'ELBDeletionProtectionEnabled', 'S3DefaultEncryptionKMS', 'SecretsManagerRotationEnabled']) {
      expect(byRule[`NIST.800.53.R5-${fixed}`]).toBeUndefined();
    }
  });

  test('finds what it should in a broken input', () => {
    const app = testApp();
    const stack = new Stack(app, 'Plain', { env: { account: '123456789012', region: 'eu-west-1' } });
    new logs.LogGroup(stack, 'Logs', { retention: logs.RetentionDays.ONE_WEEK });
    app.synth();
    expect(findingsOf(app)).toEqual({ 'NIST.800.53.R5-CloudWatchLogGroupEncrypted': 1 });
  });
});

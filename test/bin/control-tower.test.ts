/**
 * The demo as an account governed by AWS Control Tower with every proactive
 * control turned on would check it at deploy time: every strategy, RDS Proxy
 * on, both engines, with and without a certificate (four variants). A failure is either
 * fixed in the constructs or acknowledged on its resource with the reason.
 */
import { Validations } from 'aws-cdk-lib/core';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { tierPropsFromContext } from '../../bin/demo-context';
import { DemoStack } from '../../bin/demo-stack';
import { testApp, testStack } from '../helpers/app';
import { ControlFinding, addControlTower, controlTowerReport } from '../helpers/control-tower';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

/** Each demo variant: its stack name and its `-c` context. */
const VARIANTS: Record<string, Record<string, string>> = {
  MemoryCookie: {},
  RedisFile: { blueStrategy: 'redis', greenStrategy: 'file' },
  PostgresProxy: { blueStrategy: 'database', greenStrategy: 'cookie', databaseProxy: 'true', readReplicas: '2' },
  // cfn-guard takes some 14 s a template on this machine: HTTPS rides with the last variant rather than a fifth.
  HttpsMysqlProxy: { certificateArn: CERTIFICATE, blueStrategy: 'database', greenStrategy: 'database', databaseProxy: 'true', databaseEngine: 'mysql' },
};

/** What each variant acknowledges: a control and where (paths below the stack's Tier). */
const ACKNOWLEDGED_EVERYWHERE = [
  'CT.AUTOSCALING.PR.11 Blue/Resource/ASG',
  'CT.AUTOSCALING.PR.11 Green/Resource/ASG',
  'CT.ELASTICLOADBALANCING.PR.5 LoadBalancer/Resource',
  'CT.S3.PR.10 AccessLogs/Resource',
  'CT.S3.PR.2 AccessLogsAccessLogs/Resource',
  'CT.S3.PR.9 AccessLogs/Resource',
  'CT.S3.PR.9 AccessLogsAccessLogs/Resource',
];
const HTTP_ONLY = ['CT.ELASTICLOADBALANCING.PR.1 LoadBalancer/Http/Resource'];
const DATABASE = ['CT.RDS.PR.13 SessionDatabase/Resource/Resource'];

const short = (f: ControlFinding, stack: string) =>
  `${f.control} ${f.path.replace(`${stack}/Tier/`, '').replace(new RegExp(`^${stack}/`), '<stack>/')}`;

describe('AWS Control Tower proactive controls (cfn-guard, the rules @cdklabs/cdk-validator-cfnguard ships)', () => {
  const app = testApp();
  addControlTower(app);
  for (const [name, context] of Object.entries(VARIANTS)) {
    // Each variant reads its own context, as `-c key=value` would set it.
    const holder = new Construct(app, `${name}Context`);
    for (const [key, value] of Object.entries(context)) {
      holder.node.setContext(key, value);
    }
    new DemoStack(app, name, { env: { account: '123456789012', region: 'eu-west-1' }, tier: tierPropsFromContext(holder.node) });
  }
  const report = controlTowerReport(app.synth().directory);

  test.each(Object.keys(VARIANTS))('the demo %s fails no control that is not acknowledged', (name) => {
    expect(report.unacknowledged.filter((f) => f.template === `${name}.template.json`)).toEqual([]);
  });

  test.each(Object.entries(VARIANTS))('the demo %s acknowledges exactly the controls of the README table', (name, context) => {
    const expected = [
      ...ACKNOWLEDGED_EVERYWHERE,
      ...context.certificateArn ? [] : HTTP_ONLY,
      ...[context.blueStrategy, context.greenStrategy].includes('database') ? DATABASE : [],
    ];
    const acknowledged = report.acknowledged.filter((f) => f.template === `${name}.template.json`);
    expect([...new Set(acknowledged.map((f) => short(f, name)))].sort()).toEqual(expected.sort());
    for (const { reason } of acknowledged) {
      expect(reason?.length).toBeGreaterThan(100);
    }
  });
});

describe('the Control Tower check', () => {
  test('catches a broken input, counts an acknowledged failure apart, and does not trust the report\'s own conclusion', () => {
    // Failures reported, not thrown, so the report can be read.
    const app = testApp({ '@aws-cdk/core:failSynthOnValidationErrors': false });
    addControlTower(app);
    const stack = testStack(app);
    const plain = new logs.LogGroup(stack, 'Plain', { retention: logs.RetentionDays.ONE_WEEK });
    Validations.of(plain).acknowledge({ id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check', reason: 'a test' });
    new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const report = controlTowerReport(app.synth().directory);
    const list = (f: ControlFinding[]) => f.map((x) => `${x.control} ${x.path}`).sort();
    expect(list(report.unacknowledged)).toEqual(['CT.CLOUDWATCH.PR.3 Test/Plain/Resource', 'CT.KMS.PR.3 Test/Key/Resource']);
    expect(list(report.acknowledged)).toEqual(['CT.CLOUDWATCH.PR.2 Test/Plain/Resource']);
    // aws-cdk calls the plugin's run a success once it suppressed anything: the count above is what the tests trust.
    expect(report.conclusion).toBe('success');
  });
});

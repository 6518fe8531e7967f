/**
 * Least privilege, read from the demo's synthesized templates: key policies
 * grant services only under a source condition and refuse grants to anyone
 * but AWS services; CloudWatch may publish to the alarm topic, for this
 * account's alarms only; the stores' security groups let nothing out; each
 * fleet may reach HTTPS and its store's ports and nothing else; no fleet may
 * read the database's master secret. Each check is also shown to catch a
 * broken input.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { tierPropsFromContext } from '../../bin/demo-context';
import { DemoStack } from '../../bin/demo-stack';
import { AppFleet, FleetColor, SessionStrategy } from '../../lib';
import { testApp, testStack, testVpc } from '../helpers/app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function demoTemplate(context: Record<string, string>): Template {
  const app = testApp(context);
  return Template.fromStack(new DemoStack(app, 'SessionTierDemo', { env: { account: '123456789012', region: 'eu-west-1' }, tier: tierPropsFromContext(app.node) }));
}

/** Conditions that tie a service's use of a key or topic to this account's resources. */
const SOURCE_CONDITION = /aws:SourceAccount|aws:SourceArn|kms:EncryptionContext:|kms:ViaService/;

/** What a key policy allows beyond least privilege, one sentence each. */
function keyPolicyProblems(policy: Json): string[] {
  const problems: string[] = [];
  for (const st of policy.Statement as Json[]) {
    if (st.Effect === 'Allow' && st.Principal?.Service !== undefined && !SOURCE_CONDITION.test(JSON.stringify(st.Condition ?? {}))) {
      problems.push(`allows ${JSON.stringify(st.Principal.Service)} without a source condition`);
    }
  }
  const refusesGrants = (policy.Statement as Json[]).some((st) => st.Effect === 'Deny' && JSON.stringify(st.Action) === '"kms:CreateGrant"'
    && st.Condition?.BoolIfExists?.['kms:GrantIsForAWSResource'] === 'false' && st.Condition?.BoolIfExists?.['aws:PrincipalIsAWSService'] === 'false');
  if (!refusesGrants) {
    problems.push('no statement refuses kms:CreateGrant to principals that are not AWS services (CT.KMS.PR.3)');
  }
  return problems;
}

/** Every egress rule of the security group `logicalId`, inline or separate, as `port -> destination`. */
function egressOf(template: Template, logicalId: string): string[] {
  const json = template.toJSON().Resources as Record<string, Json>;
  const render = (rule: Json) => {
    // A port known at deploy time only (an RDS instance's) is named by the instance.
    const portOf = (p: unknown) => (typeof p === 'object' ? `port of ${(p as Json)['Fn::GetAtt']?.[0]}` : String(p));
    const port = JSON.stringify(rule.FromPort) === JSON.stringify(rule.ToPort) ? portOf(rule.FromPort) : `${portOf(rule.FromPort)}-${portOf(rule.ToPort)}`;
    const to = rule.CidrIp ?? rule.DestinationSecurityGroupId?.['Fn::GetAtt']?.[0] ?? JSON.stringify(rule.DestinationSecurityGroupId);
    return `${rule.IpProtocol === '-1' ? 'all' : port} -> ${to}`;
  };
  const inline = (json[logicalId].Properties.SecurityGroupEgress ?? [] as Json[])
    .filter((r: Json) => r.CidrIp !== '255.255.255.255/32'); // aws-cdk's placeholder for "nothing"
  const separate = Object.values(json).filter((r) => r.Type === 'AWS::EC2::SecurityGroupEgress' && r.Properties.GroupId?.['Fn::GetAtt']?.[0] === logicalId)
    .map((r) => r.Properties);
  return [...inline, ...separate].map(render).sort();
}

/** The security groups whose logical id starts with `prefix`. */
function groups(template: Template, prefix: RegExp): string[] {
  return Object.keys(template.findResources('AWS::EC2::SecurityGroup')).filter((id) => prefix.test(id));
}

const id = (template: Template, prefix: RegExp): string => {
  const found = groups(template, prefix);
  expect(found).toHaveLength(1);
  return found[0];
};

const VARIANTS: Record<string, Record<string, string>> = {
  'redis on blue, file on green': { blueStrategy: 'redis', greenStrategy: 'file' },
  'database (PostgreSQL, proxy, 2 replicas) on blue, cookie on green': { blueStrategy: 'database', greenStrategy: 'cookie', databaseProxy: 'true', readReplicas: '2' },
  'database (MySQL, proxy) on both, HTTPS': {
    blueStrategy: 'database', greenStrategy: 'database', databaseProxy: 'true', databaseEngine: 'mysql',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
  },
};

describe.each(Object.entries(VARIANTS))('the demo with %s', (_name, context) => {
  const template = demoTemplate(context);
  const resources = template.toJSON().Resources as Record<string, Json>;

  test('every key policy grants services only under a source condition and refuses grants to non-AWS-services', () => {
    const keys = Object.entries(template.findResources('AWS::KMS::Key'));
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const [logicalId, key] of keys) {
      expect({ key: logicalId, problems: keyPolicyProblems(key.Properties.KeyPolicy) }).toEqual({ key: logicalId, problems: [] });
    }
  });

  test('CloudWatch may use the alarm key and publish to the alarm topic, for this account\'s alarms only', () => {
    const fromAlarms = {
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:*' },
    };
    const topicPolicy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))
      .find((p) => JSON.stringify(p.Properties.Topics).includes('TierDashboardAlarmTopic'))!.Properties.PolicyDocument;
    expect(topicPolicy.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: fromAlarms }),
    ]));
    const key = Object.entries(template.findResources('AWS::KMS::Key')).find(([logicalId]) => logicalId.startsWith('TierDashboardAlarmTopicKey'))![1];
    expect(key.Properties.KeyPolicy.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: fromAlarms }),
    ]));
  });

  test('the stores\' security groups let nothing out; the proxy reaches the primary alone', () => {
    const stores = groups(template, /^TierSession(Cache|Files|Database)/).filter((g) => !/Proxy|Setup/.test(g));
    expect(stores.length).toBeGreaterThanOrEqual(1);
    for (const group of stores) {
      expect({ group, egress: egressOf(template, group) }).toEqual({ group, egress: [] });
    }
    for (const proxy of groups(template, /^TierSessionDatabaseProxySecurityGroup/)) {
      expect(egressOf(template, proxy)).toEqual([expect.stringMatching(/^port of TierSessionDatabase[0-9A-F]{8} -> TierSessionDatabaseSecurityGroup/)]);
    }
  });

  test('each fleet may reach HTTPS and its store\'s ports, nothing else', () => {
    const expected = (strategy: string): RegExp[] => {
      const https = /^443 -> 0\.0\.0\.0\/0$/;
      const mysql = context.databaseEngine === 'mysql';
      switch (strategy) {
        case 'redis': return [/^6380 -> TierSessionCacheSecurityGroup/, https];
        case 'file': return [/^2049 -> TierSessionFiles.*EfsSecurityGroup/, https];
        case 'database': return [
          mysql ? /^3306 -> TierSessionDatabaseProxySecurityGroup/ : /^5432 -> TierSessionDatabaseProxySecurityGroup/,
          /^port of TierSessionDatabaseReplica1[0-9A-F]{8} -> TierSessionDatabaseReplicaSecurityGroup/,
          /^6380 -> TierSessionCacheSecurityGroup/, https,
        ];
        default: return [https];
      }
    };
    for (const [color, strategy] of [['Blue', context.blueStrategy], ['Green', context.greenStrategy]]) {
      const egress = egressOf(template, id(template, new RegExp(`^Tier${color}SecurityGroup`)));
      expect(egress).toHaveLength(expected(strategy).length);
      expected(strategy).forEach((rule) => expect(egress).toContainEqual(expect.stringMatching(rule)));
    }
  });

  test('no fleet may read the master secret; the setup function alone does', () => {
    // The master secret, and its attachment (the same secret with the host added).
    const master = Object.keys(resources).filter((s) => /TierSessionDatabaseSecret/.test(s) && /^AWS::SecretsManager::(Secret|SecretTargetAttachment)$/.test(resources[s].Type));
    const readers = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && master.some((m) => JSON.stringify(r.Properties.PolicyDocument).includes(`"${m}"`)))
      .flatMap(([, r]) => r.Properties.Roles.map((role: Json) => role.Ref as string));
    if (context.blueStrategy === 'database' || context.greenStrategy === 'database') {
      expect(master).toHaveLength(2);
      expect([...new Set(readers)]).toEqual([expect.stringMatching(/^TierSessionDatabaseSetupHandlerRole/)]);
    }
    expect(readers.filter((r) => /InstanceRole/.test(r))).toEqual([]);
  });
});

describe('the least-privilege checks catch a broken input', () => {
  test('a key that grants a service without a condition and does not refuse grants', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt');
    const policy = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy;
    expect(keyPolicyProblems(policy)).toEqual([
      'allows "cloudwatch.amazonaws.com" without a source condition',
      'no statement refuses kms:CreateGrant to principals that are not AWS services (CT.KMS.PR.3)',
    ]);
  });

  test('a file system with aws-cdk\'s own security group lets everything out', () => {
    const stack = testStack();
    new efs.FileSystem(stack, 'Fs', { vpc: testVpc(stack) });
    const template = Template.fromStack(stack);
    expect(egressOf(template, id(template, /^FsEfsSecurityGroup/))).toEqual(['all -> 0.0.0.0/0']);
  });

  test('a fleet given one more way out shows it', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const fleet = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: SessionStrategy.memory() });
    new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [fleet.targetGroup] });
    fleet.connections.allowToAnyIpv4(ec2.Port.tcp(22));
    const template = Template.fromStack(stack);
    expect(egressOf(template, id(template, /^BlueSecurityGroup/))).toEqual(['22 -> 0.0.0.0/0', '443 -> 0.0.0.0/0']);
  });
});

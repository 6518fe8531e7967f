import { Duration, Stack } from 'aws-cdk-lib/core';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SessionFileSystem } from '../lib';
import { testStack, testVpc } from './helpers/app';

interface PolicyStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Principal?: { AWS?: unknown };
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** What a file-system policy allows beyond the fleets' least privilege, one sentence each. */
function fileSystemPolicyProblems(policy: { Statement: PolicyStatement[] }): string[] {
  const problems: string[] = [];
  for (const st of policy.Statement.filter((s) => s.Effect === 'Allow')) {
    const actions = ([] as string[]).concat(st.Action);
    if (actions.some((a) => a === '*' || a === 'elasticfilesystem:ClientRootAccess')) {
      problems.push(`statement grants elasticfilesystem:ClientRootAccess (${actions.join(', ')})`);
    }
    if (st.Principal?.AWS === '*') {
      problems.push('statement allows any principal');
    }
    const accessPoint = st.Condition?.StringEquals?.['elasticfilesystem:AccessPointArn'] ?? st.Condition?.ArnLike?.['elasticfilesystem:AccessPointArn'];
    if (accessPoint === undefined) {
      problems.push('statement allows clients without the access point condition');
    }
  }
  return problems;
}

describe('SessionFileSystem', () => {
  const stack = testStack();
  const vpc = testVpc(stack);
  const files = new SessionFileSystem(stack, 'Files', { vpc });
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  files.grantReadWrite(role);
  const client = new ec2.SecurityGroup(stack, 'Client', { vpc });
  files.connections.allowDefaultPortFrom(client);
  const t = Template.fromStack(stack);

  test('encrypted, elastic throughput, automatic backups, a lifecycle policy, kept on removal', () => {
    t.hasResourceProperties('AWS::EFS::FileSystem', {
      Encrypted: true,
      ThroughputMode: 'elastic',
      BackupPolicy: { Status: 'ENABLED' },
      LifecyclePolicies: [{ TransitionToIA: 'AFTER_14_DAYS' }, { TransitionToPrimaryStorageClass: 'AFTER_1_ACCESS' }],
    });
    t.hasResource('AWS::EFS::FileSystem', { DeletionPolicy: 'Retain' });
  });

  test('the file-system policy refuses clients without TLS and allows only the granted role, through the access point, without root access', () => {
    const policy = Object.values(t.findResources('AWS::EFS::FileSystem'))[0].Properties.FileSystemPolicy;
    expect(fileSystemPolicyProblems(policy)).toEqual([]);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: 'Deny', Action: '*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      {
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': [expect.stringMatching(/^Role/), 'Arn'] } },
        Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        Condition: {
          ArnLike: { 'elasticfilesystem:AccessPointArn': 'arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/*' },
          Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true', 'aws:SecureTransport': 'true' },
        },
      },
    ]);
  });

  test('the policy check catches aws-cdk\'s own statement (ClientRootAccess to any principal at a mount target)', () => {
    const other = testStack();
    new SessionFileSystem(other, 'Files', { vpc: testVpc(other), fileSystemProps: { allowAnonymousAccess: false } });
    const policy = Object.values(Template.fromStack(other).findResources('AWS::EFS::FileSystem'))[0].Properties.FileSystemPolicy;
    expect(fileSystemPolicyProblems(policy)).toEqual([
      expect.stringMatching(/grants elasticfilesystem:ClientRootAccess/),
      expect.stringMatching(/allows any principal/),
      expect.stringMatching(/without the access point condition/),
    ]);
  });

  test('an access point for the session directory with its own POSIX user', () => {
    t.hasResourceProperties('AWS::EFS::AccessPoint', {
      RootDirectory: { Path: '/sessions', CreationInfo: { OwnerUid: '1001', OwnerGid: '1001', Permissions: '0750' } },
      PosixUser: { Uid: '1001', Gid: '1001' },
    });
  });

  test('mount permission only through the access point, and NFS only from what it is opened to', () => {
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{
          Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Files'), 'Arn'] },
          Condition: {
            StringEquals: { 'elasticfilesystem:AccessPointArn': { 'Fn::Join': Match.anyValue() } },
            Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true', 'aws:SecureTransport': 'true' },
          },
        }],
        Version: '2012-10-17',
      },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 2049, ToPort: 2049, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Client'), 'GroupId'] },
    });
    t.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { FromPort: 2049 }, 1);
  });

  test('metrics keep aws-cdk-lib\'s names, name the file system, and take an options object', () => {
    expect([files.metric('ClientConnections'), files.metricPercentIOLimit(), files.metricThroughput(), files.metricBurstCreditBalance()]
      .map((m) => [m.metricName, m.statistic, m.period.toMinutes()])).toEqual([
      ['ClientConnections', 'Average', 5], ['PercentIOLimit', 'Maximum', 5], ['MeteredIOBytes', 'Sum', 5], ['BurstCreditBalance', 'Minimum', 5],
    ]);
    expect(files.metricThroughput({ period: Duration.minutes(1) }).period.toMinutes()).toBe(1);
    expect(Stack.of(files).resolve(files.metricPercentIOLimit().dimensions)).toEqual({ FileSystemId: { Ref: expect.stringMatching(/^Files/) } });
  });
});

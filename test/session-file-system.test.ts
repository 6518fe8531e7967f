import { CfnParameter, CfnResource, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
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
    // What aws-cdk writes when anonymous access is turned off its own way, on a file system of its own.
    new efs.FileSystem(other, 'Files', { vpc: testVpc(other), allowAnonymousAccess: false });
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

  test('creates the key that signs its sessions\' ids in its constructor, and knows its VPC', () => {
    expect(Stack.of(files).resolve((files.sessionIdKey as secretsmanager.Secret).secretArn)).toEqual({ Ref: expect.stringMatching(/^FilesSessionIdKey[0-9A-F]{8}$/) });
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Description: 'Signs the session ids of the session tier\'s file strategy (HMAC key)' });
    expect(files.vpc).toBe(vpc);
  });
});

describe('SessionFileSystem as a Resource, and imported', () => {
  test('applyRemovalPolicy reaches the file system', () => {
    const stack = testStack();
    const files = new SessionFileSystem(stack, 'Files', { vpc: testVpc(stack) });
    expect(files.stack).toBe(stack);
    files.applyRemovalPolicy(RemovalPolicy.DESTROY);
    Template.fromStack(stack).hasResource('AWS::EFS::FileSystem', { DeletionPolicy: 'Delete' });
  });

  test('an import creates nothing, and takes its VPC and session-id key as attributes', () => {
    const stack = testStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0');
    const fileSystem = efs.FileSystem.fromFileSystemAttributes(stack, 'Fs', { fileSystemId: 'fs-0123456789abcdef0', securityGroup: sg });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
    const key = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ids-AbCdEf');
    const files = SessionFileSystem.fromSessionFileSystemAttributes(stack, 'Files', {
      fileSystem, accessPoint: efs.AccessPoint.fromAccessPointAttributes(stack, 'Ap', { accessPointId: 'fsap-0123456789abcdef0', fileSystem }), vpc, sessionIdKey: key,
    });
    expect([files.vpc, files.sessionIdKey, files.connections]).toEqual([vpc, key, fileSystem.connections]);
    expect(stack.node.findAll().filter(CfnResource.isCfnResource)).toEqual([]);
  });
});

describe('SessionFileSystem settings', () => {
  test('performance and throughput mode, provisioned throughput and the key are props of its own', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new SessionFileSystem(stack, 'Files', {
      vpc: testVpc(stack), performanceMode: efs.PerformanceMode.MAX_IO, throughputMode: efs.ThroughputMode.PROVISIONED,
      provisionedThroughputPerSecond: Size.mebibytes(64), encryptionKey: key,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::EFS::FileSystem', {
      PerformanceMode: 'maxIO', ThroughputMode: 'provisioned', ProvisionedThroughputInMibps: 64, Encrypted: true,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
    });
  });

  test.each([
    [{ throughputMode: efs.ThroughputMode.PROVISIONED },
      'throughputMode: PROVISIONED needs provisionedThroughputPerSecond, got none; pass provisionedThroughputPerSecond, e.g. Size.mebibytes(10)'],
    [{ provisionedThroughputPerSecond: Size.mebibytes(10) },
      'provisionedThroughputPerSecond: only applies with throughputMode PROVISIONED, got throughputMode elastic; pass throughputMode: efs.ThroughputMode.PROVISIONED or remove it'],
    [{ throughputMode: efs.ThroughputMode.PROVISIONED, provisionedThroughputPerSecond: Size.kibibytes(512) },
      'provisionedThroughputPerSecond: must be a number of MiB/s of at least 1, got 0.5'],
    [{ performanceMode: efs.PerformanceMode.MAX_IO },
      'performanceMode: MAX_IO cannot use Elastic throughput, got throughputMode elastic (the default); pass throughputMode BURSTING or PROVISIONED, or keep GENERAL_PURPOSE'],
  ])('%j fails with a message naming the prop, the value and the fix', (props, message) => {
    const stack = testStack();
    expect(() => new SessionFileSystem(stack, 'Files', { vpc: testVpc(stack), ...props })).toThrow(`${message} (at Test/Files)`);
  });

  test('a provisioned throughput given as a CloudFormation parameter passes synth as a reference, and no message prints it', () => {
    const stack = testStack();
    const mibps = new CfnParameter(stack, 'Throughput', { type: 'Number' }).valueAsNumber;
    new SessionFileSystem(stack, 'Files', { vpc: testVpc(stack), throughputMode: efs.ThroughputMode.PROVISIONED, provisionedThroughputPerSecond: Size.mebibytes(mibps) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EFS::FileSystem', { ThroughputMode: 'provisioned', ProvisionedThroughputInMibps: { Ref: 'Throughput' } });
    expect(JSON.stringify(t.toJSON()) + JSON.stringify(Annotations.fromStack(stack).findWarning('*', Match.anyValue()))).not.toMatch(/e\+289|\$\{Token/);
  });
});

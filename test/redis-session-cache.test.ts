import { CfnParameter, CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CacheEngine, RedisSessionCache, RedisSessionCacheProps } from '../lib';
import { testStack, testVpc } from './helpers/app';

function cache(props: Partial<RedisSessionCacheProps> = {}) {
  const stack = testStack();
  const vpc = testVpc(stack);
  const c = new RedisSessionCache(stack, 'Cache', { vpc, ...props });
  return { stack, vpc, cache: c, template: () => Template.fromStack(stack) };
}

describe('RedisSessionCache defaults', () => {
  const { cache: c, template } = cache();
  const t = template();

  test('Valkey 8.0, cluster mode off, a primary and a replica in two AZs, Multi-AZ with automatic failover', () => {
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.t4g.small',
      ClusterMode: 'disabled',
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      PreferredCacheClusterAZs: ['eu-west-1a', 'eu-west-1b'],
    });
  });

  test('encryption in transit and at rest set explicitly, an AUTH token only as a dynamic reference, a non-default port, snapshots kept', () => {
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      TransitEncryptionEnabled: true,
      AtRestEncryptionEnabled: true,
      AuthToken: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: Match.stringLikeRegexp('^CacheAuthToken') }, ':SecretString:::}}']] },
      Port: 6380,
      SnapshotRetentionLimit: 7,
    });
    t.hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
  });

  test('the AUTH token is generated with characters ElastiCache accepts', () => {
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: 'AUTH token of the session cache',
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
  });

  test('its own subnet group over the private subnets and its own closed security group', () => {
    t.hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: [{ Ref: Match.stringLikeRegexp('VpcPrivateSubnet1') }, { Ref: Match.stringLikeRegexp('VpcPrivateSubnet2') }],
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Session cache: reachable only from what it is opened to',
      SecurityGroupIngress: Match.absent(),
    });
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  test('creates the key that signs its sessions\' ids, in its constructor, rotated by hand', () => {
    expect(c.vpc).toBeDefined();
    expect(Stack.of(c).resolve((c.sessionIdKey as secretsmanager.Secret).secretArn)).toEqual({ Ref: expect.stringMatching(/^CacheSessionIdKey[0-9A-F]{8}$/) });
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: 'Signs the session ids of the session tier\'s redis strategy (HMAC key)',
      GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
    });
    t.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });

  test('exposes the endpoints, the port and per-node metrics', () => {
    expect(c.port).toBe(6380);
    expect(c.engine).toBe(CacheEngine.VALKEY);
    expect(c.metricEvictions().metricName).toBe('Evictions');
    expect(c.metricReplicationLag().toMetricConfig().metricStat!.dimensions).toEqual([{ name: 'CacheClusterId', value: expect.any(String) }]);
    expect(c.metricDatabaseMemoryUsagePercentage().statistic).toBe('Maximum');
  });

  test('metrics keep aws-cdk-lib\'s names and take an options object, with a statistic and period of their own', () => {
    const node = (n: number) => ({ CacheClusterId: expect.stringMatching(new RegExp(`-00${n}$`)) });
    expect([
      c.metricEngineCPUUtilization(), c.metricDatabaseMemoryUsagePercentage(), c.metricEvictions(), c.metricCurrConnections(), c.metricReplicationLag(),
    ].map((m) => [m.metricName, m.statistic, m.period.toMinutes()])).toEqual([
      ['EngineCPUUtilization', 'Average', 1], ['DatabaseMemoryUsagePercentage', 'Maximum', 1], ['Evictions', 'Sum', 1],
      ['CurrConnections', 'Maximum', 1], ['ReplicationLag', 'Maximum', 1],
    ]);
    expect(c.metricEvictions().dimensions).toEqual(node(1));
    expect(c.metricReplicationLag().dimensions).toEqual(node(2));
    const custom = c.metricCurrConnections({ node: 2, statistic: 'Average', period: Duration.minutes(5) });
    expect([custom.dimensions, custom.statistic, custom.period.toMinutes()]).toEqual([node(2), 'Average', 5]);
    expect(c.metric('NetworkBytesIn').statistic).toBe('Average');
  });
});

describe('RedisSessionCache options', () => {
  test('Redis OSS with its version, three nodes, and a key of your own', () => {
    const { template } = cache({ engine: CacheEngine.REDIS, nodes: 3, engineVersion: '7.1' });
    template().hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'redis', EngineVersion: '7.1', NumCacheClusters: 3, PreferredCacheClusterAZs: ['eu-west-1a', 'eu-west-1b', 'eu-west-1a'],
    });
  });

  test('opens its port only to what it is given, and grants the token only to whom it is asked', () => {
    const { stack, vpc, cache: c, template } = cache();
    const client = new ec2.SecurityGroup(stack, 'Client', { vpc });
    c.connections.allowDefaultPortFrom(client);
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    c.grantReadAuthToken(role);
    const t = template();
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 6380, ToPort: 6380,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Client'), 'GroupId'] },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: Match.stringLikeRegexp('^CacheAuthToken') } })], Version: '2012-10-17' },
    });
  });

  test('without AUTH and TLS there is no token (the session-id key remains), and a removal policy of your own', () => {
    const { cache: c, template } = cache({ authToken: false, transitEncryption: false, removalPolicy: RemovalPolicy.DESTROY });
    expect(c.authTokenSecret).toBeUndefined();
    expect(Object.keys(template().findResources('AWS::SecretsManager::Secret'))).toEqual([expect.stringMatching(/^CacheSessionIdKey/)]);
    template().hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Delete' });
  });

  test('is a Resource of its stack: applyRemovalPolicy reaches the replication group', () => {
    const { stack, cache: c, template } = cache();
    expect(c.stack).toBe(stack);
    c.applyRemovalPolicy(RemovalPolicy.RETAIN);
    template().hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('RedisSessionCache validation', () => {
  test.each([1, 7, 2.5])('fails when nodes is %s', (nodes) => {
    expect(() => cache({ nodes, multiAz: false })).toThrow(`nodes: must be a whole number from 2 to 6, got ${nodes}; a primary and 1 to 5 replicas`);
  });

  test('numbers given as CloudFormation parameters pass synth, reach the template as references, and no message prints them', () => {
    const stack = testStack();
    const number = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
    new RedisSessionCache(stack, 'Cache', { vpc: testVpc(stack), nodes: number('Nodes'), port: number('Port'), snapshotRetentionDays: number('Days') });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      NumCacheClusters: { Ref: 'Nodes' }, Port: { Ref: 'Port' }, SnapshotRetentionLimit: { Ref: 'Days' },
      PreferredCacheClusterAZs: Match.absent(), AutomaticFailoverEnabled: true,
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: 'Session cache: reachable only from what it is opened to' });
    expect(JSON.stringify(t.toJSON())).not.toMatch(/e\+289|\$\{Token/);
    expect(JSON.stringify(Annotations.fromStack(stack).findWarning('*', Match.anyValue()))).not.toMatch(/e\+289|\$\{Token/);
  });

  test('fails when Multi-AZ has no replica, and says to add one', () => {
    expect(() => cache({ nodes: 1 })).toThrow(/multiAz: needs a replica to fail over to, got nodes 1; use nodes 2 or more/);
  });

  test('fails when AUTH is asked for without transit encryption', () => {
    expect(() => cache({ transitEncryption: false })).toThrow(
      'authToken: ElastiCache accepts an AUTH token only with transit encryption, got transitEncryption false; turn transitEncryption on or authToken off (at Test/Cache)',
    );
  });

  test('fails on a privileged port and on snapshot retention beyond 35 days', () => {
    expect(() => cache({ port: 80 })).toThrow(/port: must be a whole number from 1024 to 65535, got 80/);
    expect(() => cache({ snapshotRetentionDays: 36 })).toThrow(/snapshotRetentionDays: must be a whole number from 0 to 35, got 36/);
  });

  test('fails when Multi-AZ gets subnets in one zone', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    expect(() => new RedisSessionCache(stack, 'Cache', { vpc })).toThrow(/vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got 1/);
  });
});

describe('RedisSessionCache.fromRedisSessionCacheAttributes', () => {
  const sg = (stack: Stack, id = 'Sg') => ec2.SecurityGroup.fromSecurityGroupId(stack, id, 'sg-0123456789abcdef0');
  test('an existing group gets the same grants and metrics', () => {
    const stack = testStack();
    const token = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf');
    const cache = RedisSessionCache.fromRedisSessionCacheAttributes(stack, 'Cache', { replicationGroupId: 'sessions', primaryEndpoint: 'p.example', securityGroups: [sg(stack)], authTokenSecret: token });
    expect(cache).toMatchObject({ port: 6379, transitEncryption: true, nodes: 2 });
    expect(cache.metricReplicationLag().dimensions).toEqual({ CacheClusterId: 'sessions-002' });
    expect(cache.metricDatabaseMemoryUsagePercentage({ node: 1 }).dimensions).toEqual({ CacheClusterId: 'sessions-001' });
  });

  test('an import creates nothing, and takes its VPC and session-id key as attributes', () => {
    const stack = testStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
    const key = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ids-AbCdEf');
    const cache = RedisSessionCache.fromRedisSessionCacheAttributes(stack, 'Cache', {
      replicationGroupId: 'sessions', primaryEndpoint: 'p.example', securityGroups: [sg(stack)], vpc, sessionIdKey: key,
    });
    const bare = RedisSessionCache.fromRedisSessionCacheAttributes(stack, 'Bare', { replicationGroupId: 'other', primaryEndpoint: 'o.example', securityGroups: [sg(stack, 'Sg2')] });
    // Nothing in the stack is a CloudFormation resource.
    expect(stack.node.findAll().filter(CfnResource.isCfnResource)).toEqual([]);
    expect([cache.vpc, cache.sessionIdKey]).toEqual([vpc, key]);
    expect([bare.vpc, bare.sessionIdKey]).toEqual([undefined, undefined]);
  });

  test('fails without security groups, with a token but no TLS, and with a port out of range, all at once', () => {
    const stack = testStack();
    const token = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Token', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-AbCdEf');
    expect(() => RedisSessionCache.fromRedisSessionCacheAttributes(stack, 'Cache', {
      replicationGroupId: 'sessions', primaryEndpoint: 'p.example', securityGroups: [], authTokenSecret: token, transitEncryption: false, port: 80,
    })).toThrow(/^3 problems \(at Test\/Cache\):\n {2}- port: must be a whole number from 1024 to 65535, got 80\n {2}- securityGroups: needs the replication group's security groups, got none.*\n {2}- authTokenSecret: ElastiCache accepts an AUTH token only with transit encryption/);
  });
});

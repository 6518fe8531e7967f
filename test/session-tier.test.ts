import { Duration, Stack } from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { FleetColor, RedisSessionCache, SessionStrategy, SessionTier, SessionTierProps, ShiftPlan } from '../lib';
import { testStack } from './helpers/app';
import { bootConfig, bootScriptOf } from './helpers/boot-harness';
import { importedStores } from './helpers/stores';

const CERT = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

function tier(props: SessionTierProps = {}, withStack?: (stack: Stack) => SessionTierProps) {
  const stack = testStack();
  const t = new SessionTier(stack, 'Tier', { ...props, ...withStack?.(stack) });
  return { stack, tier: t, template: Template.fromStack(stack) };
}

describe('SessionTier defaults', () => {
  const { stack, tier: t, template } = tier();

  test('creates a VPC over two AZs with public and private subnets, a NAT gateway each, flow logs and an S3 endpoint', () => {
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL' });
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
  });

  test('public subnets assign no public addresses, while each zone keeps its NAT gateway and Elastic IP', () => {
    const subnets = Object.entries(template.findResources('AWS::EC2::Subnet'));
    expect(subnets.filter(([id]) => /Public/.test(id)).map(([, s]) => s.Properties.MapPublicIpOnLaunch)).toEqual([false, false]);
    template.resourceCountIs('AWS::EC2::EIP', 2);
    template.hasResourceProperties('AWS::EC2::NatGateway', { SubnetId: { Ref: Match.stringLikeRegexp('^TierVpcPublicSubnet1') } });
  });

  test('one customer managed key for every log group of the tier, flow logs included, each kept a year or more', () => {
    const groups = Object.entries(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(2);
    for (const [logicalId, g] of groups) {
      expect({ logicalId, key: g.Properties.KmsKeyId }).toEqual({ logicalId, key: { 'Fn::GetAtt': [expect.stringMatching(/^TierLogsKey/), 'Arn'] } });
      expect(g.Properties.RetentionInDays === undefined || g.Properties.RetentionInDays >= 365).toBe(true);
    }
    expect(t.logEncryptionKey).toBeDefined();
  });

  test('the aws-cdk function that strips the default security group runs in the private subnets, let out on HTTPS only', () => {
    const cleaner = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => /default security group/.test(f.Properties.Description))!;
    expect(cleaner.Properties.VpcConfig).toEqual({
      SubnetIds: [{ Ref: expect.stringMatching(/^TierVpcPrivateSubnet1/) }, { Ref: expect.stringMatching(/^TierVpcPrivateSubnet2/) }],
      SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^TierDefaultGroupCleanerSecurityGroup/), 'GroupId'] }],
    });
    expect(cleaner.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^TierVpcPrivateSubnet1DefaultRoute/)]));
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('strips the default security group'),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
  });

  test('the load balancer refuses deletion unless told otherwise', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
    tier({ loadBalancerDeletionProtection: false }).template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
  });

  test('the log bucket is versioned, sends events to EventBridge and logs its own access to a second bucket, encrypted with a key', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    const [logs, serverLogs] = ['TierAccessLogs', 'TierAccessLogsAccessLogs'].map((prefix) =>
      Object.entries(buckets).find(([id]) => new RegExp(`^${prefix}[0-9A-F]{8}$`).test(id))!);
    for (const [, b] of [logs, serverLogs]) {
      expect(b.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(b.Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
      expect(b.DeletionPolicy).toBe('Retain');
    }
    expect(logs[1].Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: serverLogs[0] }, LogFilePrefix: 'load-balancer-logs/' });
    expect(serverLogs[1].Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
      BucketKeyEnabled: true,
      ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [expect.stringMatching(/^TierAccessLogsKey/), 'Arn'] } },
    });
    // No custom resource sets the notifications (aws-cdk's eventBridgeEnabled would add a Lambda function outside the VPC).
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: serverLogs[0] },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject',
        Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' }, ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logs[0], 'Arn'] } } },
      })]) },
    });
  });

  test('an internet-facing load balancer that drops invalid header fields and logs access', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.bucket', Value: { Ref: Match.stringLikeRegexp('TierAccessLogs') } },
        { Key: 'access_logs.s3.prefix', Value: 'alb' },
      ]),
    });
  });

  test('the access-log bucket is encrypted, private, and refuses requests without TLS', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      }),
    });
  });

  test('without a certificate: HTTP on 80, a warning, and cookies without Secure', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
    Annotations.fromStack(stack).hasWarning('/Test/Tier', Match.stringLikeRegexp('serves plain HTTP'));
    expect(t.url).toMatch(/^http:\/\//);
    expect(JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'))).toContain('SESSION_SECURE_COOKIE=\\"false\\"');
  });

  test('one blue fleet with memory sessions, forwarded to directly', () => {
    expect(t.green).toBeUndefined();
    expect(t.blue.strategy.name).toBe('memory');
    template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('TierBlueTargetGroup') } }],
    });
    // The memory fleet's session-id key, the tier's.
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(t.blue.sessionIdKey?.node.path).toBe('Test/Tier/SessionIdKey');
  });

  test('without a certificate the fleets\' cookies lack Secure, and each fleet says so too', () => {
    expect(t.blue.secureCookies).toBe(false);
    Annotations.fromStack(stack).hasWarning('/Test/Tier/Blue', Match.stringLikeRegexp('^secureCookies: false, so the session cookie lacks Secure'));
  });
});

describe('SessionTier options', () => {
  test('with a certificate: HTTPS on 443 with the recommended TLS policy, HTTP redirected, Secure cookies', () => {
    const { tier: t, template } = tier({ certificateArn: CERT });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: CERT }],
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [{ Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' }) }],
    });
    expect(t.url).toMatch(/^https:\/\//);
    expect(JSON.stringify(template.findResources('AWS::EC2::LaunchTemplate'))).toContain('SESSION_SECURE_COOKIE=\\"true\\"');
  });

  test('blue and green share one cookie key, so a user moving between colors keeps the session', () => {
    const { tier: t, template } = tier({
      blue: { strategy: SessionStrategy.cookie() },
      green: { strategy: SessionStrategy.cookie(), version: 'v2' },
      targetColor: FleetColor.GREEN,
      shiftPlan: ShiftPlan.linear(25, Duration.minutes(2)),
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(t.blue.cookieSecret).toBe(t.cookieSecret);
    expect(t.green!.cookieSecret).toBe(t.cookieSecret);
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', { TargetColor: 'green', Plan: 'linear:25:120', GroupStickinessSeconds: '86400' });
  });

  test('both colors\' memory strategies, two objects, sign ids with one key: a user a release moves counts as a lost session, not a forged id', () => {
    const { tier: t, template } = tier({ blue: { strategy: SessionStrategy.memory() }, green: { strategy: SessionStrategy.memory() } });
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    expect(t.blue.sessionIdKey).toBeDefined();
    expect(t.green!.sessionIdKey).toBe(t.blue.sessionIdKey);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Description: 'Signs the session ids of the session tier\'s memory strategy (HMAC key)' });
  });

  test('a fleet\'s own secureCookies wins over the tier\'s listener', () => {
    const { tier: t } = tier({ certificateArn: CERT, blue: { secureCookies: false } });
    expect(t.blue.secureCookies).toBe(false);
  });

  test('only a fleet that uses cookie sessions gets the key', () => {
    const { tier: t } = tier({ blue: { strategy: SessionStrategy.memory() }, green: { strategy: SessionStrategy.cookie() } });
    expect(t.blue.cookieSecret).toBeUndefined();
    expect(t.green!.cookieSecret).toBe(t.cookieSecret);
  });

  test('uses a VPC it is given and creates none', () => {
    const { template } = tier({}, (stack) => ({ vpc: new ec2.Vpc(stack, 'Mine', { maxAzs: 2, natGateways: 1 }) }));
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      VPCZoneIdentifier: [{ Ref: Match.stringLikeRegexp('^MinePrivate') }, { Ref: Match.stringLikeRegexp('^MinePrivate') }],
    });
  });

  test('fails when natGateways is given with a VPC, or is below 1', () => {
    expect(() => tier({ natGateways: 1 }, (stack) => ({ vpc: new ec2.Vpc(stack, 'Mine') }))).toThrow(
      'natGateways: only applies to the VPC the tier creates, got 1 with a given vpc; remove natGateways (at Test/Tier)',
    );
    expect(() => tier({ natGateways: 0 })).toThrow(/natGateways: must be a whole number of at least 1/);
  });

  test('routing errors surface through the tier', () => {
    expect(() => tier({ targetColor: FleetColor.GREEN })).toThrow(/targetColor: there is no green fleet to shift to, got green/);
  });
});

describe('SessionTier session stores', () => {
  test('creates only the stores some fleet uses', () => {
    const { tier: t, template } = tier({ blue: { strategy: SessionStrategy.memory() }, green: { strategy: SessionStrategy.cookie() } });
    expect(t.sessionCache).toBeUndefined();
    expect(t.sessionFileSystem).toBeUndefined();
    expect(t.sessionDatabase).toBeUndefined();
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    template.resourceCountIs('AWS::EFS::FileSystem', 0);
  });

  test('a redis fleet gets the cache\'s port (and no other fleet does), its endpoint, TLS and the AUTH token', () => {
    const { tier: t, template } = tier({ blue: { strategy: SessionStrategy.memory() }, green: { strategy: SessionStrategy.redis() } });
    expect(t.sessionCache).toBeDefined();
    const toCache = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((r) => JSON.stringify(r.Properties.GroupId).includes('SessionCache'));
    expect(toCache).toHaveLength(1);
    expect(toCache[0].Properties).toMatchObject({ FromPort: 6380, ToPort: 6380, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^TierGreenSecurityGroup/), 'GroupId'] } });
    const green = bootConfig(bootScriptOf(template, 'TierGreen'));
    expect(green.env).toMatchObject({
      SESSION_STRATEGY: 'redis',
      SESSION_REDIS_HOST: expect.stringMatching(/^TierSessionCache[0-9A-F]{8}\.PrimaryEndPoint\.Address$/),
      SESSION_REDIS_PORT: '6380',
      SESSION_REDIS_TLS: 'true',
    });
    expect(green.secrets.SESSION_REDIS_AUTH_TOKEN).toEqual({ arn: expect.stringMatching(/secret:TierSessionCacheAuthToken/), field: undefined });
    // Ids signed with the cache's key, which every fleet on the cache shares.
    expect(green.secrets.SESSION_ID_KEYS).toEqual({ arn: expect.stringMatching(/secret:TierSessionCacheSessionIdKey/), field: undefined });
    const greenPolicy = JSON.stringify(Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('TierGreenInstanceRole'))![1]);
    expect(greenPolicy).toMatch(/"Ref":"TierSessionCacheAuthToken[0-9A-F]{8}"/);
    expect(greenPolicy).toMatch(/"Ref":"TierSessionCacheSessionIdKey[0-9A-F]{8}"/);
    const blue = JSON.stringify(Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('TierBlueInstanceRole'))![1]);
    expect(blue).not.toContain('SessionCache');
  });

  test('a file fleet mounts the file system through its access point with TLS and IAM before the app starts, and waits for the mount targets', () => {
    const { template } = tier({ blue: { strategy: SessionStrategy.file() } });
    const script = bootScriptOf(template);
    const config = bootConfig(script);
    expect(config.packages).toContain('amazon-efs-utils');
    expect(script).toMatch(/^echo "ref-TierSessionFiles[0-9A-F]{8}:\/ \/mnt\/sessions efs _netdev,noresvport,tls,iam,accesspoint=ref-TierSessionFilesSessions[0-9A-F]{8} 0 0" >> \/etc\/fstab$/m);
    expect(script.indexOf('mount /mnt/sessions')).toBeLessThan(script.indexOf('systemctl enable --now session-app'));
    expect(config.unit).toContain('RequiresMountsFor=/mnt/sessions');
    expect(config.unit).toContain('ReadWritePaths=/mnt/sessions');
    expect(config.env.SESSION_FILE_DIR).toBe('/mnt/sessions');
    const asg = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(asg.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^TierSessionFilesEfsMountTargetPrivateSubnet1/), expect.stringMatching(/^TierSessionFilesEfsMountTargetPrivateSubnet2/)]));
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 2049, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TierBlueSecurityGroup'), 'GroupId'] },
    });
  });

  test('a database fleet reaches exactly the proxy, the replicas and the cache, reads the credentials, and gets every endpoint', () => {
    const { tier: t, template } = tier({
      blue: { strategy: SessionStrategy.memory() },
      green: { strategy: SessionStrategy.database() },
      databaseProps: { readReplicas: 2, proxy: true },
    });
    expect(t.sessionDatabase).toBeDefined();
    expect(t.sessionCache).toBeDefined();
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).map((r) => JSON.stringify(r.Properties));
    const from = (group: RegExp, source: string) => ingress.filter((i) => group.test(i) && i.includes(`"${source}`));
    expect(from(/SessionDatabaseProxySecurityGroup/, 'TierGreenSecurityGroup')).toHaveLength(1);
    expect(from(/SessionDatabaseReplicaSecurityGroup/, 'TierGreenSecurityGroup')).toHaveLength(1);
    expect(from(/SessionCacheSecurityGroup/, 'TierGreenSecurityGroup')).toHaveLength(1);
    // Not around the proxy to the primary, and nothing for the memory fleet.
    expect(from(/"TierSessionDatabaseSecurityGroup/, 'TierGreenSecurityGroup')).toHaveLength(0);
    expect(ingress.filter((i) => i.includes('TierBlueSecurityGroup') && /Session(Database|Cache)/.test(i))).toHaveLength(0);

    const script = bootScriptOf(template, 'TierGreen');
    const green = bootConfig(script);
    expect(green.env).toMatchObject({
      SESSION_STRATEGY: 'database',
      SESSION_DB_ENGINE: 'postgres',
      // Writes go to the proxy (on the engine's port), reads to each replica on the instances' port.
      SESSION_DB_HOST: expect.stringMatching(/^TierSessionDatabaseProxy[0-9A-F]{8}\.Endpoint$/),
      SESSION_DB_PORT: '5432',
      SESSION_DB_REPLICAS: expect.stringMatching(/^TierSessionDatabaseReplica1[0-9A-F]{8}\.Endpoint\.Address:5433,TierSessionDatabaseReplica2[0-9A-F]{8}\.Endpoint\.Address:5433$/),
      SESSION_DB_NAME: 'sessions',
      SESSION_DB_TLS: 'true',
      SESSION_DB_CACHE: 'true',
      SESSION_DB_CA_FILE: '/etc/session-app/db-ca.pem',
      SESSION_REDIS_HOST: expect.stringMatching(/^TierSessionCache/),
    });
    expect(script).toContain('https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem');
    expect(green.secrets).toEqual({
      SESSION_DB_USER: { arn: expect.stringMatching(/secret:TierSessionDatabaseAppCredentials/), field: 'username' },
      SESSION_DB_PASSWORD: { arn: expect.stringMatching(/secret:TierSessionDatabaseAppCredentials/), field: 'password' },
      SESSION_REDIS_AUTH_TOKEN: { arn: expect.stringMatching(/secret:TierSessionCacheAuthToken/), field: undefined },
      SESSION_ID_KEYS: { arn: expect.stringMatching(/secret:TierSessionDatabaseSessionIdKey/), field: undefined },
    });
    expect(green.env.SESSION_DB_PASSWORD).toBeUndefined();
    const policy = (color: string) => JSON.stringify(Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith(`Tier${color}InstanceRole`))![1]);
    expect(policy('Green')).toMatch(/secretsmanager:GetSecretValue.*TierSessionDatabaseAppCredentials/);
    // The master secret never reaches the instances.
    expect(policy('Green')).not.toMatch(/TierSessionDatabaseSecret(Attachment)?[0-9A-F]{8}/);
    expect(policy('Blue')).not.toContain('SessionDatabase');
    // The fleet starts once the setup has created the application user.
    expect(template.findResources('AWS::AutoScaling::AutoScalingGroup')[Object.keys(template.findResources('AWS::AutoScaling::AutoScalingGroup')).find((id) => id.startsWith('TierGreen'))!].DependsOn)
      .toEqual(expect.arrayContaining([expect.stringMatching(/^TierSessionDatabaseSetup[0-9A-F]{8}$/)]));
  });

  test('the database adds a replica-lag alarm per replica to the dashboard and a database row of widgets', () => {
    const { tier: t, template } = tier({ blue: { strategy: SessionStrategy.database() }, databaseProps: { readReplicas: 3 } });
    expect(t.dashboard!.alarms.filter((a) => /DatabaseReplica\dLag/.test(a.node.id))).toHaveLength(3);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ReplicaLag', Namespace: 'AWS/RDS', Statistic: 'Maximum', Period: 60, Threshold: 30, EvaluationPeriods: 3,
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: { Ref: Match.stringLikeRegexp('^TierSessionDatabaseReplica3') } }],
    });
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    for (const title of ['Database CPU (%)', 'Database connections', 'Database replica lag (seconds)']) {
      expect(body).toContain(title);
    }
  });

  test('uses a cache it is handed instead of creating one', () => {
    const { template } = tier({}, (stack) => {
      const vpc = new ec2.Vpc(stack, 'Mine', { maxAzs: 2, natGateways: 1 });
      return { vpc, blue: { strategy: SessionStrategy.redis() }, sessionCache: new RedisSessionCache(stack, 'MyCache', { vpc, nodes: 3 }) };
    });
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 3 });
  });
});

describe('SessionTier with stores of your own', () => {
  test.each([
    ['sessionCache', 'cacheProps', (s: Stack) => ({ sessionCache: importedStores(s).cache, cacheProps: { nodes: 3 } })],
    ['sessionFileSystem', 'fileSystemProps', (s: Stack) => ({ sessionFileSystem: importedStores(s).fileSystem, fileSystemProps: {} })],
    ['sessionDatabase', 'databaseProps', (s: Stack) => ({ sessionDatabase: importedStores(s).database, databaseProps: { readReplicas: 2 } })],
  ])('fails when %s and %s are both given', (existing, overrides, props) => {
    expect(() => tier({}, props)).toThrow(`${overrides}: only apply to the store the tier creates, got both ${existing} and ${overrides}; pass either your ${existing} or ${overrides} for a new one`);
  });

  test('an imported cache handed to the tier is used, and none is created', () => {
    const { tier: t, template } = tier({}, (stack) => ({ blue: { strategy: SessionStrategy.redis() }, sessionCache: importedStores(stack).cache }));
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    expect(bootConfig(bootScriptOf(template)).env.SESSION_REDIS_HOST).toBe('sessions.abc123.ng.0001.euw1.cache.amazonaws.com');
    expect(t.sessionCache).toBeDefined();
  });

  test('a strategy that carries its store keeps it; the tier creates only what another fleet misses', () => {
    const { tier: t, template } = tier({}, (stack) => {
      const { database } = importedStores(stack);
      return { blue: { strategy: SessionStrategy.database(database) }, green: { strategy: SessionStrategy.redis() } };
    });
    template.resourceCountIs('AWS::RDS::DBInstance', 0);
    template.resourceCountIs('AWS::ElastiCache::ReplicationGroup', 1);
    expect(bootConfig(bootScriptOf(template, 'TierBlue')).env).toMatchObject({ SESSION_DB_HOST: 'primary.abc123.eu-west-1.rds.amazonaws.com', SESSION_DB_CACHE: 'false' });
    expect(t.sessionDatabase).toBeDefined();
  });

  test('one sealing key for both cookie fleets, unless a strategy brings its own', () => {
    const { template } = tier({ blue: { strategy: SessionStrategy.cookie() }, green: { strategy: SessionStrategy.cookie() } });
    const blue = bootConfig(bootScriptOf(template, 'TierBlue')).secrets.SESSION_COOKIE_SECRETS;
    const green = bootConfig(bootScriptOf(template, 'TierGreen')).secrets.SESSION_COOKIE_SECRETS;
    expect(blue.arn).toMatch(/secret:TierCookieSecret/);
    expect(green).toEqual(blue);
    const own = tier({}, (stack) => ({ blue: { strategy: SessionStrategy.cookie({ secret: importedSecret(stack) }) } })).template;
    expect(bootConfig(bootScriptOf(own)).secrets.SESSION_COOKIE_SECRETS.arn).toBe(OWN_SECRET);
    own.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });
});

const OWN_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:my/cookie-key-AbCdEf';
function importedSecret(stack: Stack) {
  return secretsmanager.Secret.fromSecretCompleteArn(stack, 'MyKey', OWN_SECRET);
}

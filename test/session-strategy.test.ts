import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AppFleet, RedisSessionCache, SessionDatabase, SessionFileSystem, SessionStrategy } from '../lib';
import { testStack, testVpc } from './helpers/app';
import { bootConfig, bootScriptOf } from './helpers/boot-harness';
import { EXISTING, importedStores } from './helpers/stores';

describe('SessionStrategy', () => {
  test.each([
    ['memory', false],
    ['cookie', true],
    ['redis', true],
    ['file', true],
    ['database', true],
  ])('fromName(%s) gives the %s strategy', (name, survives) => {
    const strategy = SessionStrategy.fromName(name);
    expect(strategy.name).toBe(name);
    expect(strategy.survivesInstanceLoss).toBe(survives);
  });

  test('fails on an unknown name and lists the known ones', () => {
    expect(() => SessionStrategy.fromName('sticky')).toThrow(
      'strategy: unknown session strategy, got "sticky"; use one of memory, cookie, redis, file, database',
    );
  });

  test('says which stores it misses, and withStores fills only those', () => {
    const stack = testStack();
    const { cache, database } = importedStores(stack);
    expect(SessionStrategy.redis().missingStores).toEqual(['cache']);
    expect(SessionStrategy.redis(cache).missingStores).toEqual([]);
    expect(SessionStrategy.database().missingStores).toEqual(['database', 'cache']);
    // A database given alone runs without a cache; SessionTier does not add one.
    expect(SessionStrategy.database(database).missingStores).toEqual([]);
    const other = RedisSessionCache.fromRedisSessionCacheAttributes(stack, 'Other', {
      replicationGroupId: 'other', primaryEndpoint: 'other.example', securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'OtherSg', 'sg-0123456789abcdef0')],
    });
    expect(SessionStrategy.redis(cache).withStores({ cache: other }).stores.cache).toBe(cache);
    expect(SessionStrategy.database().withStores({ cache, database }).stores).toMatchObject({ cache, database });
    expect(SessionStrategy.memory().withStores({ cache }).stores.cache).toBeUndefined();
  });
});

describe('a standalone AppFleet wires itself to the store of its strategy', () => {
  function fleet(strategy: (stores: ReturnType<typeof importedStores>) => SessionStrategy) {
    const stack = testStack();
    const vpc = testVpc(stack);
    const f = new AppFleet(stack, 'Blue', { vpc, color: 'blue', strategy: strategy(importedStores(stack)) });
    new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [f.targetGroup] });
    const template = Template.fromStack(stack);
    return { template, config: bootConfig(bootScriptOf(template)) };
  }
  const fromFleet = (template: Template, type: string, target: string) => Object.values(template.findResources(type))
    .filter((r) => JSON.stringify(r.Properties).includes(target) && JSON.stringify(r.Properties).includes('BlueSecurityGroup'))
    .map((r) => r.Properties);

  test('redis(cache): the cache\'s port from the fleet only, the AUTH token read at boot, the endpoint in the environment', () => {
    const { template, config } = fleet((s) => SessionStrategy.redis(s.cache));
    expect(fromFleet(template, 'AWS::EC2::SecurityGroupIngress', EXISTING.cacheSecurityGroup)).toEqual([
      expect.objectContaining({ GroupId: EXISTING.cacheSecurityGroup, FromPort: 6379, ToPort: 6379, IpProtocol: 'tcp' }),
    ]);
    expect(fromFleet(template, 'AWS::EC2::SecurityGroupEgress', EXISTING.cacheSecurityGroup)).toEqual([
      expect.objectContaining({ DestinationSecurityGroupId: EXISTING.cacheSecurityGroup, FromPort: 6379, ToPort: 6379 }),
    ]);
    expect(config.env).toMatchObject({
      SESSION_STRATEGY: 'redis', SESSION_REDIS_HOST: 'sessions.abc123.ng.0001.euw1.cache.amazonaws.com', SESSION_REDIS_PORT: '6379', SESSION_REDIS_TLS: 'true',
    });
    expect(config.secrets).toEqual({ SESSION_REDIS_AUTH_TOKEN: { arn: EXISTING.cacheAuthToken, field: undefined } });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toContain(EXISTING.cacheAuthToken);
  });

  test('file(files): NFS from the fleet only, mount and write through the access point only, mounted before the app starts', () => {
    const { template, config } = fleet((s) => SessionStrategy.file(s.fileSystem));
    expect(fromFleet(template, 'AWS::EC2::SecurityGroupIngress', EXISTING.fileSystemSecurityGroup)).toEqual([
      expect.objectContaining({ FromPort: 2049, ToPort: 2049 }),
    ]);
    const policy = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policy).toContain('"Action":["elasticfilesystem:ClientMount","elasticfilesystem:ClientWrite"]');
    expect(policy).toContain(`"Condition":{"StringEquals":{"elasticfilesystem:AccessPointArn":"arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/${EXISTING.accessPointId}"},` +
      '"Bool":{"elasticfilesystem:AccessedViaMountTarget":"true","aws:SecureTransport":"true"}}');
    expect(policy).toContain(`"Resource":"arn:aws:elasticfilesystem:eu-west-1:123456789012:file-system/${EXISTING.fileSystemId}"`);
    expect(config.env.SESSION_FILE_DIR).toBe('/mnt/sessions');
    expect(config.packages).toContain('amazon-efs-utils');
    expect(config.unit).toContain('RequiresMountsFor=/mnt/sessions');
  });

  test('database(db, { cache }): the primary and each replica, the cache, the credentials, and every endpoint', () => {
    const { template, config } = fleet((s) => SessionStrategy.database(s.database, { cache: s.cache }));
    for (const group of [EXISTING.databaseSecurityGroup, EXISTING.replicaSecurityGroup]) {
      expect(fromFleet(template, 'AWS::EC2::SecurityGroupIngress', group)).toEqual([expect.objectContaining({ FromPort: 5432, ToPort: 5432 })]);
    }
    expect(fromFleet(template, 'AWS::EC2::SecurityGroupIngress', EXISTING.cacheSecurityGroup)).toHaveLength(1);
    expect(config.env).toMatchObject({
      SESSION_STRATEGY: 'database',
      SESSION_DB_HOST: 'primary.abc123.eu-west-1.rds.amazonaws.com',
      SESSION_DB_PORT: '5432',
      SESSION_DB_REPLICAS: 'replica1.abc123.eu-west-1.rds.amazonaws.com:5432',
      SESSION_DB_CACHE: 'true',
      SESSION_REDIS_HOST: 'sessions.abc123.ng.0001.euw1.cache.amazonaws.com',
      SESSION_DB_TLS: 'true',
    });
    expect(config.secrets).toEqual({
      SESSION_DB_USER: { arn: EXISTING.databaseCredentials, field: 'username' },
      SESSION_DB_PASSWORD: { arn: EXISTING.databaseCredentials, field: 'password' },
      SESSION_REDIS_AUTH_TOKEN: { arn: EXISTING.cacheAuthToken, field: undefined },
      // The database's key signs the ids: every fleet on it shares it (an imported one, given to the import).
      SESSION_ID_KEYS: { arn: EXISTING.databaseSessionIdKey, field: undefined },
    });
  });

  test('database(db) alone runs without a cache', () => {
    const { config } = fleet((s) => SessionStrategy.database(s.database));
    expect(config.env.SESSION_DB_CACHE).toBe('false');
    expect(config.env.SESSION_REDIS_HOST).toBeUndefined();
  });

  test.each([
    ['redis', () => SessionStrategy.redis(), 'strategy: SessionStrategy.redis() needs its cache, got none; pass it (SessionStrategy.redis(cache) with a RedisSessionCache or RedisSessionCache.fromRedisSessionCacheAttributes(...)), or use SessionTier, which creates one'],
    ['file', () => SessionStrategy.file(), 'strategy: SessionStrategy.file() needs its fileSystem, got none'],
    ['database', () => SessionStrategy.database(), 'strategy: SessionStrategy.database() needs its database, got none'],
  ])('fails when a %s strategy has no store', (_, strategy, message) => {
    const stack = testStack();
    expect(() => new AppFleet(stack, 'Blue', { vpc: testVpc(stack), color: 'blue', strategy: strategy() })).toThrow(message);
  });

  test('a store of this library works the same way (RedisSessionCache, SessionFileSystem, SessionDatabase)', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const cache = new RedisSessionCache(stack, 'Cache', { vpc });
    const files = new SessionFileSystem(stack, 'Files', { vpc });
    const db = new SessionDatabase(stack, 'Db', { vpc });
    const blue = new AppFleet(stack, 'Blue', { vpc, color: 'blue', strategy: SessionStrategy.redis(cache) });
    const green = new AppFleet(stack, 'Green', { vpc, color: 'green', strategy: SessionStrategy.database(db, { cache }) });
    const third = new AppFleet(stack, 'Third', { vpc, color: 'blue', strategy: SessionStrategy.file(files) });
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [blue.targetGroup] });
    listener.addTargetGroups('More', { priority: 1, conditions: [elbv2.ListenerCondition.pathPatterns(['/g'])], targetGroups: [green.targetGroup] });
    listener.addTargetGroups('Third', { priority: 2, conditions: [elbv2.ListenerCondition.pathPatterns(['/t'])], targetGroups: [third.targetGroup] });
    const template = Template.fromStack(stack);
    expect(bootConfig(bootScriptOf(template, 'BlueLaunchTemplate')).env.SESSION_REDIS_PORT).toBe('6380');
    expect(bootConfig(bootScriptOf(template, 'GreenLaunchTemplate')).env.SESSION_DB_PORT).toBe('5433');
    expect(bootConfig(bootScriptOf(template, 'ThirdLaunchTemplate')).env.SESSION_FILE_DIR).toBe('/mnt/sessions');
  });
});

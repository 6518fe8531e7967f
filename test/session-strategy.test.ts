import { Stack } from 'aws-cdk-lib/core';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AppFleet, FleetColor, RedisSessionCache, SessionDatabase, SessionFileSystem, SessionStoreKind, SessionStrategy } from '../lib';
import { SESSION_STRATEGIES } from '../lib/contract/app-env';
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

  test('says which stores and keys it misses, and withStores fills only those', () => {
    const stack = testStack();
    const { cache, database } = importedStores(stack);
    const key = new secretsmanager.Secret(stack, 'Key');
    expect(SessionStrategy.memory().missingStores).toEqual([SessionStoreKind.SESSION_ID_KEY]);
    expect(SessionStrategy.cookie().missingStores).toEqual([SessionStoreKind.COOKIE_SECRET]);
    expect(SessionStrategy.cookie({ secret: key }).missingStores).toEqual([]);
    expect(SessionStrategy.redis().missingStores).toEqual([SessionStoreKind.CACHE]);
    expect(SessionStrategy.redis(cache).missingStores).toEqual([]);
    expect(SessionStrategy.file().missingStores).toEqual([SessionStoreKind.FILE_SYSTEM]);
    expect(SessionStrategy.database().missingStores).toEqual([SessionStoreKind.DATABASE, SessionStoreKind.CACHE]);
    // A database given alone runs without a cache; SessionTier does not add one.
    expect(SessionStrategy.database(database).missingStores).toEqual([]);
    const other = RedisSessionCache.fromRedisSessionCacheAttributes(stack, 'Other', {
      replicationGroupId: 'other', primaryEndpoint: 'other.example', securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'OtherSg', 'sg-0123456789abcdef0')],
    });
    expect(SessionStrategy.redis(cache).withStores({ cache: other }).stores.cache).toBe(cache);
    expect(SessionStrategy.redis().withStores({ cache: other }).stores.cache).toBe(other);
    expect(SessionStrategy.database().withStores({ cache, database }).stores).toMatchObject({ cache, database });
    expect(SessionStrategy.database(database).withStores({ cache }).stores.cache).toBeUndefined();
    expect(SessionStrategy.memory().withStores({ cache }).stores.cache).toBeUndefined();
    expect(SessionStrategy.memory().withStores({ sessionIdKey: key }).stores.sessionIdKey).toBe(key);
    expect(SessionStrategy.cookie().withStores({ cookieSecret: key }).stores.cookieSecret).toBe(key);
  });

  test('a strategy offered nothing it lacks is returned as it is, so the keys it made stay shared', () => {
    const stack = testStack();
    const { cache, fileSystem } = importedStores(stack);
    for (const strategy of SESSION_STRATEGIES.map((name) => SessionStrategy.fromName(name))) {
      expect(strategy.withStores({})).toBe(strategy);
    }
    const redis = SessionStrategy.redis(cache);
    expect(redis.withStores({ cache: importedStores(testStack()).cache, fileSystem })).toBe(redis);
  });
});

describe('a standalone AppFleet wires itself to the store of its strategy', () => {
  function fleet(strategy: (stores: ReturnType<typeof importedStores>) => SessionStrategy) {
    const stack = testStack();
    const vpc = testVpc(stack);
    const f = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: strategy(importedStores(stack)) });
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
    expect(() => new AppFleet(stack, 'Blue', { vpc: testVpc(stack), color: FleetColor.BLUE, strategy: strategy() })).toThrow(message);
  });

  test('a store of this library works the same way (RedisSessionCache, SessionFileSystem, SessionDatabase)', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const cache = new RedisSessionCache(stack, 'Cache', { vpc });
    const files = new SessionFileSystem(stack, 'Files', { vpc });
    const db = new SessionDatabase(stack, 'Db', { vpc });
    const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: SessionStrategy.redis(cache) });
    const green = new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN, strategy: SessionStrategy.database(db, { cache }) });
    const third = new AppFleet(stack, 'Third', { vpc, color: FleetColor.BLUE, strategy: SessionStrategy.file(files) });
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [blue.targetGroup] });
    listener.addTargetGroups('More', { priority: 1, conditions: [elbv2.ListenerCondition.pathPatterns(['/g'])], targetGroups: [green.targetGroup] });
    listener.addTargetGroups('Third', { priority: 2, conditions: [elbv2.ListenerCondition.pathPatterns(['/t'])], targetGroups: [third.targetGroup] });
    const template = Template.fromStack(stack);
    expect(bootConfig(bootScriptOf(template, 'BlueLaunchTemplate')).env.SESSION_REDIS_PORT).toBe('6380');
    expect(bootConfig(bootScriptOf(template, 'GreenLaunchTemplate')).env.SESSION_DB_PORT).toBe('5433');
    expect(bootConfig(bootScriptOf(template, 'ThirdLaunchTemplate')).env.SESSION_FILE_DIR).toBe('/mnt/sessions');
  });
});

describe('one strategy, one set of keys: every fleet a strategy object binds gets the same ones', () => {
  /** Blue and green built standalone from `strategy`, behind one listener; their boot configurations. */
  function twoFleets(strategy: (stack: Stack, vpc: ec2.IVpc) => SessionStrategy) {
    const stack = testStack();
    const vpc = testVpc(stack);
    const shared = strategy(stack, vpc);
    const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: shared });
    const green = new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN, strategy: shared });
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [blue.targetGroup] });
    listener.addTargetGroups('Green', { priority: 1, conditions: [elbv2.ListenerCondition.pathPatterns(['/g'])], targetGroups: [green.targetGroup] });
    const template = Template.fromStack(stack);
    const secretsOf = (prefix: string) => bootConfig(bootScriptOf(template, `${prefix}LaunchTemplate`)).secrets;
    return { blue, green, template, secrets: { blue: secretsOf('Blue'), green: secretsOf('Green') } };
  }
  const secretsIn = (template: Template) => Object.keys(template.findResources('AWS::SecretsManager::Secret'));

  test('cookie(): one sealing key, created beside the first fleet it binds', () => {
    const { blue, green, template, secrets } = twoFleets(() => SessionStrategy.cookie());
    expect(secretsIn(template).filter((id) => id.includes('CookieSecret'))).toEqual([expect.stringMatching(/^BlueCookieSecret[0-9A-F]{8}$/)]);
    expect(blue.cookieSecret).toBe(green.cookieSecret);
    expect(blue.cookieSecret!.node.path).toBe('Test/BlueCookieSecret');
    expect(secrets.green.SESSION_COOKIE_SECRETS).toEqual(secrets.blue.SESSION_COOKIE_SECRETS);
  });

  test('memory(): one session-id key for both fleets', () => {
    const { blue, green, secrets } = twoFleets(() => SessionStrategy.memory());
    expect(blue.sessionIdKey).toBe(green.sessionIdKey);
    expect(secrets.green.SESSION_ID_KEYS).toEqual(secrets.blue.SESSION_ID_KEYS);
    expect(secrets.blue.SESSION_ID_KEYS.arn).toMatch(/secret:BlueSessionIdKey[0-9A-F]{8}$/);
  });

  test('two strategy objects are two sets of keys (give both colors one object, or use SessionTier)', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const blue = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: SessionStrategy.cookie() });
    const green = new AppFleet(stack, 'Green', { vpc, color: FleetColor.GREEN, strategy: SessionStrategy.cookie() });
    expect(blue.cookieSecret).not.toBe(green.cookieSecret);
  });

  test.each([
    ['redis', (stack: Stack, vpc: ec2.IVpc) => SessionStrategy.redis(new RedisSessionCache(stack, 'Cache', { vpc })), 'CacheSessionIdKey'],
    ['file', (stack: Stack, vpc: ec2.IVpc) => SessionStrategy.file(new SessionFileSystem(stack, 'Files', { vpc })), 'FilesSessionIdKey'],
    ['database', (stack: Stack, vpc: ec2.IVpc) => SessionStrategy.database(new SessionDatabase(stack, 'Db', { vpc })), 'DbSessionIdKey'],
  ])('%s: the store\'s session-id key signs the ids of every fleet on it', (_, strategy, key) => {
    const { blue, green, secrets } = twoFleets(strategy);
    expect(secrets.blue.SESSION_ID_KEYS.arn).toMatch(new RegExp(`secret:${key}[0-9A-F]{8}$`));
    expect(secrets.green.SESSION_ID_KEYS).toEqual(secrets.blue.SESSION_ID_KEYS);
    expect(blue.sessionIdKey).toBe(green.sessionIdKey);
  });

  test('a store imported without its key leaves the ids unsigned, the same way on every fleet', () => {
    const { blue, secrets } = twoFleets((stack) => SessionStrategy.redis(importedStores(stack).cache));
    expect(secrets.blue.SESSION_ID_KEYS).toBeUndefined();
    expect(secrets.green.SESSION_ID_KEYS).toBeUndefined();
    expect(blue.sessionIdKey).toBeUndefined();
  });
});

describe('a store in another VPC than the fleet', () => {
  function build(store: (stack: Stack, storeVpc: ec2.IVpc) => SessionStrategy, storeVpcOf?: (stack: Stack, fleetVpc: ec2.IVpc) => ec2.IVpc) {
    const stack = testStack();
    const vpc = testVpc(stack);
    const storeVpc = storeVpcOf ? storeVpcOf(stack, vpc) : new ec2.Vpc(stack, 'StoreVpc', { maxAzs: 2, natGateways: 1 });
    const strategy = store(stack, storeVpc);
    return () => new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy });
  }

  test.each([
    ['redis', 'cache', (stack: Stack, vpc: ec2.IVpc) => SessionStrategy.redis(new RedisSessionCache(stack, 'Cache', { vpc }))],
    ['file', 'fileSystem', (stack: Stack, vpc: ec2.IVpc) => SessionStrategy.file(new SessionFileSystem(stack, 'Files', { vpc }))],
    ['database', 'database', (stack: Stack, vpc: ec2.IVpc) => SessionStrategy.database(new SessionDatabase(stack, 'Db', { vpc }))],
  ])('fails at synth for %s, naming both VPCs by their paths and the fix', (name, what, strategy) => {
    expect(build(strategy)).toThrow(
      `strategy: SessionStrategy.${name}()'s ${what} is in another VPC than the fleet, got the fleet in Test/Vpc and the ${what} in Test/StoreVpc; ` +
      `create the ${what} in the fleet's VPC (its vpc prop), or the fleet in the ${what}'s (at Test/Blue)`);
  });

  test('the database\'s write-through cache is checked too', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const other = new ec2.Vpc(stack, 'CacheVpc', { maxAzs: 2, natGateways: 1 });
    const strategy = SessionStrategy.database(new SessionDatabase(stack, 'Db', { vpc }), { cache: new RedisSessionCache(stack, 'Cache', { vpc: other }) });
    expect(() => new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy })).toThrow(
      "strategy: SessionStrategy.database()'s cache is in another VPC than the fleet, got the fleet in Test/Vpc and the cache in Test/CacheVpc;");
  });

  test('two imported VPCs with known ids that differ are named with them', () => {
    const imported = (stack: Stack, id: string, vpcId: string) => ec2.Vpc.fromVpcAttributes(stack, id, {
      vpcId, availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: [`subnet-${id}a`, `subnet-${id}b`],
    });
    const stack = testStack();
    const fleetVpc = imported(stack, 'Shared', 'vpc-0aaaaaaaaaaaaaaaa');
    const strategy = SessionStrategy.redis(new RedisSessionCache(stack, 'Cache', { vpc: imported(stack, 'Other', 'vpc-0bbbbbbbbbbbbbbbb') }));
    expect(() => new AppFleet(stack, 'Blue', { vpc: fleetVpc, color: FleetColor.BLUE, strategy })).toThrow(
      /got the fleet in Test\/Shared \(vpc-0aaaaaaaaaaaaaaaa\) and the cache in Test\/Other \(vpc-0bbbbbbbbbbbbbbbb\);/);
    // The same VPC imported twice is one VPC.
    const again = testStack();
    const same = SessionStrategy.redis(new RedisSessionCache(again, 'Cache', { vpc: imported(again, 'Other', 'vpc-0aaaaaaaaaaaaaaaa') }));
    expect(() => new AppFleet(again, 'Blue', { vpc: imported(again, 'Shared', 'vpc-0aaaaaaaaaaaaaaaa'), color: FleetColor.BLUE, strategy: same })).not.toThrow();
  });

  test('passes when the store is in the fleet\'s VPC, and when the store does not say where it is', () => {
    expect(build((stack, vpc) => SessionStrategy.redis(new RedisSessionCache(stack, 'Cache', { vpc })), (_, fleetVpc) => fleetVpc)).not.toThrow();
    // An import (today\'s RedisSessionCache.fromAttributes) knows no VPC: not checked.
    expect(build((stack) => SessionStrategy.redis(importedStores(stack).cache))).not.toThrow();
  });
});

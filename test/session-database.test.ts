import { CfnParameter, CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DatabaseEngine, SessionDatabase, SessionDatabaseProps } from '../lib';
import { vpcFunctionRoleViolations } from './contracts/lambda-vpc';
import { testStack, testVpc } from './helpers/app';

function database(props: Partial<SessionDatabaseProps> = {}) {
  const stack = testStack();
  const vpc = testVpc(stack);
  const db = new SessionDatabase(stack, 'Db', { vpc, ...props });
  return { stack, vpc, db, template: () => Template.fromStack(stack) };
}

const PRIMARY = { SourceDBInstanceIdentifier: Match.absent() };
const REPLICA = { SourceDBInstanceIdentifier: Match.anyValue() };

describe('SessionDatabase defaults', () => {
  const { db, template } = database();
  const t = template();

  test('PostgreSQL 17 on db.t4g.medium, Multi-AZ, encrypted gp3 that grows from 20 to 100 GiB, private', () => {
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      ...PRIMARY,
      Engine: 'postgres',
      EngineVersion: '17',
      DBInstanceClass: 'db.t4g.medium',
      MultiAZ: true,
      StorageType: 'gp3',
      StorageEncrypted: true,
      AllocatedStorage: '20',
      MaxAllocatedStorage: 100,
      PubliclyAccessible: false,
      Port: '5433',
      DBName: 'sessions',
    });
  });

  test('credentials generated in Secrets Manager and passed only by dynamic reference', () => {
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"sessions_admin"}', GenerateStringKey: 'password' }),
    });
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      ...PRIMARY,
      MasterUserPassword: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('resolve:secretsmanager'), Match.stringLikeRegexp(':SecretString:password::}}')])] },
    });
    expect(db.secret).toBeDefined();
  });

  test('backups for 7 days, deletion protection, a snapshot on removal, Database Insights, logs exported', () => {
    t.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        ...PRIMARY,
        BackupRetentionPeriod: 7,
        DeletionProtection: true,
        EnablePerformanceInsights: true,
        PerformanceInsightsRetentionPeriod: 7,
        DatabaseInsightsMode: 'standard',
        EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
        AutoMinorVersionUpgrade: true,
        CopyTagsToSnapshot: true,
      }),
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
  });

  test('the server refuses clients without TLS and logs slow statements', () => {
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: { 'rds.force_ssl': '1', 'log_min_duration_statement': '1000' },
    });
  });

  test('one read replica of the primary, same instance type, gp3, own endpoint output; no proxy', () => {
    t.resourcePropertiesCountIs('AWS::RDS::DBInstance', REPLICA, 1);
    t.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        SourceDBInstanceIdentifier: { 'Fn::Join': Match.anyValue() },
        DBInstanceClass: 'db.t4g.medium',
        StorageType: 'gp3',
        StorageEncrypted: Match.absent(), // inherited from the encrypted primary
        Port: '5433',
        AvailabilityZone: 'eu-west-1a',
        DeletionProtection: false,
      }),
      DeletionPolicy: 'Delete',
    });
    t.hasOutput('*', { Description: 'Read replica 1 of the session database (host:port)' });
    t.resourceCountIs('AWS::RDS::DBProxy', 0);
    expect(db.replicaEndpoints).toHaveLength(1);
    expect(db.writerEndpoint).toBe(db.primaryEndpoint);
  });

  test('creates the key that signs its sessions\' ids in its constructor, and knows its VPC', () => {
    expect(Stack.of(db).resolve((db.sessionIdKey as secretsmanager.Secret).secretArn)).toEqual({ Ref: expect.stringMatching(/^DbSessionIdKey[0-9A-F]{8}$/) });
    t.hasResourceProperties('AWS::SecretsManager::Secret', { Description: 'Signs the session ids of the session tier\'s database strategy (HMAC key)' });
    expect(db.vpc).toBeDefined();
  });

  test('primary and replicas in closed security groups: no ingress until allowed, but the setup\'s to the primary', () => {
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSetupSecurityGroup'), 'GroupId'] },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('^Session database primary'), SecurityGroupIngress: Match.absent() });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('^Session database replicas'), SecurityGroupIngress: Match.absent() });
  });

  test('the setup waits for the rules that let it reach the primary, in and out: they take their port from the instance, so nothing else orders them first', () => {
    const setupGroup = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSetupSecurityGroup'), 'GroupId'] };
    const primaryGroup = { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSecurityGroup'), 'GroupId'] };
    const port = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Db[A-F0-9]+$'), 'Endpoint.Port'] };
    const rules = [
      ...Object.keys(t.findResources('AWS::EC2::SecurityGroupIngress', { Properties: { GroupId: primaryGroup, SourceSecurityGroupId: setupGroup, FromPort: port } })),
      ...Object.keys(t.findResources('AWS::EC2::SecurityGroupEgress', { Properties: { GroupId: setupGroup, DestinationSecurityGroupId: primaryGroup, FromPort: port } })),
    ];
    expect(rules).toHaveLength(2);
    const [setup] = Object.values(t.findResources('Custom::SessionDatabaseSetup'));
    expect(setup.DependsOn).toEqual(expect.arrayContaining(rules));
  });
});

describe('SessionDatabase least privilege and Control Tower defaults', () => {
  const { stack, db, template } = database({ proxy: true });
  const fleetRole = new iam.Role(stack, 'FleetRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  db.grantReadCredentials(fleetRole);
  const t = template();
  const logicalId = (secret: unknown) => stack.resolve((secret as { secretArn: string }).secretArn).Ref as string;

  test('the credentials clients read are the application user\'s secret, not the master secret', () => {
    expect(logicalId(db.credentials)).toMatch(/^DbAppCredentials/);
    expect(logicalId(db.credentials)).not.toBe(logicalId(db.secret));
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"sessions_app"}', GenerateStringKey: 'password', ExcludePunctuation: true }),
    });
  });

  test('only the setup function reads the master secret', () => {
    const readers = Object.entries(t.findResources('AWS::IAM::Policy'))
      .filter(([, r]) => JSON.stringify(r.Properties.PolicyDocument).includes(logicalId(db.secret)))
      .flatMap(([, r]) => r.Properties.Roles.map((role: { Ref: string }) => role.Ref));
    expect(readers).toEqual([expect.stringMatching(/^DbSetupHandlerRole/)]);
  });

  test('a one-time setup in the VPC signs in to the primary and creates the table and the application user', () => {
    t.hasResourceProperties('Custom::SessionDatabaseSetup', {
      Engine: 'postgres',
      Host: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Db[A-F0-9]+$'), 'Endpoint.Address'] },
      Port: '5433',
      Database: 'sessions',
      MasterSecretArn: { Ref: Match.stringLikeRegexp('^DbSecret') },
      AppSecretArn: { Ref: Match.stringLikeRegexp('^DbAppCredentials') },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.onEvent',
      Description: Match.stringLikeRegexp('^Session database setup'),
      VpcConfig: { SubnetIds: Match.anyValue(), SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSetupSecurityGroup'), 'GroupId'] }] },
    });
    expect(db.readyForClients).toBeDefined();
  });

  test('the setup carries the hash of its handler\'s code, the asset Lambda runs, so a new release\'s setup changes the resource and runs', () => {
    const [setup] = Object.values(t.findResources('Custom::SessionDatabaseSetup'));
    const [handler] = Object.values(t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Session database setup') } }));
    expect(setup.Properties.CodeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(handler.Properties.Code.S3Key).toBe(`${setup.Properties.CodeHash}.zip`);
  });

  test('the setup function\'s role carries AWSLambdaVPCAccessExecutionRole: Lambda creates no function in a VPC without it', () => {
    const [role] = Object.entries(t.findResources('AWS::IAM::Role')).filter(([id]) => /^DbSetupHandlerRole/.test(id)).map(([, r]) => r);
    expect(role.Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] },
    ]);
    expect(vpcFunctionRoleViolations(t.toJSON())).toEqual([]);
  });

  test('IAM database authentication, enhanced monitoring every minute, and a customer managed key', () => {
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      ...PRIMARY,
      EnableIAMDatabaseAuthentication: true,
      MonitoringInterval: 60,
      MonitoringRoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbMonitoringRole'), 'Arn'] },
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbStorageKey'), 'Arn'] },
    });
  });

  test('MySQL: the proxy takes caching_sha2_password, the default of MySQL 8.4 users', () => {
    database({ engine: DatabaseEngine.MYSQL, proxy: true }).template().hasResourceProperties('AWS::RDS::DBProxy', {
      Auth: [Match.objectLike({ ClientPasswordAuthType: 'MYSQL_CACHING_SHA2_PASSWORD' })],
    });
  });

  test('fails when the monitoring interval is one RDS does not take', () => {
    expect(() => database({ monitoringInterval: Duration.seconds(2) })).toThrow(
      /monitoringInterval: must be 1, 5, 10, 15, 30 or 60 seconds \(what RDS enhanced monitoring takes\), got 2 seconds/);
  });
});

describe('SessionDatabase options', () => {
  test('MySQL 8.4.10 on port 3307 requires TLS and exports every log type MySQL has', () => {
    const t = database({ engine: DatabaseEngine.MYSQL }).template();
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      ...PRIMARY, Engine: 'mysql', EngineVersion: '8.4.10', Port: '3307', EnableCloudwatchLogsExports: ['audit', 'error', 'general', 'slowquery'],
    });
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'mysql8.4',
      Parameters: { require_secure_transport: 'ON', slow_query_log: '1', long_query_time: '1', log_output: 'FILE' },
    });
  });

  test('15 replicas, spread over the Availability Zones', () => {
    const { db, template } = database({ readReplicas: 15 });
    const t = template();
    t.resourcePropertiesCountIs('AWS::RDS::DBInstance', REPLICA, 15);
    t.resourcePropertiesCountIs('AWS::RDS::DBInstance', { ...REPLICA, AvailabilityZone: 'eu-west-1b' }, 7);
    t.resourceCountIs('AWS::RDS::DBSubnetGroup', 1);
    expect(db.replicas).toHaveLength(15);
    expect(db.replicaEndpoints).toHaveLength(15);
  });

  test('no replicas', () => {
    const t = database({ readReplicas: 0 }).template();
    t.resourcePropertiesCountIs('AWS::RDS::DBInstance', REPLICA, 0);
    t.resourceCountIs('AWS::EC2::SecurityGroup', 2); // the primary's and the setup's; no replica group
    t.resourceCountIs('AWS::RDS::DBSubnetGroup', 1);
  });

  test('with a proxy: TLS required, the secret, the primary as target, the writer endpoint is the proxy on the default port', () => {
    const { db, template } = database({ proxy: true });
    const t = template();
    t.hasResourceProperties('AWS::RDS::DBProxy', {
      EngineFamily: 'POSTGRESQL',
      RequireTLS: true,
      // Clients sign in as the application user, never as the master user.
      Auth: [{ AuthScheme: 'SECRETS', IAMAuth: 'DISABLED', ClientPasswordAuthType: 'POSTGRES_SCRAM_SHA_256', SecretArn: { Ref: Match.stringLikeRegexp('^DbAppCredentials') } }],
    });
    t.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', { DBInstanceIdentifiers: [{ Ref: Match.stringLikeRegexp('^Db[A-F0-9]+$') }] });
    // The proxy reaches the primary on the primary's port.
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Db[A-F0-9]+$'), 'Endpoint.Port'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbProxySecurityGroup'), 'GroupId'] },
    });
    expect(db.writerEndpoint.port).toBe(5432);
    expect(db.writerEndpoint).not.toBe(db.primaryEndpoint);
  });

  test('allowFrom opens the writer and the replicas, each on its port, to that peer only', () => {
    const { stack, vpc, db, template } = database({ proxy: true, readReplicas: 3 });
    const fleet = new ec2.SecurityGroup(stack, 'Fleet', { vpc });
    db.allowFrom(fleet, 'fleet');
    const t = template();
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbProxySecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Fleet'), 'GroupId'] },
      FromPort: 5432,
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbReplicaSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Fleet'), 'GroupId'] },
    });
    // The fleet never reaches the primary around the proxy.
    t.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Fleet'), 'GroupId'] },
    }, 0);
  });

  test('grantReadCredentials lets the grantee read the application user\'s credentials', () => {
    const { stack, db, template } = database();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    db.grantReadCredentials(role);
    template().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: Match.arrayWith(['secretsmanager:GetSecretValue']), Resource: { Ref: Match.stringLikeRegexp('^DbAppCredentials') },
      })]) },
    });
  });

  test('is a Resource of its stack: applyRemovalPolicy reaches the primary, and the replicas stay deletable', () => {
    const { stack, db, template } = database();
    expect(db.stack).toBe(stack);
    db.applyRemovalPolicy(RemovalPolicy.RETAIN);
    template().hasResource('AWS::RDS::DBInstance', { Properties: Match.objectLike(PRIMARY), DeletionPolicy: 'Retain' });
    template().hasResource('AWS::RDS::DBInstance', { Properties: Match.objectLike(REPLICA), DeletionPolicy: 'Delete' });
  });

  test('its connections are the writer\'s: the proxy\'s on the proxy\'s port, else the primary\'s', () => {
    const { stack, vpc, db, template } = database({ proxy: true });
    db.connections.allowDefaultPortFrom(new ec2.SecurityGroup(stack, 'Client', { vpc }));
    template().hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbProxySecurityGroup'), 'GroupId'] }, FromPort: 5432, ToPort: 5432,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Client'), 'GroupId'] },
    });
    const direct = database().db;
    expect(direct.connections).toBe(direct.instance.connections);
  });

  test('removal policy, deletion protection, retention, version and insights are props', () => {
    const t = database({
      removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false, backupRetention: Duration.days(14), engineVersion: '16.4',
      databaseInsightsMode: rds.DatabaseInsightsMode.ADVANCED,
    }).template();
    t.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        ...PRIMARY, DeletionProtection: false, BackupRetentionPeriod: 14, EngineVersion: '16.4',
        DatabaseInsightsMode: 'advanced', PerformanceInsightsRetentionPeriod: 465,
      }),
      DeletionPolicy: 'Delete',
    });
  });

  test('metrics keep aws-cdk-lib\'s names and take an options object: CPU and connections of each instance, replica lag per replica', () => {
    const { db } = database({ readReplicas: 2 });
    const of = (i: number) => ({ DBInstanceIdentifier: i === 0 ? db.instance.instanceIdentifier : db.replicas[i - 1].instanceIdentifier });
    expect([db.metricCPUUtilization(), db.metricDatabaseConnections(), db.metricFreeStorageSpace(), db.metricReplicaLag()]
      .map((m) => [m.metricName, m.statistic, m.period.toMinutes(), m.dimensions])).toEqual([
      ['CPUUtilization', 'Average', 5, of(0)], ['DatabaseConnections', 'Average', 5, of(0)],
      ['FreeStorageSpace', 'Average', 5, of(0)], ['ReplicaLag', 'Maximum', 5, of(1)],
    ]);
    expect(db.metricDatabaseConnections({ replica: 2 }).dimensions).toEqual(of(2));
    const lag = db.metricReplicaLag({ replica: 2, period: Duration.minutes(1) });
    expect([lag.dimensions, lag.period.toMinutes()]).toEqual([of(2), 1]);
    expect(() => db.metricReplicaLag({ replica: 0 })).toThrow('replica: the primary has no replica lag, got 0; use 1 to 2');
    expect(() => db.metricCPUUtilization({ replica: 3 })).toThrow('replica: must be 0 (the primary) to 2, got 3');
  });

  test('fails for a replica index only known at deploy time, without printing it', () => {
    const { stack, db } = database({ readReplicas: 2 });
    const replica = new CfnParameter(stack, 'Replica', { type: 'Number' }).valueAsNumber;
    expect(() => db.metricCPUUtilization({ replica })).toThrow(/^replica: must be 0 \(the primary\) to 2, got a value known only at deploy time \(at Test\/Db\)$/);
  });
});

describe('SessionDatabase validation', () => {
  test.each([
    [{ readReplicas: 16 }, 'readReplicas: must be a whole number from 0 to 15, got 16; RDS allows at most 15 read replicas per PostgreSQL instance'],
    [{ readReplicas: 1.5 }, 'readReplicas: must be a whole number from 0 to 15'],
    [{ readReplicas: 2, backupRetention: Duration.days(0) }, 'backupRetention: read replicas need automated backups on the primary, got 0 days with readReplicas 2; keep backups 1 to 35 days'],
    [{ readReplicas: 0, backupRetention: Duration.days(0) }, 'backupRetention: must be whole days from 1 to 35, got 0 days'],
    [{ backupRetention: Duration.days(36) }, 'backupRetention: must be whole days from 1 to 35, got 36 days'],
    [{ backupRetention: Duration.hours(30) }, 'backupRetention: must be whole days from 1 to 35, got 1 day 6 hours'],
    [{ engineVersion: 'latest' }, 'engineVersion: must be a PostgreSQL version like 17 or 17.6, got "latest"'],
    [{ engine: DatabaseEngine.MYSQL, engineVersion: '17' }, 'engineVersion: must be a MySQL version like 8.4 or 8.0.42, got "17"'],
    [{ allocatedStorage: 10 }, 'allocatedStorage: must be a whole number from 20 to 65536, got 10; GiB of gp3 storage, 20 at least'],
    [{ allocatedStorage: 200, maxAllocatedStorage: 100 }, 'maxAllocatedStorage: must be above allocatedStorage (200), got 100; storage autoscaling grows from one to the other'],
    [{ maxAllocatedStorage: 70000 }, 'maxAllocatedStorage: must be a whole number of at most 65536, got 70000; GiB'],
    [{ databaseName: 'my-sessions' }, 'databaseName: must start with a letter and hold only letters, digits and underscores, 1 to 63 characters, got "my-sessions"'],
    [{ port: 80 }, 'port: must be a whole number from 1150 to 65535, got 80; the RDS range'],
  ])('%j fails with a message naming the prop, the value and what is allowed', (props, message) => {
    expect(() => database(props as Partial<SessionDatabaseProps>)).toThrow(message);
  });

  test('numbers and durations given as CloudFormation parameters pass synth, reach the template as references, and no message prints them', () => {
    const stack = testStack();
    const number = (id: string) => new CfnParameter(stack, id, { type: 'Number' }).valueAsNumber;
    new SessionDatabase(stack, 'Db', {
      vpc: testVpc(stack), port: number('Port'), allocatedStorage: number('Storage'), maxAllocatedStorage: number('MaxStorage'),
      backupRetention: Duration.days(number('BackupDays')), monitoringInterval: Duration.seconds(number('Monitoring')),
      databaseName: new CfnParameter(stack, 'Name').valueAsString,
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      ...PRIMARY, Port: { Ref: 'Port' }, AllocatedStorage: { Ref: 'Storage' }, MaxAllocatedStorage: { Ref: 'MaxStorage' },
      BackupRetentionPeriod: { Ref: 'BackupDays' }, MonitoringInterval: { Ref: 'Monitoring' }, DBName: { Ref: 'Name' },
    });
    t.hasResourceProperties('Custom::SessionDatabaseSetup', { Port: { Ref: 'Port' }, Database: { Ref: 'Name' } });
    t.hasOutput('*', { Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DbReplica1'), 'Endpoint.Address'] }, ':', { Ref: 'Port' }]] } });
    // The template, the warnings, and the reasons of the acknowledged cdk-nag findings, which name the port.
    const reasons = stack.node.findAll().flatMap((c) => c.node.metadata).filter((m) => m.type === 'aws:cdk:acknowledged-rules');
    expect(JSON.stringify(reasons)).toContain('The replica listens on the port prop');
    const everything = JSON.stringify(t.toJSON()) + JSON.stringify(Annotations.fromStack(stack).findWarning('*', Match.anyValue())) + JSON.stringify(reasons);
    expect(everything).not.toMatch(/e\+289|\$\{Token/);
  });

  test('fails, without printing a token, for what must be known at synth: how many replicas, and the engine version', () => {
    const stack = testStack();
    expect(() => new SessionDatabase(stack, 'Db', {
      vpc: testVpc(stack), readReplicas: new CfnParameter(stack, 'Replicas', { type: 'Number' }).valueAsNumber,
      engineVersion: new CfnParameter(stack, 'Version').valueAsString,
    })).toThrow(/^2 problems \(at Test\/Db\):\n {2}- readReplicas: must be known at synth \(it decides how many replicas to create\), got a value known only at deploy time; pass a number from 0 to 15\n {2}- engineVersion: must be known at synth .*got a value known only at deploy time; pass a version like 17$/);
  });

  test('Multi-AZ needs subnets in two Availability Zones', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1 });
    expect(() => new SessionDatabase(stack, 'Db', { vpc })).toThrow('vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got 1');
  });

  test('reports every problem at once, with the construct path', () => {
    expect(() => database({ readReplicas: 20, port: 1 })).toThrow(/^2 problems \(at Test\/Db\):\n {2}- readReplicas: .*\n {2}- port: /);
  });
});

describe('SessionDatabase.fromSessionDatabaseAttributes', () => {
  test('fails for a proxy without its security groups, and for a bad database name', () => {
    const stack = testStack();
    const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Primary', {
      instanceIdentifier: 'primary', instanceEndpointAddress: 'p.example', port: 5432, securityGroups: [],
    });
    const proxy = rds.DatabaseProxy.fromDatabaseProxyAttributes(stack, 'Proxy', {
      dbProxyName: 'proxy', dbProxyArn: 'arn:aws:rds:eu-west-1:123456789012:db-proxy:prx-0123456789abcdef0', endpoint: 'proxy.example', securityGroups: [],
    });
    const credentials = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Creds', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf');
    expect(() => SessionDatabase.fromSessionDatabaseAttributes(stack, 'Db', { engine: DatabaseEngine.POSTGRES, instance, credentials, proxy, databaseName: '1x' }))
      .toThrow(/proxySecurityGroups: a proxy needs its security groups[\s\S]*databaseName: must start with a letter/);
  });

  test('writes go to the proxy on the engine\'s port, reads to the replicas', () => {
    const stack = testStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0');
    const instance = (id: string, host: string) => rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, id, {
      instanceIdentifier: id, instanceEndpointAddress: host, port: 3307, securityGroups: [sg],
    });
    const proxy = rds.DatabaseProxy.fromDatabaseProxyAttributes(stack, 'Proxy', {
      dbProxyName: 'proxy', dbProxyArn: 'arn:aws:rds:eu-west-1:123456789012:db-proxy:prx-0123456789abcdef0', endpoint: 'proxy.example', securityGroups: [sg],
    });
    const db = SessionDatabase.fromSessionDatabaseAttributes(stack, 'Db', {
      engine: DatabaseEngine.MYSQL, instance: instance('primary', 'p.example'), readReplicas: [instance('r1', 'r1.example')], proxy, proxySecurityGroups: [sg],
      credentials: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Creds', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf'),
      sessionIdKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ids-AbCdEf'),
    });
    expect(db.writerEndpoint).toEqual({ hostname: 'proxy.example', port: 3306 });
    expect(db.replicaEndpoints).toEqual([{ hostname: 'r1.example', port: 3307 }]);
    expect(db.replicaCount).toBe(1);
  });

  test('an import creates nothing: the session-id key is an attribute, the connections are the writer\'s', () => {
    const stack = testStack();
    const sg = (id: string) => ec2.SecurityGroup.fromSecurityGroupId(stack, id, `sg-0123456789abcdef${id.length}`);
    const primary = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Primary', {
      instanceIdentifier: 'primary', instanceEndpointAddress: 'p.example', port: 5432, securityGroups: [sg('PrimarySg')],
    });
    const credentials = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Creds', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'] });
    const db = SessionDatabase.fromSessionDatabaseAttributes(stack, 'Db', { engine: DatabaseEngine.POSTGRES, instance: primary, credentials, vpc });
    expect([db.sessionIdKey, db.vpc, db.connections]).toEqual([undefined, vpc, primary.connections]);
    expect(stack.node.findAll().filter(CfnResource.isCfnResource)).toEqual([]);
  });

  test('fails for an import with read replicas but no session-id key, naming the prop and the fix', () => {
    const stack = testStack();
    const instance = (id: string) => rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, id, {
      instanceIdentifier: id, instanceEndpointAddress: `${id}.example`, port: 5432, securityGroups: [],
    });
    const credentials = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Creds', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf');
    expect(() => SessionDatabase.fromSessionDatabaseAttributes(stack, 'Db', {
      engine: DatabaseEngine.POSTGRES, instance: instance('primary'), readReplicas: [instance('r1'), instance('r2')], credentials,
    })).toThrow('sessionIdKey: required with readReplicas (the app reads from replicas only with signed session ids), got none with 2 read replica(s); '
      + 'pass sessionIdKey, a secret of at least 32 characters, or no readReplicas (at Test/Db)');
  });
});

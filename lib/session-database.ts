import { CfnOutput, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { APP_DATABASE_USER } from './contract/database-setup';
import { SessionTierValidationError } from './errors';
import { acknowledgeNag } from './private/acknowledgements';
import { DatabaseSetup } from './private/database-setup';
import { DEFAULT_LOG_RETENTION, customerManagedKey, logsKey } from './private/keys';
import { ProblemList } from './private/problems';
import { createSessionIdKey } from './private/session-keys';

/** The engines the `database` strategy runs on. */
export enum DatabaseEngine {
  /** PostgreSQL. */
  POSTGRES = 'postgres',
  /** MySQL (the app's MySQL dialect also speaks to MariaDB). */
  MYSQL = 'mysql',
}

/** The most read replicas RDS allows for one PostgreSQL or MySQL instance. */
export const MAX_READ_REPLICAS = 15;

/** Where a client reaches one database endpoint. */
export interface DatabaseEndpoint {
  /** Host name. */
  readonly hostname: string;
  /** Port. */
  readonly port: number;
}

/** Properties of a {@link SessionDatabase}. */
export interface SessionDatabaseProps {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets for the primary, its standby and the replicas: private ones in at least two Availability Zones.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The engine.
   * @default DatabaseEngine.POSTGRES
   */
  readonly engine?: DatabaseEngine;

  /**
   * The engine version: a major version (RDS picks its default minor and
   * upgrades minors in the maintenance window) or a full one.
   * @default '17' for PostgreSQL (RDS picks the minor), '8.4.10' for MySQL (RDS takes only full MySQL versions)
   */
  readonly engineVersion?: string;

  /**
   * Instance type of the primary and of every replica (a replica smaller
   * than its primary falls behind under write load).
   * @default db.t4g.medium (the smallest Graviton size with Performance Insights)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Read replicas, 0 to 15 (the RDS limit for PostgreSQL and MySQL). They take
   * the session reads off the primary; a replica that is down or behind is
   * skipped by the app.
   * @default 1
   */
  readonly readReplicas?: number;

  /**
   * Keep a synchronous standby of the primary in another Availability Zone
   * and fail over to it automatically.
   * @default true
   */
  readonly multiAz?: boolean;

  /**
   * Put an RDS Proxy in front of the primary, so many app processes share a
   * few database connections and a failover does not drop them. Replicas are
   * reached directly: proxy read-only endpoints serve Aurora clusters only,
   * not RDS instances.
   * @default false
   */
  readonly proxy?: boolean;

  /**
   * Initial storage, in GiB (gp3, encrypted); it grows by itself up to `maxAllocatedStorage`.
   * @default 20
   */
  readonly allocatedStorage?: number;

  /**
   * Most storage, in GiB, that storage autoscaling may grow to.
   * @default 100
   */
  readonly maxAllocatedStorage?: number;

  /**
   * Key for the storage, the snapshots and the replicas.
   * @default a new customer managed key, rotated (Control Tower CT.RDS.PR.30)
   */
  readonly storageEncryptionKey?: kms.IKey;

  /**
   * How often RDS enhanced monitoring samples the operating system of the
   * primary and the replicas (1, 5, 10, 15, 30 or 60 seconds).
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;

  /**
   * The key the setup function's log groups are encrypted with; its policy must let CloudWatch Logs use it.
   * @default a new customer managed key, rotated, for log groups of this account only
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * How long automated backups are kept: 1 to 35 days. Read replicas need
   * backups on the primary.
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;

  /**
   * Refuse to delete the primary (the replicas hold nothing it lacks).
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the primary when it leaves the stack.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The database the sessions table lives in.
   * @default 'sessions'
   */
  readonly databaseName?: string;

  /**
   * Port the primary and the replicas listen on; not the engine's default,
   * so scanners looking for open databases find nothing. The proxy, if any,
   * listens on the engine's default port (RDS Proxy does not let you choose).
   * @default 5433 for PostgreSQL, 3307 for MySQL
   */
  readonly port?: number;

  /**
   * Database Insights mode (Performance Insights is on in either).
   * @default rds.DatabaseInsightsMode.STANDARD (7 days of Performance Insights, free)
   */
  readonly databaseInsightsMode?: rds.DatabaseInsightsMode;
}

/** Options of the database's metrics: which instance, and the usual metric options. */
export interface DatabaseMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The instance: 0 for the primary, 1 to n for the read replicas in order.
   * @default 0 (1 for the replica lag, which only replicas report)
   */
  readonly replica?: number;
}

/**
 * A database the `database` strategy keeps sessions in: a
 * {@link SessionDatabase}, or yours through `SessionDatabase.fromAttributes`.
 */
export interface ISessionDatabase {
  /** The engine. */
  readonly engine: DatabaseEngine;
  /** The database (schema) that holds the sessions table. */
  readonly databaseName: string;
  /** Where every write goes: the proxy when there is one, else the primary. */
  readonly writerEndpoint: DatabaseEndpoint;
  /** The read replicas, in order. */
  readonly replicaEndpoints: DatabaseEndpoint[];
  /** The credentials the app signs in with: a JSON secret with `username` and `password`. */
  readonly credentials: secretsmanager.ISecret;
  /** How many read replicas there are. */
  readonly replicaCount: number;
  /**
   * The key that signs session ids, shared by every fleet on this database (so
   * a user keeps the session moving between them); created on first use.
   */
  readonly sessionIdKey: secretsmanager.ISecret;
  /**
   * What a client waits for before it signs in with `credentials`: the setup
   * that creates the sessions table and the application user. None for a database of yours.
   */
  readonly readyForClients?: IDependable;
  /** Opens the writer (proxy or primary) and every replica to `peer`, each on its own port, and nothing else. */
  allowFrom(peer: ec2.IConnectable, description?: string): void;
  /** Lets `grantee` read the credentials the app signs in with (`secretsmanager:GetSecretValue` and `DescribeSecret`). */
  grantReadCredentials(grantee: iam.IGrantable): iam.Grant;
  /** CPU, in percent. @default Average over 5 minutes, of the primary */
  metricCpu(options?: DatabaseMetricOptions): cloudwatch.Metric;
  /** Open connections. @default Average over 5 minutes, of the primary */
  metricConnections(options?: DatabaseMetricOptions): cloudwatch.Metric;
  /** How far a replica is behind the primary, in seconds. @default Maximum over 5 minutes, of replica 1 */
  metricReplicaLag(options?: DatabaseMetricOptions): cloudwatch.Metric;
}

/** An existing database, as `SessionDatabase.fromAttributes` takes it. */
export interface SessionDatabaseAttributes {
  /** The engine. */
  readonly engine: DatabaseEngine;
  /** The primary, e.g. `rds.DatabaseInstance.fromDatabaseInstanceAttributes(...)` with its security groups. */
  readonly instance: rds.IDatabaseInstance;
  /**
   * What the app signs in with: a JSON secret with `username` and `password`
   * (an RDS-style secret), best a user that may use the sessions table alone.
   * The app creates the table when it is missing, so a user without CREATE
   * needs the table to exist.
   */
  readonly credentials: secretsmanager.ISecret;
  /**
   * The database (schema) that holds, or will hold, the sessions table.
   * @default 'sessions'
   */
  readonly databaseName?: string;
  /**
   * Read replicas the app reads from, in order.
   * @default none: every read goes to the primary
   */
  readonly readReplicas?: rds.IDatabaseInstance[];
  /**
   * An RDS Proxy in front of the primary that takes the writes.
   * @default no proxy: writes go to the primary
   */
  readonly proxy?: rds.IDatabaseProxy;
  /**
   * The proxy's security groups; fleets are let in through them.
   * @default none; required with `proxy`
   */
  readonly proxySecurityGroups?: ec2.ISecurityGroup[];
}

/** What our database and an imported one do the same way: access, grants and metrics. */
abstract class SessionDatabaseBase extends Construct implements ISessionDatabase {
  public abstract readonly engine: DatabaseEngine;
  public abstract readonly databaseName: string;
  public abstract readonly writerEndpoint: DatabaseEndpoint;
  public abstract readonly replicaEndpoints: DatabaseEndpoint[];
  public abstract readonly credentials: secretsmanager.ISecret;
  public abstract readonly readyForClients?: IDependable;
  protected abstract readonly primary: rds.IDatabaseInstance;
  protected abstract readonly readers: readonly rds.IDatabaseInstance[];
  /** The proxy's security group rules, when a proxy takes the writes. */
  protected abstract readonly proxyConnections?: ec2.Connections;

  private idKey?: secretsmanager.ISecret;

  public get replicaCount(): number {
    return this.readers.length;
  }

  public get sessionIdKey(): secretsmanager.ISecret {
    this.idKey ??= createSessionIdKey(this, 'SessionIdKey');
    return this.idKey;
  }

  public allowFrom(peer: ec2.IConnectable, description = 'session database clients'): void {
    if (this.proxyConnections) {
      this.proxyConnections.allowFrom(peer, ec2.Port.tcp(this.writerEndpoint.port), description);
    } else {
      this.primary.connections.allowDefaultPortFrom(peer, description);
    }
    // Replicas that share a security group need one rule.
    const opened = new Set<ec2.ISecurityGroup>();
    for (const replica of this.readers) {
      const groups = replica.connections.securityGroups;
      if (groups.length > 0 && groups.every((g) => opened.has(g))) {
        continue;
      }
      groups.forEach((g) => opened.add(g));
      replica.connections.allowDefaultPortFrom(peer, description);
    }
  }

  public grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    return this.credentials.grantRead(grantee);
  }

  /**
   * @deprecated aws-cdk-lib's `grantConnect` grants `rds-db:connect`; this
   * reads the credentials: use {@link grantReadCredentials}
   */
  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadCredentials(grantee);
  }

  /** @param options the instance as a number (0 the primary, 1 to n a replica) is deprecated: use `{ replica }` */
  public metricCpu(options?: DatabaseMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const { replica = 0, ...rest } = dbMetricOptions(options, props);
    return this.instanceAt(replica).metricCPUUtilization(rest);
  }

  /** @param options the instance as a number (0 the primary, 1 to n a replica) is deprecated: use `{ replica }` */
  public metricConnections(options?: DatabaseMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const { replica = 0, ...rest } = dbMetricOptions(options, props);
    return this.instanceAt(replica).metricDatabaseConnections(rest);
  }

  /** Free storage of the primary, in bytes. @default Average over 5 minutes */
  public metricFreeStorage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.primary.metricFreeStorageSpace(props);
  }

  /** @param options the replica as a number (1 to n) is deprecated: use `{ replica }` */
  public metricReplicaLag(options?: DatabaseMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const { replica = 1, ...rest } = dbMetricOptions(options, props);
    if (replica < 1) {
      throw new SessionTierValidationError(`replica: the primary has no replica lag, got ${replica}; use 1 to ${this.readers.length}`, this);
    }
    return this.instanceAt(replica).metric('ReplicaLag', { statistic: 'Maximum', ...rest });
  }

  private instanceAt(replica: number): rds.IDatabaseInstance {
    const found = replica === 0 ? this.primary : this.readers[replica - 1];
    if (!Number.isInteger(replica) || !found) {
      throw new SessionTierValidationError(`replica: must be 0 (the primary) to ${this.readers.length}, got ${replica}`, this);
    }
    return found;
  }
}

/** The options object, from either the options or the deprecated positional instance and props. */
function dbMetricOptions(options: DatabaseMetricOptions | number | undefined, props: cloudwatch.MetricOptions | undefined): DatabaseMetricOptions {
  return typeof options === 'number' ? { ...props, replica: options } : { ...options, ...props };
}

class ImportedSessionDatabase extends SessionDatabaseBase {
  public readonly engine: DatabaseEngine;
  public readonly databaseName: string;
  public readonly writerEndpoint: DatabaseEndpoint;
  public readonly replicaEndpoints: DatabaseEndpoint[];
  public readonly credentials: secretsmanager.ISecret;
  public readonly readyForClients?: IDependable = undefined;
  protected readonly primary: rds.IDatabaseInstance;
  protected readonly readers: readonly rds.IDatabaseInstance[];
  protected readonly proxyConnections?: ec2.Connections;

  constructor(scope: Construct, id: string, attrs: SessionDatabaseAttributes) {
    super(scope, id);
    this.engine = attrs.engine;
    this.databaseName = attrs.databaseName ?? 'sessions';
    this.credentials = attrs.credentials;
    this.primary = attrs.instance;
    this.readers = attrs.readReplicas ?? [];
    const problems = new ProblemList();
    problems.check(attrs.proxy !== undefined && !attrs.proxySecurityGroups?.length,
      () => 'proxySecurityGroups: a proxy needs its security groups, so that fleets can be let in; got none');
    problems.check(attrs.proxy === undefined && attrs.proxySecurityGroups !== undefined,
      () => 'proxySecurityGroups: only apply with a proxy; pass proxy or remove proxySecurityGroups');
    checkDatabaseName(problems, this.databaseName);
    problems.check(this.readers.length > MAX_READ_REPLICAS,
      () => `readReplicas: RDS allows at most ${MAX_READ_REPLICAS} read replicas per instance, got ${this.readers.length}`);
    problems.check(!Object.values(DatabaseEngine).includes(attrs.engine),
      () => `engine: must be DatabaseEngine.POSTGRES or DatabaseEngine.MYSQL, got ${JSON.stringify(attrs.engine)}`);
    problems.throwIfAny(this);
    this.proxyConnections = attrs.proxy ? new ec2.Connections({ securityGroups: attrs.proxySecurityGroups }) : undefined;
    const endpoint = (i: rds.IDatabaseInstance): DatabaseEndpoint => ({ hostname: i.instanceEndpoint.hostname, port: i.instanceEndpoint.port });
    this.writerEndpoint = attrs.proxy
      ? { hostname: attrs.proxy.endpoint, port: proxyPort(attrs.engine) }
      : endpoint(attrs.instance);
    this.replicaEndpoints = this.readers.map(endpoint);
  }
}

/** RDS Proxy listens on the engine's default port; it cannot be changed. */
function proxyPort(engine: DatabaseEngine): number {
  return engine === DatabaseEngine.POSTGRES ? 5432 : 3306;
}

function checkDatabaseName(problems: ProblemList, name: string): void {
  problems.check(!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(name),
    () => `databaseName: must start with a letter and hold only letters, digits and underscores, 1 to 63 characters, got ${JSON.stringify(name)}`);
}

/**
 * The database of the `database` session strategy: an RDS instance
 * (PostgreSQL or MySQL), Multi-AZ, on encrypted gp3 storage that grows by
 * itself, with credentials generated in Secrets Manager, backups, deletion
 * protection, Database Insights, logs in CloudWatch Logs, TLS required by
 * the server, 0 to 15 read replicas with their own endpoints, and optionally
 * an RDS Proxy for the primary.
 *
 * Nothing may connect until you allow it: a fleet given
 * `SessionStrategy.database(db)` lets itself in to the writer (proxy or
 * primary) and every replica, each on its own port.
 */
export class SessionDatabase extends SessionDatabaseBase {
  /**
   * An existing RDS instance (PostgreSQL or MySQL), its replicas and proxy,
   * wired to fleets the same way as one this library creates:
   * `SessionStrategy.database(db)`.
   */
  public static fromAttributes(scope: Construct, id: string, attrs: SessionDatabaseAttributes): ISessionDatabase {
    return new ImportedSessionDatabase(scope, id, attrs);
  }

  /** The primary. */
  public readonly instance: rds.DatabaseInstance;
  /** The read replicas, in order. */
  public readonly replicas: rds.DatabaseInstanceReadReplica[] = [];
  /** The proxy in front of the primary, when `proxy` is on. */
  public readonly proxy?: rds.DatabaseProxy;
  /** The primary's security group rules. */
  public readonly connections: ec2.Connections;
  /** The engine. */
  public readonly engine: DatabaseEngine;
  /**
   * The master credentials: a JSON secret with `username` and `password` (and
   * the host, port and engine). Only the setup reads it; grant it to no fleet.
   */
  public readonly secret: secretsmanager.ISecret;
  /**
   * The application user's credentials, what the fleets and the proxy sign
   * in with: a user that may SELECT, INSERT, UPDATE and DELETE on the sessions table, nothing else.
   */
  public readonly credentials: secretsmanager.ISecret;
  /** The setup that creates the sessions table and the application user; clients wait for it. */
  public readonly readyForClients: IDependable;
  /** The database (schema) that holds the sessions table. */
  public readonly databaseName: string;
  /** Where every write goes: the proxy when there is one, else the primary. */
  public readonly writerEndpoint: DatabaseEndpoint;
  /** The primary itself. */
  public readonly primaryEndpoint: DatabaseEndpoint;
  /** The replicas, in order. */
  public readonly replicaEndpoints: DatabaseEndpoint[];

  constructor(scope: Construct, id: string, props: SessionDatabaseProps) {
    super(scope, id);
    const r = resolveDatabaseProps(this, props);
    this.engine = r.engine;
    this.databaseName = r.databaseName;
    const postgres = r.engine === DatabaseEngine.POSTGRES;
    const [major] = /^\d+(\.\d+)?/.exec(r.engineVersion) ?? [r.engineVersion];
    const majorVersion = postgres ? major.split('.')[0] : major;
    const instanceEngine = postgres
      ? rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.of(r.engineVersion, majorVersion) })
      : rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(r.engineVersion, majorVersion) });

    // The server refuses clients without TLS, and logs slow statements.
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine: instanceEngine,
      description: 'Session database: TLS only, slow statements logged',
      parameters: postgres
        ? { 'rds.force_ssl': '1', 'log_min_duration_statement': '1000' }
        : { require_secure_transport: 'ON', slow_query_log: '1', long_query_time: '1', log_output: 'FILE' },
    });
    const securityGroup = (name: string, description: string) =>
      new ec2.SecurityGroup(this, name, { vpc: props.vpc, description, allowAllOutbound: false });

    // One role for the enhanced monitoring of every instance, rather than one per instance.
    const monitoringRole = new iam.Role(this, 'MonitoringRole', {
      assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
      description: 'RDS enhanced monitoring of the session database: writes its operating-system metrics to CloudWatch Logs',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
    });
    Validations.of(monitoringRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
      reason: 'AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy RDS documents for enhanced monitoring: it writes only to the RDSOSMetrics log group; aws-cdk uses it too.',
    });
    // One subnet group for all, rather than one per instance.
    const subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      vpcSubnets: r.vpcSubnets,
      description: 'Private subnets of the session database',
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const common = {
      vpc: props.vpc,
      subnetGroup,
      instanceType: r.instanceType,
      port: r.port,
      storageType: rds.StorageType.GP3,
      maxAllocatedStorage: r.maxAllocatedStorage,
      parameterGroup,
      // Every log type the engine exports (Control Tower CT.RDS.PR.14); MySQL's audit and general logs stay empty
      // unless you turn them on (the audit plugin option, general_log), since they record every statement.
      cloudwatchLogsExports: postgres ? ['postgresql', 'upgrade'] : ['audit', 'error', 'general', 'slowquery'],
      monitoringInterval: r.monitoringInterval,
      monitoringRole,
      // On, so that IAM roles can be allowed rds-db:connect; the app signs in with its password (see the README).
      iamAuthentication: true,
      enablePerformanceInsights: true,
      databaseInsightsMode: r.databaseInsightsMode,
      performanceInsightRetention: r.databaseInsightsMode === rds.DatabaseInsightsMode.ADVANCED
        ? rds.PerformanceInsightRetention.MONTHS_15 : rds.PerformanceInsightRetention.DEFAULT,
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
      copyTagsToSnapshot: true,
    };
    this.instance = new rds.DatabaseInstance(this, 'Resource', {
      ...common,
      engine: instanceEngine,
      securityGroups: [securityGroup('SecurityGroup', 'Session database primary: reachable only from what it is opened to')],
      credentials: rds.Credentials.fromGeneratedSecret('sessions_admin'),
      databaseName: r.databaseName,
      multiAz: r.multiAz,
      allocatedStorage: r.allocatedStorage,
      storageEncrypted: true,
      storageEncryptionKey: props.storageEncryptionKey ?? customerManagedKey(this, 'StorageKey', 'Encrypts the session database, its snapshots and its replicas'),
      backupRetention: r.backupRetention,
      preferredBackupWindow: '03:00-04:00',
      preferredMaintenanceWindow: 'sun:05:00-sun:06:00',
      deletionProtection: r.deletionProtection,
      removalPolicy: r.removalPolicy,
    });
    this.connections = this.instance.connections;
    this.secret = this.instance.secret!;
    const appSecret = new secretsmanager.Secret(this, 'AppCredentials', {
      description: 'The session database user the app signs in as: the sessions table only',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: APP_DATABASE_USER }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludePunctuation: true,
      },
    });
    this.credentials = appSecret;
    const setup = new DatabaseSetup(this, 'Setup', {
      vpc: props.vpc,
      vpcSubnets: r.vpcSubnets,
      instance: this.instance,
      engine: postgres ? 'postgres' : 'mysql',
      port: r.port,
      databaseName: r.databaseName,
      masterSecret: this.secret,
      appSecret,
      logEncryptionKey: props.logEncryptionKey ?? logsKey(this, 'LogsKey', 'Encrypts the session database setup\'s log groups'),
      logRetention: DEFAULT_LOG_RETENTION,
    });
    this.readyForClients = setup.resource;
    const rotation = 'The instances read the password at boot; single-user rotation would lock every running app process out until it is replaced. Rotate by rotating the secret and then running an instance refresh of both fleets.';
    // The generated secret is the instance's child; acknowledged here, where it is made.
    acknowledgeNag(this.instance, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled', `${rotation} Only the setup function reads the master secret.`);
    acknowledgeNag(appSecret, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled', `${rotation} The setup sets the user's password from this secret on every run.`);

    const replicaGroup = r.readReplicas > 0
      ? securityGroup('ReplicaSecurityGroup', 'Session database replicas: reachable only from what they are opened to')
      : undefined;
    for (let i = 1; i <= r.readReplicas; i++) {
      const replica = new rds.DatabaseInstanceReadReplica(this, `Replica${i}`, {
        ...common,
        sourceDatabaseInstance: this.instance,
        securityGroups: [replicaGroup!],
        // Encrypted with the primary's key: RDS refuses StorageEncrypted on a same-region replica.
        // Spread over the Availability Zones, so losing one leaves replicas to read from.
        availabilityZone: Token.isUnresolved(r.azs) || r.azs.length === 0 ? undefined : r.azs[(i - 1) % r.azs.length],
        deletionProtection: false,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const replicaReason = {
        multiAz: 'A read replica is read capacity, not the copy that keeps the data: the primary is Multi-AZ, and the app skips a replica that is down and reads from the next one or the primary.',
        deletion: 'A read replica holds nothing its primary lacks; deletion protection on it would only make lowering readReplicas fail. The primary has deletion protection.',
        encrypted: 'A same-region replica of an encrypted primary is encrypted with the primary\'s key; CloudFormation refuses StorageEncrypted on it, which is what the rule looks for.',
      };
      acknowledgeNag(replica, 'AwsSolutions-RDS3', 'RDSMultiAZSupport', replicaReason.multiAz);
      acknowledgeNag(replica, 'AwsSolutions-RDS10', 'RDSInstanceDeletionProtectionEnabled', replicaReason.deletion);
      acknowledgeNag(replica, 'AwsSolutions-RDS2', 'RDSStorageEncrypted', replicaReason.encrypted);
      Validations.of(replica).acknowledge(
        { id: 'AwsSolutions-RDS13', reason: 'Automated backups are taken of the primary; RDS does not back up PostgreSQL replicas at all, and a MySQL replica backup would duplicate the primary\'s.' },
        { id: 'AwsSolutions-RDS11', reason: `The replica listens on ${r.port}, like its primary, not the engine default; the rule cannot tell, because a replica inherits its engine and the template carries none.` },
      );
      this.replicas.push(replica);
    }

    if (r.proxy) {
      this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
        proxyTarget: rds.ProxyTarget.fromInstance(this.instance),
        // Clients sign in to the proxy as the application user, and the proxy to the database as the same user.
        secrets: [appSecret],
        // Said, not left to the default: what the application user's password is stored as (scram-sha-256 is
        // PostgreSQL's default since 14; caching_sha2_password MySQL 8.4's).
        clientPasswordAuthType: postgres ? rds.ClientPasswordAuthType.POSTGRES_SCRAM_SHA_256 : rds.ClientPasswordAuthType.MYSQL_CACHING_SHA2_PASSWORD,
        vpc: props.vpc,
        vpcSubnets: r.vpcSubnets,
        securityGroups: [securityGroup('ProxySecurityGroup', 'Session database proxy: reachable only from what it is opened to')],
        requireTLS: true,
        iamAuth: false,
        borrowTimeout: Duration.seconds(5),
        idleClientTimeout: Duration.minutes(30),
      });
      this.instance.connections.allowDefaultPortFrom(this.proxy, 'RDS Proxy to the primary');
    }

    this.primaryEndpoint = { hostname: this.instance.dbInstanceEndpointAddress, port: r.port };
    this.writerEndpoint = this.proxy
      ? { hostname: this.proxy.endpoint, port: proxyPort(r.engine) }
      : this.primaryEndpoint;
    this.replicaEndpoints = this.replicas.map((replica) => ({ hostname: replica.dbInstanceEndpointAddress, port: r.port }));
    this.replicaEndpoints.forEach((endpoint, i) => new CfnOutput(this, `Replica${i + 1}Endpoint`, {
      description: `Read replica ${i + 1} of the session database (host:port)`,
      value: `${endpoint.hostname}:${endpoint.port}`,
    }));
    new CfnOutput(this, 'WriterEndpoint', {
      description: `Where the session database takes writes (${this.proxy ? 'the RDS Proxy' : 'the primary'}, host:port)`,
      value: `${this.writerEndpoint.hostname}:${this.writerEndpoint.port}`,
    });
  }

  protected get primary(): rds.IDatabaseInstance {
    return this.instance;
  }

  protected get readers(): readonly rds.IDatabaseInstance[] {
    return this.replicas;
  }

  protected get proxyConnections(): ec2.Connections | undefined {
    return this.proxy?.connections;
  }
}

interface ResolvedDatabaseProps {
  readonly engine: DatabaseEngine;
  readonly engineVersion: string;
  readonly instanceType: ec2.InstanceType;
  readonly readReplicas: number;
  readonly multiAz: boolean;
  readonly proxy: boolean;
  readonly allocatedStorage: number;
  readonly maxAllocatedStorage: number;
  readonly backupRetention: Duration;
  readonly deletionProtection: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly databaseName: string;
  readonly port: number;
  readonly databaseInsightsMode: rds.DatabaseInsightsMode;
  readonly monitoringInterval: Duration;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly azs: string[];
}

/** Defaults, then every rule CDK and CloudFormation would only catch later (or never). */
function resolveDatabaseProps(scope: Construct, props: SessionDatabaseProps): ResolvedDatabaseProps {
  const engine = props.engine ?? DatabaseEngine.POSTGRES;
  const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const r: ResolvedDatabaseProps = {
    engine,
    engineVersion: props.engineVersion ?? (engine === DatabaseEngine.POSTGRES ? '17' : rds.MysqlEngineVersion.VER_8_4_10.mysqlFullVersion),
    instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    readReplicas: props.readReplicas ?? 1,
    multiAz: props.multiAz ?? true,
    proxy: props.proxy ?? false,
    allocatedStorage: props.allocatedStorage ?? 20,
    maxAllocatedStorage: props.maxAllocatedStorage ?? 100,
    backupRetention: props.backupRetention ?? Duration.days(7),
    deletionProtection: props.deletionProtection ?? true,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
    databaseName: props.databaseName ?? 'sessions',
    port: props.port ?? (engine === DatabaseEngine.POSTGRES ? 5433 : 3307),
    databaseInsightsMode: props.databaseInsightsMode ?? rds.DatabaseInsightsMode.STANDARD,
    monitoringInterval: props.monitoringInterval ?? Duration.seconds(60),
    vpcSubnets,
    azs: props.vpc.selectSubnets(vpcSubnets).availabilityZones,
  };
  const problems = new ProblemList();
  problems.check(!Number.isInteger(r.readReplicas) || r.readReplicas < 0 || r.readReplicas > MAX_READ_REPLICAS,
    () => `readReplicas: must be a whole number from 0 to ${MAX_READ_REPLICAS} (the RDS limit of read replicas per ${engine === DatabaseEngine.POSTGRES ? 'PostgreSQL' : 'MySQL'} instance), got ${r.readReplicas}`);
  const retentionDays = r.backupRetention.toHours() / 24;
  problems.check(retentionDays === 0 && r.readReplicas > 0,
    () => `backupRetention: read replicas need automated backups on the primary, got 0 days with readReplicas ${r.readReplicas}; keep backups 1 to 35 days`);
  problems.check(!Number.isInteger(retentionDays) || retentionDays > 35 || (retentionDays < 1 && r.readReplicas === 0),
    () => `backupRetention: must be whole days from 1 to 35, got ${r.backupRetention.toHumanString()}`);
  const engineVersion = engine === DatabaseEngine.POSTGRES ? /^\d{2}(\.\d+)?$/ : /^\d\.\d(\.\d+)?$/;
  problems.check(!engineVersion.test(r.engineVersion),
    () => `engineVersion: must be a ${engine === DatabaseEngine.POSTGRES ? 'PostgreSQL version like 17 or 17.6' : 'MySQL version like 8.4 or 8.0.42'}, got ${JSON.stringify(r.engineVersion)}`);
  problems.check(!Number.isInteger(r.allocatedStorage) || r.allocatedStorage < 20 || r.allocatedStorage > 65536,
    () => `allocatedStorage: must be a whole number of GiB from 20 (the gp3 minimum) to 65536, got ${r.allocatedStorage}`);
  problems.check(!Number.isInteger(r.maxAllocatedStorage) || r.maxAllocatedStorage <= r.allocatedStorage || r.maxAllocatedStorage > 65536,
    () => `maxAllocatedStorage: must be a whole number of GiB above allocatedStorage (${r.allocatedStorage}) and at most 65536, got ${r.maxAllocatedStorage}`);
  checkDatabaseName(problems, r.databaseName);
  problems.check(!Number.isInteger(r.port) || r.port < 1150 || r.port > 65535,
    () => `port: must be a whole number from 1150 to 65535 (the RDS range), got ${r.port}`);
  const monitoring = r.monitoringInterval.toSeconds({ integral: false });
  problems.check(![1, 5, 10, 15, 30, 60].includes(monitoring),
    () => `monitoringInterval: must be 1, 5, 10, 15, 30 or 60 seconds (what RDS enhanced monitoring takes), got ${r.monitoringInterval.toHumanString()}`);
  problems.check(r.multiAz && !Token.isUnresolved(r.azs) && r.azs.length < 2,
    () => `vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got ${r.azs.length}`);
  problems.throwIfAny(scope);
  return r;
}

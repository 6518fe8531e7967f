import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from './private/acknowledgements';
import { ProblemList } from './private/problems';

/** The engines an ElastiCache replication group runs. */
export enum CacheEngine {
  /** Valkey, the open-source fork of Redis OSS that ElastiCache prices lower. */
  VALKEY = 'valkey',
  /** Redis OSS. */
  REDIS = 'redis',
}

/** Properties of a {@link RedisSessionCache}. */
export interface RedisSessionCacheProps {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets for the nodes: private ones in at least two Availability Zones.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The engine.
   * @default CacheEngine.VALKEY
   */
  readonly engine?: CacheEngine;

  /**
   * The engine version.
   * @default '8.0' for Valkey, '7.1' for Redis OSS
   */
  readonly engineVersion?: string;

  /**
   * The node type.
   * @default 'cache.t4g.small'
   */
  readonly cacheNodeType?: string;

  /**
   * Nodes in all: one primary and `nodes - 1` replicas, 2 to 6.
   * @default 2
   */
  readonly nodes?: number;

  /**
   * Keep a replica in another Availability Zone and fail over to it
   * automatically. Needs at least one replica.
   * @default true
   */
  readonly multiAz?: boolean;

  /**
   * Encrypt traffic between clients and nodes with TLS.
   * @default true
   */
  readonly transitEncryption?: boolean;

  /**
   * Require an AUTH token, generated in Secrets Manager. Needs transit encryption.
   * @default true
   */
  readonly authToken?: boolean;

  /**
   * Key for encryption at rest (always on).
   * @default the AWS managed key for ElastiCache
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Port the nodes listen on; not the default 6379, so scanners looking for
   * open Redis find nothing.
   * @default 6380
   */
  readonly port?: number;

  /**
   * Days of daily snapshots kept (0 turns snapshots off).
   * @default 7
   */
  readonly snapshotRetentionDays?: number;

  /**
   * What happens to the data when the cache leaves the stack.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Options of the cache's metrics: which node, and the usual metric options. */
export interface CacheMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The node: 1 for the node created as primary, 2 and up for the replicas
   * (ElastiCache reports per node, `<replication group id>-00<n>`).
   * @default 1 (2 for the replication lag, which only replicas report)
   */
  readonly node?: number;
}

/**
 * A Redis OSS or Valkey replication group the `redis` strategy (or the
 * `database` strategy's write-through cache) keeps sessions in: a
 * {@link RedisSessionCache}, or yours through `RedisSessionCache.fromAttributes`.
 */
export interface ISessionCache extends ec2.IConnectable {
  /** Address of the primary, for writes. */
  readonly primaryEndpoint: string;
  /** The port the nodes listen on. */
  readonly port: number;
  /** Whether clients must use TLS. */
  readonly transitEncryption: boolean;
  /** The AUTH token, when one is required. */
  readonly authTokenSecret?: secretsmanager.ISecret;
  /** The replication group's id (its node ids are `<id>-001`, `<id>-002`, ...). */
  readonly replicationGroupId: string;
  /** How many nodes the group has. */
  readonly nodes: number;
  /** Lets `grantee` read the AUTH token (`secretsmanager:GetSecretValue` and `DescribeSecret`); a no-op grant when there is none. */
  grantReadAuthToken(grantee: iam.IGrantable): iam.Grant;
  /** A metric of one node. @default period 1 minute, node 1 */
  metric(metricName: string, options?: CacheMetricOptions): cloudwatch.Metric;
  /** CPU of the engine thread, in percent. @default Average over 1 minute, node 1 */
  metricEngineCpu(options?: CacheMetricOptions): cloudwatch.Metric;
  /** Memory in use, as a percentage of what the engine may use. @default Maximum over 1 minute, node 1 */
  metricMemory(options?: CacheMetricOptions): cloudwatch.Metric;
  /** Keys evicted for lack of memory (sessions lost). @default Sum over 1 minute, node 1 */
  metricEvictions(options?: CacheMetricOptions): cloudwatch.Metric;
  /** Client connections. @default Maximum over 1 minute, node 1 */
  metricConnections(options?: CacheMetricOptions): cloudwatch.Metric;
  /** How far a replica is behind the primary, in seconds. @default Maximum over 1 minute, node 2 */
  metricReplicationLag(options?: CacheMetricOptions): cloudwatch.Metric;
}

/** An existing replication group, as `RedisSessionCache.fromAttributes` takes it. */
export interface SessionCacheAttributes {
  /** The replication group's id. */
  readonly replicationGroupId: string;
  /** Address of the primary endpoint. */
  readonly primaryEndpoint: string;
  /**
   * The port.
   * @default 6379
   */
  readonly port?: number;
  /** The security groups of the replication group; fleets are let in on `port`. */
  readonly securityGroups: ec2.ISecurityGroup[];
  /**
   * Whether the group has encryption in transit (clients use TLS).
   * @default true
   */
  readonly transitEncryption?: boolean;
  /**
   * The AUTH token, as a secret whose string is the token.
   * @default no AUTH token
   */
  readonly authTokenSecret?: secretsmanager.ISecret;
  /**
   * Nodes in all (for the replicas' metrics).
   * @default 2
   */
  readonly nodes?: number;
}

/** What both our cache and an imported one do the same way: grants and metrics. */
abstract class SessionCacheBase extends Construct implements ISessionCache {
  public abstract readonly connections: ec2.Connections;
  public abstract readonly primaryEndpoint: string;
  public abstract readonly port: number;
  public abstract readonly transitEncryption: boolean;
  public abstract readonly authTokenSecret?: secretsmanager.ISecret;
  public abstract readonly replicationGroupId: string;
  public abstract readonly nodes: number;

  public grantReadAuthToken(grantee: iam.IGrantable): iam.Grant {
    return this.authTokenSecret
      ? this.authTokenSecret.grantRead(grantee)
      : iam.Grant.drop(grantee, 'read the AUTH token of a cache without one');
  }

  public metric(metricName: string, options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const { node = 1, ...rest } = metricOptions(options, props);
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: `${this.replicationGroupId}-${String(node).padStart(3, '0')}` },
      period: Duration.minutes(1),
      ...rest,
    });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricEngineCpu(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('EngineCPUUtilization', { statistic: 'Average', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricMemory(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DatabaseMemoryUsagePercentage', { statistic: 'Maximum', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricEvictions(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Evictions', { statistic: 'Sum', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricConnections(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CurrConnections', { statistic: 'Maximum', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricReplicationLag(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ReplicationLag', { statistic: 'Maximum', node: 2, ...metricOptions(options, props) });
  }
}

/** The options object, from either the options or the deprecated positional node and props. */
function metricOptions(options: CacheMetricOptions | number | undefined, props: cloudwatch.MetricOptions | undefined): CacheMetricOptions {
  return typeof options === 'number' ? { ...props, node: options } : { ...options, ...props };
}

/** An imported replication group. */
class ImportedSessionCache extends SessionCacheBase {
  public readonly connections: ec2.Connections;
  public readonly primaryEndpoint: string;
  public readonly port: number;
  public readonly transitEncryption: boolean;
  public readonly authTokenSecret?: secretsmanager.ISecret;
  public readonly replicationGroupId: string;
  public readonly nodes: number;

  constructor(scope: Construct, id: string, attrs: SessionCacheAttributes) {
    super(scope, id);
    this.replicationGroupId = attrs.replicationGroupId;
    this.primaryEndpoint = attrs.primaryEndpoint;
    this.port = attrs.port ?? 6379;
    this.transitEncryption = attrs.transitEncryption ?? true;
    this.authTokenSecret = attrs.authTokenSecret;
    this.nodes = attrs.nodes ?? 2;
    const problems = new ProblemList();
    checkPort(problems, this.port);
    problems.check(!Token.isUnresolved(this.nodes) && (!Number.isInteger(this.nodes) || this.nodes < 1 || this.nodes > 6),
      () => `nodes: must be a whole number from 1 to 6, got ${this.nodes}`);
    problems.check(attrs.securityGroups.length === 0,
      () => 'securityGroups: needs the replication group\'s security groups, got none; fleets are let in through them');
    problems.check(attrs.authTokenSecret !== undefined && !this.transitEncryption,
      () => 'authTokenSecret: ElastiCache accepts an AUTH token only with transit encryption, got transitEncryption false; pass transitEncryption true or no token');
    problems.throwIfAny(this);
    this.connections = new ec2.Connections({ securityGroups: attrs.securityGroups, defaultPort: ec2.Port.tcp(this.port) });
  }
}

/**
 * A Multi-AZ ElastiCache replication group (Valkey or Redis OSS) for sessions.
 *
 * aws-cdk-lib has no L2 for replication groups; this is ours, on
 * `CfnReplicationGroup`, shaped like one: cluster mode disabled, a primary and
 * at least one replica in different Availability Zones with automatic
 * failover, encryption in transit and at rest, an AUTH token generated in
 * Secrets Manager (only a dynamic reference reaches the template), a
 * non-default port, daily snapshots, its own subnet group and security group.
 * Nothing may connect until you allow it: a fleet given
 * `SessionStrategy.redis(cache)` lets itself in, on this port only.
 */
export class RedisSessionCache extends SessionCacheBase {
  /** The replication group. */
  public readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** The cache's security group rules; the default port is the cache's. */
  public readonly connections: ec2.Connections;
  /** The engine. */
  public readonly engine: CacheEngine;
  /** The port the nodes listen on. */
  public readonly port: number;
  /** Address of the primary, for writes. */
  public readonly primaryEndpoint: string;
  /** Address that spreads reads over the replicas. */
  public readonly readerEndpoint: string;
  /** Whether clients must use TLS. */
  public readonly transitEncryption: boolean;
  /** The AUTH token, when one is required. */
  public readonly authTokenSecret?: secretsmanager.ISecret;
  /** The replication group's id (its node ids are `<id>-001`, `<id>-002`, ...). */
  public readonly replicationGroupId: string;
  /** How many nodes the group has. */
  public readonly nodes: number;

  /**
   * An existing replication group (cluster mode disabled), wired to fleets
   * the same way as one this library creates: `SessionStrategy.redis(cache)`.
   */
  public static fromAttributes(scope: Construct, id: string, attrs: SessionCacheAttributes): ISessionCache {
    return new ImportedSessionCache(scope, id, attrs);
  }

  constructor(scope: Construct, id: string, props: RedisSessionCacheProps) {
    super(scope, id);
    const r = resolveCacheProps(this, props);
    this.engine = r.engine;
    this.port = r.port;
    this.nodes = r.nodes;
    this.transitEncryption = r.transitEncryption;

    const subnets = props.vpc.selectSubnets(r.vpcSubnets);
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'Private subnets of the session cache',
      subnetIds: subnets.subnetIds,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Session cache: reachable only from what it is opened to',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(this.port) });

    if (r.authToken) {
      this.authTokenSecret = new secretsmanager.Secret(this, 'AuthToken', {
        description: 'AUTH token of the session cache',
        // ElastiCache takes 16 to 128 printable characters without / " @ or space: letters and digits are safe.
        generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      });
      acknowledgeNag(this.authTokenSecret, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled',
        'Rotating an ElastiCache AUTH token needs a ModifyReplicationGroup call with the ROTATE strategy and a client restart; a generic Secrets Manager rotation would lock the app out. Rotate by hand as the ElastiCache guide describes.');
    }

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: 'Session store of the session tier',
      engine: this.engine,
      engineVersion: r.engineVersion,
      cacheNodeType: r.cacheNodeType,
      clusterMode: 'disabled',
      numCacheClusters: this.nodes,
      multiAzEnabled: r.multiAz,
      automaticFailoverEnabled: r.multiAz || this.nodes > 1,
      preferredCacheClusterAZs: Token.isUnresolved(subnets.availabilityZones) ? undefined
        : Array.from({ length: this.nodes }, (_, i) => subnets.availabilityZones[i % subnets.availabilityZones.length]),
      transitEncryptionEnabled: this.transitEncryption,
      atRestEncryptionEnabled: true,
      kmsKeyId: props.encryptionKey?.keyArn,
      authToken: this.authTokenSecret?.secretValue.unsafeUnwrap(),
      port: this.port,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      snapshotRetentionLimit: r.snapshotRetentionDays,
      snapshotWindow: '03:00-04:00',
      preferredMaintenanceWindow: 'sun:05:00-sun:06:00',
      autoMinorVersionUpgrade: true,
    });
    this.replicationGroup.applyRemovalPolicy(r.removalPolicy);
    this.replicationGroupId = this.replicationGroup.ref;
    this.primaryEndpoint = this.replicationGroup.attrPrimaryEndPointAddress;
    this.readerEndpoint = this.replicationGroup.attrReaderEndPointAddress;
  }
}

/** The props with every default filled in, and the Availability Zones of the subnets. */
interface ResolvedCacheProps {
  readonly engine: CacheEngine;
  readonly engineVersion: string;
  readonly cacheNodeType: string;
  readonly nodes: number;
  readonly multiAz: boolean;
  readonly transitEncryption: boolean;
  readonly authToken: boolean;
  readonly port: number;
  readonly snapshotRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly azs: string[];
}

/** Defaults, then every rule ElastiCache would only refuse at deploy time. */
function resolveCacheProps(scope: Construct, props: RedisSessionCacheProps): ResolvedCacheProps {
  const engine = props.engine ?? CacheEngine.VALKEY;
  const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const r: ResolvedCacheProps = {
    engine,
    engineVersion: props.engineVersion ?? (engine === CacheEngine.VALKEY ? '8.0' : '7.1'),
    cacheNodeType: props.cacheNodeType ?? 'cache.t4g.small',
    nodes: props.nodes ?? 2,
    multiAz: props.multiAz ?? true,
    transitEncryption: props.transitEncryption ?? true,
    authToken: props.authToken ?? true,
    port: props.port ?? 6380,
    snapshotRetentionDays: props.snapshotRetentionDays ?? 7,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
    vpcSubnets,
    azs: props.vpc.selectSubnets(vpcSubnets).availabilityZones,
  };
  const problems = new ProblemList();
  problems.check(!Number.isInteger(r.nodes) || r.nodes < 2 || r.nodes > 6,
    () => `nodes: must be a whole number from 2 to 6 (a primary and 1 to 5 replicas), got ${r.nodes}`);
  problems.check(r.multiAz && r.nodes < 2,
    () => `multiAz: needs a replica to fail over to, got nodes ${r.nodes}; use nodes 2 or more`);
  problems.check(r.authToken && !r.transitEncryption,
    () => 'authToken: ElastiCache accepts an AUTH token only with transit encryption, got transitEncryption false; turn transitEncryption on or authToken off');
  checkPort(problems, r.port);
  problems.check(!Number.isInteger(r.snapshotRetentionDays) || r.snapshotRetentionDays < 0 || r.snapshotRetentionDays > 35,
    () => `snapshotRetentionDays: must be a whole number from 0 to 35, got ${r.snapshotRetentionDays}`);
  problems.check(r.multiAz && r.azs.length < 2,
    () => `vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got ${r.azs.length}`);
  problems.throwIfAny(scope);
  return r;
}

function checkPort(problems: ProblemList, port: number): void {
  problems.check(!Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1024 || port > 65535),
    () => `port: must be a whole number from 1024 to 65535, got ${port}`);
}

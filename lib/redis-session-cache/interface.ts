import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ISessionStore } from '../session-store';

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
 * {@link RedisSessionCache}, or yours through `RedisSessionCache.fromRedisSessionCacheAttributes`.
 */
export interface ISessionCache extends ISessionStore {
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
  /** A metric of one node, `AWS/ElastiCache` by `CacheClusterId`. @default Average over 1 minute, node 1 */
  metric(metricName: string, options?: CacheMetricOptions): cloudwatch.Metric;
  /** CPU of the engine thread, in percent (`EngineCPUUtilization`). @default Average over 1 minute, node 1 */
  metricEngineCPUUtilization(options?: CacheMetricOptions): cloudwatch.Metric;
  /** Memory in use, as a percentage of what the engine may use (`DatabaseMemoryUsagePercentage`). @default Maximum over 1 minute, node 1 */
  metricDatabaseMemoryUsagePercentage(options?: CacheMetricOptions): cloudwatch.Metric;
  /** Keys evicted for lack of memory: sessions lost (`Evictions`). @default Sum over 1 minute, node 1 */
  metricEvictions(options?: CacheMetricOptions): cloudwatch.Metric;
  /** Client connections (`CurrConnections`). @default Maximum over 1 minute, node 1 */
  metricCurrConnections(options?: CacheMetricOptions): cloudwatch.Metric;
  /** How far a replica is behind the primary, in seconds (`ReplicationLag`). @default Maximum over 1 minute, node 2 (the first replica) */
  metricReplicationLag(options?: CacheMetricOptions): cloudwatch.Metric;
}

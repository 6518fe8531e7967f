import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../private/acknowledgements';
import { createSessionIdKey } from '../private/session-keys';
import { SessionCacheBase } from './base';
import { CacheEngine } from './engine';
import { ImportedSessionCache } from './imported';
import { ISessionCache } from './interface';
import { RedisSessionCacheAttributes, RedisSessionCacheProps } from './props';
import { resolveCacheProps } from './resolve-props';

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
  /** The VPC the nodes are in (always set; optional as in `ISessionStore`). */
  public readonly vpc?: ec2.IVpc;
  /** The key that signs the session ids of this cache's sessions, shared by every fleet on it (always set; optional as in `ISessionStore`). */
  public readonly sessionIdKey?: secretsmanager.ISecret;

  /**
   * An existing replication group (cluster mode disabled), wired to fleets
   * the same way as one this library creates: `SessionStrategy.redis(cache)`.
   */
  public static fromRedisSessionCacheAttributes(scope: Construct, id: string, attrs: RedisSessionCacheAttributes): ISessionCache {
    return new ImportedSessionCache(scope, id, attrs);
  }

  constructor(scope: Construct, id: string, props: RedisSessionCacheProps) {
    super(scope, id);
    const r = resolveCacheProps(this, props);
    this.vpc = r.vpc;
    this.port = r.port;
    this.engine = r.engine;
    this.nodes = r.nodes;
    this.transitEncryption = r.transitEncryption;

    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
      description: 'Private subnets of the session cache',
      subnetIds: r.subnetIds,
    });
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: r.vpc,
      description: 'Session cache: reachable only from what it is opened to',
      allowAllOutbound: false,
    });
    this.connections = new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(r.port) });
    this.authTokenSecret = r.authToken ? createAuthToken(this) : undefined;
    this.sessionIdKey = createSessionIdKey(this, 'SessionIdKey', 'redis');

    this.replicationGroup = new elasticache.CfnReplicationGroup(this, 'Resource', {
      replicationGroupDescription: 'Session store of the session tier',
      engine: r.engine,
      engineVersion: r.engineVersion,
      cacheNodeType: r.cacheNodeType,
      clusterMode: 'disabled',
      numCacheClusters: r.nodes,
      multiAzEnabled: r.multiAz,
      // Every group has a replica to fail over to (nodes 2 to 6).
      automaticFailoverEnabled: true,
      preferredCacheClusterAZs: r.nodeAzs,
      transitEncryptionEnabled: r.transitEncryption,
      atRestEncryptionEnabled: true,
      kmsKeyId: r.encryptionKey?.keyArn,
      authToken: this.authTokenSecret?.secretValue.unsafeUnwrap(),
      port: r.port,
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

/** The AUTH token, generated in Secrets Manager; only a dynamic reference to it reaches the template. */
function createAuthToken(scope: Construct): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, 'AuthToken', {
    description: 'AUTH token of the session cache',
    // ElastiCache takes 16 to 128 printable characters without / " @ or space: letters and digits are safe.
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
  });
  acknowledgeNag(secret, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled',
    'Rotating an ElastiCache AUTH token needs a ModifyReplicationGroup call with the ROTATE strategy and a client restart; a generic Secrets Manager rotation would lock the app out. Rotate by hand as the ElastiCache guide describes.');
  return secret;
}

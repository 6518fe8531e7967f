import { RemovalPolicy } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CacheEngine } from './engine';

/**
 * Properties of a {@link RedisSessionCache} other than its VPC: what `SessionTier` takes
 * for the cache it creates in its own VPC (`SessionTierProps`).
 */
export interface RedisSessionCacheOptions {
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

/** Properties of a {@link RedisSessionCache}. */
export interface RedisSessionCacheProps extends RedisSessionCacheOptions {
  /** The VPC. */
  readonly vpc: ec2.IVpc;
}

/** An existing replication group, as `RedisSessionCache.fromRedisSessionCacheAttributes` takes it. */
export interface RedisSessionCacheAttributes {
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
  /**
   * The VPC the replication group is in, so that a fleet in another VPC is refused at synth.
   * @default not known: not checked
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The key that signs the session ids of this cache's sessions: a secret of
   * at least 32 characters (several, comma-separated, while you rotate).
   * The import creates none.
   * @default none: the app does not sign the ids of this cache's sessions
   */
  readonly sessionIdKey?: secretsmanager.ISecret;
}

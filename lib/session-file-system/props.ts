import { RemovalPolicy, Size } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/**
 * Properties of a {@link SessionFileSystem} other than its VPC: what `SessionTier` takes
 * for the file system it creates in its own VPC (`SessionTierProps`).
 */
export interface SessionFileSystemOptions {
  /**
   * Subnets for the mount targets.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * When files move to Infrequent Access. Sessions older than this are
   * usually expired and about to be swept.
   * @default efs.LifecyclePolicy.AFTER_14_DAYS
   */
  readonly lifecyclePolicy?: efs.LifecyclePolicy;

  /**
   * What happens to the file system when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * How EFS trades latency for scale. General Purpose has the lowest latency
   * per operation, which is what a session read or write waits for; Max I/O
   * cannot use Elastic throughput.
   * @default efs.PerformanceMode.GENERAL_PURPOSE
   */
  readonly performanceMode?: efs.PerformanceMode;

  /**
   * How EFS provides throughput: Elastic scales with the traffic and bills what
   * is used; Provisioned fixes it (`provisionedThroughputPerSecond`); Bursting
   * earns credits with the data stored, which a small session store has little of.
   * @default efs.ThroughputMode.ELASTIC
   */
  readonly throughputMode?: efs.ThroughputMode;

  /**
   * The throughput to provision, 1 MiB/s or more; only with `throughputMode: efs.ThroughputMode.PROVISIONED`, and required with it.
   * @default none (Elastic throughput)
   */
  readonly provisionedThroughputPerSecond?: Size;

  /**
   * The key the file system is encrypted with (at rest; always on).
   * @default the AWS managed key for EFS (aws/elasticfilesystem)
   */
  readonly encryptionKey?: kms.IKey;
}

/** Properties of a {@link SessionFileSystem}. */
export interface SessionFileSystemProps extends SessionFileSystemOptions {
  /** The VPC. */
  readonly vpc: ec2.IVpc;
}

/** An existing file system, as `SessionFileSystem.fromSessionFileSystemAttributes` takes it. */
export interface SessionFileSystemAttributes {
  /** The file system, e.g. `efs.FileSystem.fromFileSystemAttributes(...)`; its security group lets fleets in on NFS (2049). */
  readonly fileSystem: efs.IFileSystem;
  /**
   * The access point the fleets mount, e.g. `efs.AccessPoint.fromAccessPointAttributes(...)`.
   * Its POSIX user must own the directory it exposes.
   */
  readonly accessPoint: efs.IAccessPoint;
  /**
   * The VPC of the file system's mount targets, so that a fleet in another VPC is refused at synth.
   * @default not known: not checked
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The key that signs the session ids of the sessions on this file system:
   * a secret of at least 32 characters (several, comma-separated, while you
   * rotate). The import creates none.
   * @default none: the app does not sign the ids of these sessions
   */
  readonly sessionIdKey?: secretsmanager.ISecret;
}

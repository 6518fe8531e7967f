import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The POSIX user every client acts as through the access point. */
export const SESSION_FILES_UID = '1001';

/** Properties of a {@link SessionFileSystem}. */
export interface SessionFileSystemProps {
  /** The VPC. */
  readonly vpc: ec2.IVpc;

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
   * Override any of the file system's props.
   * @default our defaults above
   */
  readonly fileSystemProps?: Partial<efs.FileSystemProps>;
}

/**
 * A file system the `file` strategy keeps sessions on, mounted through an
 * access point: a {@link SessionFileSystem}, or yours through
 * `SessionFileSystem.fromFileSystem`.
 */
export interface ISessionFileSystem extends ec2.IConnectable {
  /** The file system. */
  readonly fileSystem: efs.IFileSystem;
  /** The access point the fleets mount, whose POSIX user owns the session files. */
  readonly accessPoint: efs.IAccessPoint;
  /**
   * Lets `grantee` mount the file system through the access point and write
   * (`elasticfilesystem:ClientMount` and `ClientWrite`, on this file system,
   * only through this access point).
   */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant;
  /** A metric of the file system. @default no statistic or period of its own (CloudWatch's: Average, 5 minutes) */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** How close the file system is to its I/O limit, in percent (General Purpose mode). @default Maximum over 5 minutes */
  metricPercentIoLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Bytes read and written. @default Sum over 5 minutes */
  metricThroughput(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Burst credits left (bursting throughput mode only). @default Minimum over 5 minutes */
  metricBurstCreditBalance(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** An existing file system, as `SessionFileSystem.fromFileSystem` takes it. */
export interface SessionFileSystemAttributes {
  /** The file system, e.g. `efs.FileSystem.fromFileSystemAttributes(...)`; its security group lets fleets in on NFS (2049). */
  readonly fileSystem: efs.IFileSystem;
  /**
   * The access point the fleets mount, e.g. `efs.AccessPoint.fromAccessPointAttributes(...)`.
   * Its POSIX user must own the directory it exposes.
   */
  readonly accessPoint: efs.IAccessPoint;
}

/** What a fleet does with the file system: mount it and write; never root access. */
const CLIENT_ACTIONS = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'];

/** Grants and metrics, the same for our file system and an imported one. */
abstract class SessionFileSystemBase extends Construct implements ISessionFileSystem {
  public abstract readonly fileSystem: efs.IFileSystem;
  public abstract readonly accessPoint: efs.IAccessPoint;
  public abstract readonly connections: ec2.Connections;

  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    // In the grantee's own policy, so the grant works for a file system of yours whose policy we cannot change.
    return iam.Grant.addToPrincipal({
      grantee,
      actions: CLIENT_ACTIONS,
      resourceArns: [this.fileSystem.fileSystemArn],
      conditions: this.clientConditions(),
    });
  }

  /** Only through the access point, from a mount target, over TLS. */
  protected clientConditions(): Record<string, Record<string, unknown>> {
    return {
      StringEquals: { 'elasticfilesystem:AccessPointArn': this.accessPoint.accessPointArn },
      Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true', 'aws:SecureTransport': 'true' },
    };
  }

  /** @deprecated use {@link grantReadWrite}: it grants the same (mount and write), and says so */
  public grantMount(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadWrite(grantee);
  }

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/EFS',
      metricName,
      dimensionsMap: { FileSystemId: this.fileSystem.fileSystemId },
      ...props,
    });
  }

  public metricPercentIoLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('PercentIOLimit', { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  public metricThroughput(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MeteredIOBytes', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  public metricBurstCreditBalance(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('BurstCreditBalance', { statistic: 'Minimum', period: Duration.minutes(5), ...props });
  }
}

class ImportedSessionFileSystem extends SessionFileSystemBase {
  public readonly fileSystem: efs.IFileSystem;
  public readonly accessPoint: efs.IAccessPoint;
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, attrs: SessionFileSystemAttributes) {
    super(scope, id);
    this.fileSystem = attrs.fileSystem;
    this.accessPoint = attrs.accessPoint;
    this.connections = attrs.fileSystem.connections;
  }
}

/**
 * EFS for the `file` session strategy: encrypted, elastic throughput,
 * automatic backups, a lifecycle policy, a file-system policy that refuses
 * clients without TLS or without IAM authorization, and an access point for
 * the session directory that makes every client act as one POSIX user.
 * Fleets mount it with amazon-efs-utils (`tls,iam,accesspoint`).
 */
export class SessionFileSystem extends SessionFileSystemBase {
  /**
   * An existing file system and access point, wired to fleets the same way as
   * one this library creates: `SessionStrategy.file(files)`.
   */
  public static fromFileSystem(scope: Construct, id: string, attrs: SessionFileSystemAttributes): ISessionFileSystem {
    return new ImportedSessionFileSystem(scope, id, attrs);
  }

  /** The file system. */
  public readonly fileSystem: efs.FileSystem;
  /** The access point of the session directory. */
  public readonly accessPoint: efs.AccessPoint;
  /** The mount targets' security group rules (NFS, 2049). */
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, props: SessionFileSystemProps) {
    super(scope, id);
    this.fileSystem = new efs.FileSystem(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      encrypted: true,
      enableAutomaticBackups: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      throughputMode: efs.ThroughputMode.ELASTIC,
      lifecyclePolicy: props.lifecyclePolicy ?? efs.LifecyclePolicy.AFTER_14_DAYS,
      outOfInfrequentAccessPolicy: efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      // aws-cdk's way of turning anonymous access off is a statement that grants ClientWrite and ClientRootAccess
      // to any principal reaching a mount target. This policy instead allows only the roles granted below, each
      // through the access point: once a file system has a policy, EFS refuses any client it does not allow,
      // anonymous ones included, so "true" here only keeps aws-cdk's statement out.
      allowAnonymousAccess: true,
      ...props.fileSystemProps,
    });
    // aws-cdk's own group for the mount targets lets everything out; a file system starts no connection,
    // so it keeps no egress rule (the same placeholder rule aws-cdk writes for allowAllOutbound: false).
    const created = this.fileSystem.node.tryFindChild('EfsSecurityGroup');
    if (created instanceof ec2.SecurityGroup) {
      (created.node.defaultChild as ec2.CfnSecurityGroup).securityGroupEgress = [
        { cidrIp: '255.255.255.255/32', description: 'Disallow all traffic', ipProtocol: 'icmp', fromPort: 252, toPort: 86 },
      ];
    }
    // Refuse clients that do not use TLS.
    this.fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyWithoutTls',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    this.accessPoint = this.fileSystem.addAccessPoint('Sessions', {
      path: '/sessions',
      createAcl: { ownerUid: SESSION_FILES_UID, ownerGid: SESSION_FILES_UID, permissions: '0750' },
      posixUser: { uid: SESSION_FILES_UID, gid: SESSION_FILES_UID },
    });
    this.connections = this.fileSystem.connections;
  }

  /**
   * Lets `grantee` mount through the access point and write, in its own
   * policy and in the file system's, which allows no one else.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = super.grantReadWrite(grantee);
    const { StringEquals: _exact, ...rest } = this.clientConditions();
    const stack = Stack.of(this);
    this.fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      principals: [grantee.grantPrincipal],
      actions: CLIENT_ACTIONS,
      // The access point names the file system, so this policy cannot name the access point (a cycle):
      // it requires one, and the grantee's own policy names which.
      conditions: { ...rest, ArnLike: { 'elasticfilesystem:AccessPointArn': `arn:${stack.partition}:elasticfilesystem:${stack.region}:${stack.account}:access-point/*` } },
    }));
    return grant;
  }
}

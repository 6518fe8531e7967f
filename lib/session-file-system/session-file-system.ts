import { RemovalPolicy, Stack } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { createSessionIdKey } from '../private/session-keys';
import { CLIENT_ACTIONS, SessionFileSystemBase, THROUGH_A_MOUNT_TARGET_OVER_TLS } from './base';
import { ImportedSessionFileSystem } from './imported';
import { ISessionFileSystem } from './interface';
import { SessionFileSystemAttributes, SessionFileSystemProps } from './props';
import { resolveFileSystemProps } from './resolve-props';

/** The POSIX user every client acts as through the access point. */
const SESSION_FILES_UID = '1001';

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
  public static fromSessionFileSystemAttributes(scope: Construct, id: string, attrs: SessionFileSystemAttributes): ISessionFileSystem {
    return new ImportedSessionFileSystem(scope, id, attrs);
  }

  /** The file system. */
  public readonly fileSystem: efs.IFileSystem;
  /** The access point of the session directory. */
  public readonly accessPoint: efs.IAccessPoint;
  /** The mount targets' security group rules (NFS, 2049). */
  public readonly connections: ec2.Connections;
  /** The VPC of the mount targets (always set; optional as in `ISessionStore`). */
  public readonly vpc?: ec2.IVpc;
  /** The key that signs the session ids of the sessions on this file system, shared by every fleet on it (always set; optional as in `ISessionStore`). */
  public readonly sessionIdKey?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: SessionFileSystemProps) {
    super(scope, id);
    const r = resolveFileSystemProps(this, props);
    this.vpc = r.vpc;
    const fileSystem = new efs.FileSystem(this, 'Resource', {
      vpc: r.vpc,
      vpcSubnets: r.vpcSubnets,
      encrypted: true,
      kmsKey: r.encryptionKey,
      enableAutomaticBackups: true,
      performanceMode: r.performanceMode,
      throughputMode: r.throughputMode,
      provisionedThroughputPerSecond: r.provisionedThroughputPerSecond,
      lifecyclePolicy: r.lifecyclePolicy,
      outOfInfrequentAccessPolicy: efs.OutOfInfrequentAccessPolicy.AFTER_1_ACCESS,
      removalPolicy: r.removalPolicy,
      // aws-cdk's way of turning anonymous access off is a statement that grants ClientWrite and ClientRootAccess
      // to any principal reaching a mount target. This policy instead allows only the roles granted below, each
      // through the access point: once a file system has a policy, EFS refuses any client it does not allow,
      // anonymous ones included, so "true" here only keeps aws-cdk's statement out.
      allowAnonymousAccess: true,
    });
    // aws-cdk's own group for the mount targets lets everything out; a file system starts no connection,
    // so it keeps no egress rule (the same placeholder rule aws-cdk writes for allowAllOutbound: false).
    const created = fileSystem.node.tryFindChild('EfsSecurityGroup');
    if (created instanceof ec2.SecurityGroup) {
      (created.node.defaultChild as ec2.CfnSecurityGroup).securityGroupEgress = [
        { cidrIp: '255.255.255.255/32', description: 'Disallow all traffic', ipProtocol: 'icmp', fromPort: 252, toPort: 86 },
      ];
    }
    // Refuse clients that do not use TLS.
    fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'DenyWithoutTls',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['*'],
      conditions: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    this.fileSystem = fileSystem;
    this.accessPoint = fileSystem.addAccessPoint('Sessions', {
      path: '/sessions',
      createAcl: { ownerUid: SESSION_FILES_UID, ownerGid: SESSION_FILES_UID, permissions: '0750' },
      posixUser: { uid: SESSION_FILES_UID, gid: SESSION_FILES_UID },
    });
    this.connections = fileSystem.connections;
    this.sessionIdKey = createSessionIdKey(this, 'SessionIdKey', 'file');
  }

  /** What happens to the file system (the sessions on it) when it leaves the stack. */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    this.fileSystem.applyRemovalPolicy(policy);
  }

  /**
   * Lets `grantee` mount through the access point and write, in its own
   * policy and in the file system's, which allows no one else.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    const grant = super.grantReadWrite(grantee);
    const stack = Stack.of(this);
    this.fileSystem.addToResourcePolicy(new iam.PolicyStatement({
      principals: [grantee.grantPrincipal],
      actions: CLIENT_ACTIONS,
      // The access point names the file system, so this policy cannot name the access point (a cycle):
      // it requires one, and the grantee's own policy names which.
      conditions: { ...THROUGH_A_MOUNT_TARGET_OVER_TLS, ArnLike: { 'elasticfilesystem:AccessPointArn': `arn:${stack.partition}:elasticfilesystem:${stack.region}:${stack.account}:access-point/*` } },
    }));
    return grant;
  }
}

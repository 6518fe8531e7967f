import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SessionFileSystemBase } from './base';
import { SessionFileSystemAttributes } from './props';

/** A file system and access point of yours, as `SessionFileSystem.fromSessionFileSystemAttributes` takes them; it creates nothing. */
export class ImportedSessionFileSystem extends SessionFileSystemBase {
  public readonly fileSystem: efs.IFileSystem;
  public readonly accessPoint: efs.IAccessPoint;
  public readonly connections: ec2.Connections;
  public readonly vpc?: ec2.IVpc;
  public readonly sessionIdKey?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, attrs: SessionFileSystemAttributes) {
    super(scope, id);
    this.fileSystem = attrs.fileSystem;
    this.accessPoint = attrs.accessPoint;
    this.connections = attrs.fileSystem.connections;
    this.vpc = attrs.vpc;
    this.sessionIdKey = attrs.sessionIdKey;
  }
}

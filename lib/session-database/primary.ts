import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { customerManagedKey } from '../private/keys';
import { InstanceSettings, closedSecurityGroup } from './instance-settings';
import { ResolvedDatabaseProps } from './resolve-props';

/**
 * The primary (construct id `Resource`): its own security group, the master
 * user's generated secret, encrypted storage, backups and deletion protection.
 */
export function addPrimary(scope: Construct, r: ResolvedDatabaseProps, settings: InstanceSettings): rds.DatabaseInstance {
  return new rds.DatabaseInstance(scope, 'Resource', {
    ...settings.shared,
    engine: settings.engine,
    securityGroups: [closedSecurityGroup(scope, r.vpc, 'SecurityGroup', 'Session database primary: reachable only from what it is opened to')],
    credentials: rds.Credentials.fromGeneratedSecret('sessions_admin'),
    databaseName: r.databaseName,
    multiAz: r.multiAz,
    allocatedStorage: r.allocatedStorage,
    storageEncrypted: true,
    storageEncryptionKey: r.storageEncryptionKey ?? customerManagedKey(scope, 'StorageKey', 'Encrypts the session database, its snapshots and its replicas'),
    backupRetention: r.backupRetention,
    preferredBackupWindow: '03:00-04:00',
    preferredMaintenanceWindow: 'sun:05:00-sun:06:00',
    deletionProtection: r.deletionProtection,
    removalPolicy: r.removalPolicy,
  });
}

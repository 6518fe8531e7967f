import { RemovalPolicy, Token, Validations } from 'aws-cdk-lib/core';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../private/acknowledgements';
import { InstanceSettings, closedSecurityGroup } from './instance-settings';
import { ResolvedDatabaseProps } from './resolve-props';

/** Why cdk-nag's rules for a primary do not fit a read replica. */
const REPLICA_REASONS = {
  multiAz: 'A read replica is read capacity, not the copy that keeps the data: the primary is Multi-AZ, and the app skips a replica that is down and reads from the next one or the primary.',
  deletion: 'A read replica holds nothing its primary lacks; deletion protection on it would only make lowering readReplicas fail. The primary has deletion protection.',
  encrypted: 'A same-region replica of an encrypted primary is encrypted with the primary\'s key; CloudFormation refuses StorageEncrypted on it, which is what the rule looks for.',
};

/**
 * `r.readReplicas` read replicas of `primary` (`Replica1` to `Replica<n>`),
 * spread over the Availability Zones, behind one security group of their own.
 */
export function addReplicas(
  scope: Construct, r: ResolvedDatabaseProps, settings: InstanceSettings, primary: rds.DatabaseInstance,
): rds.DatabaseInstanceReadReplica[] {
  if (r.readReplicas === 0) {
    return [];
  }
  const replicaGroup = closedSecurityGroup(scope, r.vpc, 'ReplicaSecurityGroup', 'Session database replicas: reachable only from what they are opened to');
  const replicas: rds.DatabaseInstanceReadReplica[] = [];
  // A reason is text for a reviewer: a port known only at deploy time is named by its prop, never by its token.
  const listensOn = Token.isUnresolved(r.port) ? 'the port prop' : r.port;
  for (let i = 1; i <= r.readReplicas; i++) {
    const replica = new rds.DatabaseInstanceReadReplica(scope, `Replica${i}`, {
      ...settings.shared,
      sourceDatabaseInstance: primary,
      securityGroups: [replicaGroup],
      // Encrypted with the primary's key: RDS refuses StorageEncrypted on a same-region replica.
      // Spread over the Availability Zones, so losing one leaves replicas to read from.
      availabilityZone: Token.isUnresolved(r.azs) || r.azs.length === 0 ? undefined : r.azs[(i - 1) % r.azs.length],
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNag(replica, 'AwsSolutions-RDS3', 'RDSMultiAZSupport', REPLICA_REASONS.multiAz);
    acknowledgeNag(replica, 'AwsSolutions-RDS10', 'RDSInstanceDeletionProtectionEnabled', REPLICA_REASONS.deletion);
    acknowledgeNag(replica, 'AwsSolutions-RDS2', 'RDSStorageEncrypted', REPLICA_REASONS.encrypted);
    Validations.of(replica).acknowledge(
      { id: 'AwsSolutions-RDS13', reason: 'Automated backups are taken of the primary; RDS does not back up PostgreSQL replicas at all, and a MySQL replica backup would duplicate the primary\'s.' },
      { id: 'AwsSolutions-RDS11', reason: `The replica listens on ${listensOn}, like its primary, not the engine default; the rule cannot tell, because a replica inherits its engine and the template carries none.` },
    );
    replicas.push(replica);
  }
  return replicas;
}

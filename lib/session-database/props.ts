import { Duration, RemovalPolicy } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DatabaseEngine } from './engine';

/**
 * Properties of a {@link SessionDatabase} other than its VPC: what `SessionTier` takes
 * for the database it creates in its own VPC (`SessionTierProps`).
 */
export interface SessionDatabaseOptions {
  /**
   * Subnets for the primary, its standby and the replicas: private ones in at least two Availability Zones.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The engine.
   * @default DatabaseEngine.POSTGRES
   */
  readonly engine?: DatabaseEngine;

  /**
   * The engine version: a major version (RDS picks its default minor and
   * upgrades minors in the maintenance window) or a full one.
   * @default '17' for PostgreSQL (RDS picks the minor), '8.4.10' for MySQL (RDS takes only full MySQL versions)
   */
  readonly engineVersion?: string;

  /**
   * Instance type of the primary and of every replica (a replica smaller
   * than its primary falls behind under write load).
   * @default db.t4g.medium (the smallest Graviton size with Performance Insights)
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Read replicas, 0 to 15 (the RDS limit for PostgreSQL and MySQL). They take
   * the session reads off the primary; a replica that is down or behind is
   * skipped by the app.
   * @default 1
   */
  readonly readReplicas?: number;

  /**
   * Keep a synchronous standby of the primary in another Availability Zone
   * and fail over to it automatically.
   * @default true
   */
  readonly multiAz?: boolean;

  /**
   * Put an RDS Proxy in front of the primary, so many app processes share a
   * few database connections and a failover does not drop them. Replicas are
   * reached directly: proxy read-only endpoints serve Aurora clusters only,
   * not RDS instances.
   * @default false
   */
  readonly proxy?: boolean;

  /**
   * Initial storage, in GiB (gp3, encrypted); it grows by itself up to `maxAllocatedStorage`.
   * @default 20
   */
  readonly allocatedStorage?: number;

  /**
   * Most storage, in GiB, that storage autoscaling may grow to.
   * @default 100
   */
  readonly maxAllocatedStorage?: number;

  /**
   * Key for the storage, the snapshots and the replicas.
   * @default a new customer managed key, rotated (Control Tower CT.RDS.PR.30)
   */
  readonly storageEncryptionKey?: kms.IKey;

  /**
   * How often RDS enhanced monitoring samples the operating system of the
   * primary and the replicas (1, 5, 10, 15, 30 or 60 seconds).
   * @default Duration.seconds(60)
   */
  readonly monitoringInterval?: Duration;

  /**
   * The key the setup function's log groups are encrypted with; its policy must let CloudWatch Logs use it.
   * @default a new customer managed key, rotated, for log groups of this account only
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * How long automated backups are kept: 1 to 35 days. Read replicas need
   * backups on the primary.
   * @default Duration.days(7)
   */
  readonly backupRetention?: Duration;

  /**
   * Refuse to delete the primary (the replicas hold nothing it lacks).
   * @default true
   */
  readonly deletionProtection?: boolean;

  /**
   * What happens to the primary when it leaves the stack.
   * @default RemovalPolicy.SNAPSHOT
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * The database the sessions table lives in.
   * @default 'sessions'
   */
  readonly databaseName?: string;

  /**
   * Port the primary and the replicas listen on; not the engine's default,
   * so scanners looking for open databases find nothing. The proxy, if any,
   * listens on the engine's default port (RDS Proxy does not let you choose).
   * @default 5433 for PostgreSQL, 3307 for MySQL
   */
  readonly port?: number;

  /**
   * Database Insights mode (Performance Insights is on in either).
   * @default rds.DatabaseInsightsMode.STANDARD (7 days of Performance Insights, free)
   */
  readonly databaseInsightsMode?: rds.DatabaseInsightsMode;
}

/** Properties of a {@link SessionDatabase}. */
export interface SessionDatabaseProps extends SessionDatabaseOptions {
  /** The VPC. */
  readonly vpc: ec2.IVpc;
}

/** An existing database, as `SessionDatabase.fromSessionDatabaseAttributes` takes it. */
export interface SessionDatabaseAttributes {
  /** The engine. */
  readonly engine: DatabaseEngine;
  /** The primary, e.g. `rds.DatabaseInstance.fromDatabaseInstanceAttributes(...)` with its security groups. */
  readonly instance: rds.IDatabaseInstance;
  /**
   * What the app signs in with: a JSON secret with `username` and `password`
   * (an RDS-style secret), best a user that may use the sessions table alone.
   * The app creates the table when it is missing, so a user without CREATE
   * needs the table to exist.
   */
  readonly credentials: secretsmanager.ISecret;
  /**
   * The database (schema) that holds, or will hold, the sessions table.
   * @default 'sessions'
   */
  readonly databaseName?: string;
  /**
   * Read replicas the app reads from, in order.
   * @default none: every read goes to the primary
   */
  readonly readReplicas?: rds.IDatabaseInstance[];
  /**
   * An RDS Proxy in front of the primary that takes the writes.
   * @default no proxy: writes go to the primary
   */
  readonly proxy?: rds.IDatabaseProxy;
  /**
   * The proxy's security groups; fleets are let in through them.
   * @default none; required with `proxy`
   */
  readonly proxySecurityGroups?: ec2.ISecurityGroup[];
  /**
   * The key that signs the session ids of this database's sessions: a secret
   * of at least 32 characters (several, comma-separated, while you rotate).
   * The import creates none. Required with `readReplicas`: the app reads a
   * session from a replica only when its id is signed.
   * @default none: the app does not sign session ids (allowed without read replicas)
   */
  readonly sessionIdKey?: secretsmanager.ISecret;
  /**
   * The VPC the database is in, so that a fleet in another VPC is refused at synth.
   * @default not known: not checked
   */
  readonly vpc?: ec2.IVpc;
}

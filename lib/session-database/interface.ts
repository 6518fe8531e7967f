import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IDependable } from 'constructs';
import { DatabaseEngine } from './engine';
import { ISessionStore } from '../session-store';

/** Where a client reaches one database endpoint. */
export interface DatabaseEndpoint {
  /** Host name. */
  readonly hostname: string;
  /** Port. */
  readonly port: number;
}

/** Options of the database's metrics: which instance, and the usual metric options. */
export interface DatabaseMetricOptions extends cloudwatch.MetricOptions {
  /**
   * The instance: 0 for the primary, 1 to n for the read replicas in order.
   * @default 0 (1 for the replica lag, which only replicas report)
   */
  readonly replica?: number;
}

/**
 * A database the `database` strategy keeps sessions in: a
 * {@link SessionDatabase}, or yours through `SessionDatabase.fromSessionDatabaseAttributes`.
 */
export interface ISessionDatabase extends ISessionStore {
  /** The engine. */
  readonly engine: DatabaseEngine;
  /** The database (schema) that holds the sessions table. */
  readonly databaseName: string;
  /** Where every write goes: the proxy when there is one, else the primary. */
  readonly writerEndpoint: DatabaseEndpoint;
  /** The read replicas, in order. */
  readonly replicaEndpoints: DatabaseEndpoint[];
  /** The credentials the app signs in with: a JSON secret with `username` and `password`. */
  readonly credentials: secretsmanager.ISecret;
  /** How many read replicas there are. */
  readonly replicaCount: number;
  /**
   * What a client waits for before it signs in with `credentials`: the setup
   * that creates the sessions table and the application user. None for a database of yours.
   */
  readonly readyForClients?: IDependable;
  /** Opens the writer (proxy or primary) and every replica to `peer`, each on its own port, and nothing else. */
  allowFrom(peer: ec2.IConnectable, description?: string): void;
  /** Lets `grantee` read the credentials the app signs in with (`secretsmanager:GetSecretValue` and `DescribeSecret`). */
  grantReadCredentials(grantee: iam.IGrantable): iam.Grant;
  /** CPU of one instance, in percent (`CPUUtilization`). @default Average over 5 minutes, of the primary */
  metricCPUUtilization(options?: DatabaseMetricOptions): cloudwatch.Metric;
  /** Open connections of one instance (`DatabaseConnections`). @default Average over 5 minutes, of the primary */
  metricDatabaseConnections(options?: DatabaseMetricOptions): cloudwatch.Metric;
  /** Free storage of the primary, in bytes (`FreeStorageSpace`). @default Average over 5 minutes */
  metricFreeStorageSpace(options?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** How far a replica is behind the primary, in seconds (`ReplicaLag`). @default Maximum over 5 minutes, of replica 1 */
  metricReplicaLag(options?: DatabaseMetricOptions): cloudwatch.Metric;
}

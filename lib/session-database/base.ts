import { Resource, Token } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IDependable } from 'constructs';
import { SessionTierValidationError } from '../errors';
import { DatabaseEngine } from './engine';
import { DatabaseEndpoint, DatabaseMetricOptions, ISessionDatabase } from './interface';
import { DatabaseDashboardPart } from './dashboard-part';
import { IDashboardPart } from '../session-dashboard/part';

/**
 * What our database and an imported one do the same way: access, grants,
 * metrics and the dashboard's part.
 * @internal
 */
export abstract class SessionDatabaseBase extends Resource implements ISessionDatabase {
  public abstract readonly engine: DatabaseEngine;
  public abstract readonly databaseName: string;
  public abstract readonly writerEndpoint: DatabaseEndpoint;
  public abstract readonly replicaEndpoints: DatabaseEndpoint[];
  public abstract readonly credentials: secretsmanager.ISecret;
  public abstract readonly readyForClients?: IDependable;
  public abstract readonly sessionIdKey?: secretsmanager.ISecret;
  public abstract readonly vpc?: ec2.IVpc;
  /** The writer's security group rules (the proxy's, else the primary's); the default port is the writer's. */
  public abstract readonly connections: ec2.Connections;
  /** @internal the primary */
  protected abstract readonly _primary: rds.IDatabaseInstance;
  /** @internal the read replicas, in order */
  protected abstract readonly _readers: rds.IDatabaseInstance[];

  public dashboardPart(): IDashboardPart {
    return new DatabaseDashboardPart(this);
  }

  public get replicaCount(): number {
    return this._readers.length;
  }

  public allowFrom(peer: ec2.IConnectable, description = 'session database clients'): void {
    this.connections.allowDefaultPortFrom(peer, description);
    // Replicas that share a security group need one rule.
    const opened = new Set<ec2.ISecurityGroup>();
    for (const replica of this._readers) {
      const groups = replica.connections.securityGroups;
      if (groups.length > 0 && groups.every((g) => opened.has(g))) {
        continue;
      }
      groups.forEach((g) => opened.add(g));
      replica.connections.allowDefaultPortFrom(peer, description);
    }
  }

  public grantReadCredentials(grantee: iam.IGrantable): iam.Grant {
    return this.credentials.grantRead(grantee);
  }

  public metricCPUUtilization(options: DatabaseMetricOptions = {}): cloudwatch.Metric {
    const { replica = 0, ...rest } = options;
    return this.instanceAt(replica).metricCPUUtilization(rest);
  }

  public metricDatabaseConnections(options: DatabaseMetricOptions = {}): cloudwatch.Metric {
    const { replica = 0, ...rest } = options;
    return this.instanceAt(replica).metricDatabaseConnections(rest);
  }

  public metricFreeStorageSpace(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this._primary.metricFreeStorageSpace(options);
  }

  public metricReplicaLag(options: DatabaseMetricOptions = {}): cloudwatch.Metric {
    const { replica = 1, ...rest } = options;
    if (replica === 0) {
      throw new SessionTierValidationError(`replica: the primary has no replica lag, got 0; use 1 to ${this._readers.length}`, this);
    }
    return this.instanceAt(replica).metric('ReplicaLag', { statistic: 'Maximum', ...rest });
  }

  private instanceAt(replica: number): rds.IDatabaseInstance {
    const found = replica === 0 ? this._primary : this._readers[replica - 1];
    if (!Number.isInteger(replica) || !found) {
      // An index picks a construct at synth: a deploy-time value cannot, and its text would mean nothing.
      const got = Token.isUnresolved(replica) ? 'a value known only at deploy time' : `${replica}`;
      throw new SessionTierValidationError(`replica: must be 0 (the primary) to ${this._readers.length}, got ${got}`, this);
    }
    return found;
  }
}

import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { graph, inSeconds, partAlarm, shown } from '../session-dashboard/blocks';
import { DashboardPartBindOptions, DashboardPartConfig, IDashboardPart } from '../session-dashboard/part';
import { alarmThresholdsWithDefaults } from '../session-dashboard/thresholds';
import { ISessionDatabase } from './interface';

/**
 * The database's section of a dashboard: CPU and connections of the primary
 * and of each replica, each replica's lag; an alarm per replica on its lag.
 */
export class DatabaseDashboardPart implements IDashboardPart {
  constructor(private readonly db: ISessionDatabase) {}

  public bind(scope: Construct, options: DashboardPartBindOptions): DashboardPartConfig {
    const t = alarmThresholdsWithDefaults(options.alarmThresholds);
    const db = this.db;
    const replicas = Array.from({ length: db.replicaCount }, (_, i) => i + 1);
    const alarms = replicas.map((replica) => partAlarm(scope, `DatabaseReplica${replica}Lag`, {
      description: `session database: replica ${replica} more than ${shown(t.databaseReplicaLag)} behind for 3 minutes (the app reads from the primary meanwhile)`,
      metric: db.metricReplicaLag({ replica, period: Duration.minutes(1) }),
      threshold: inSeconds(t.databaseReplicaLag), evaluationPeriods: 3, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    }));
    const all = [0, ...replicas];
    const label = (i: number) => (i === 0 ? 'primary' : `replica ${i}`);
    const widgets = [
      graph('Database CPU (%)', all.map((i) => db.metricCPUUtilization({ replica: i, label: label(i) }))),
      graph('Database connections', all.map((i) => db.metricDatabaseConnections({ replica: i, label: label(i) }))),
      graph('Database replica lag (seconds)', replicas.map((i) => db.metricReplicaLag({ replica: i, label: label(i) }))),
    ];
    return { title: 'Session database', widgets, alarms };
  }
}

import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { IAppFleet } from '../app-fleet';
import { FleetColor } from '../contract/app-env';
import { createAlarmTopic } from './alarm-topic';
import { TargetGroupMetrics, appMetric } from './metrics';
import { SessionAlarmThresholds, SessionDashboardProps } from './props';
import { resolveDashboardProps } from './resolve-props';
import { addGraphs } from './widgets';

/**
 * A CloudWatch dashboard of session health, and the alarms that page on it
 * and gate traffic shifts: per color, the load balancer's view (requests, 5xx,
 * latency, healthy hosts, requests per target) and the app's own (sessions
 * created, loaded, saved, rejected, their size and age, store latency and
 * errors); per store, its health.
 */
export class SessionDashboard extends Construct {
  /** The dashboard. */
  public readonly dashboard: cloudwatch.Dashboard;
  /** Where the alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly colorAlarms = new Map<FleetColor, cloudwatch.Alarm[]>();

  constructor(scope: Construct, id: string, props: SessionDashboardProps) {
    super(scope, id);
    const { thresholds, fleets } = resolveDashboardProps(this, props);
    const targetGroups = new TargetGroupMetrics(props.loadBalancer);
    this.alarmTopic = props.alarmTopic ?? createAlarmTopic(this);

    for (const { color, fleet } of fleets) {
      this.colorAlarms.set(color, this.addColorAlarms(color, fleet, targetGroups, thresholds));
    }
    this.addStoreAlarms(props, thresholds);

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }));
    addGraphs(this.dashboard, {
      fleets,
      targetGroups,
      cache: props.sessionCache,
      database: props.sessionDatabase,
      fileSystem: props.sessionFileSystem,
    });
  }

  /**
   * The alarms that say a color is unwell: unhealthy targets, 5xx rate,
   * latency and store errors. `SessionTier` gates each traffic-shift step on
   * those of the color traffic moves to.
   */
  public alarmsFor(color: FleetColor): cloudwatch.IAlarm[] {
    return [...this.colorAlarms.get(color) ?? []];
  }

  private addColorAlarms(color: FleetColor, fleet: IAppFleet, tg: TargetGroupMetrics, t: Required<SessionAlarmThresholds>): cloudwatch.Alarm[] {
    const name = color[0].toUpperCase() + color.slice(1);
    return [
      this.alarm(`${name}UnhealthyHosts`, `${color}: ${t.unhealthyHosts} or more unhealthy targets for 3 minutes`,
        tg.metric(fleet, 'UnHealthyHostCount', 'Maximum', Duration.minutes(1)), t.unhealthyHosts, 3,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD),
      this.alarm(`${name}Http5xxRate`, `${color}: more than ${t.http5xxPercent} % of requests answered 5xx by the targets over 5 minutes`,
        tg.http5xxRate(color, fleet), t.http5xxPercent, 1, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
      this.alarm(`${name}LatencyP99`, `${color}: target response time p99 above ${t.latencyP99.toHumanString()} over 5 minutes`,
        tg.metric(fleet, 'TargetResponseTime', 'p99', Duration.minutes(5)), t.latencyP99.toMilliseconds() / 1000, 1,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
      // Only an application that publishes the session metrics can breach this.
      ...fleet.publishesAppMetrics ? [this.alarm(`${name}StoreErrors`, `${color}: ${t.storeErrors} or more failed session-store calls in 5 minutes`,
        appMetric('StoreErrors', color, 'Sum', Duration.minutes(5)), t.storeErrors, 1,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)] : [],
    ];
  }

  /** One section per store the fleets use: the cache's memory, evictions and lag, each replica's lag, the file system's I/O limit. */
  private addStoreAlarms(props: SessionDashboardProps, t: Required<SessionAlarmThresholds>): void {
    const cache = props.sessionCache;
    if (cache) {
      this.alarm('CacheMemory', `session cache: primary memory above ${t.cacheMemoryPercent} %`,
        cache.metricDatabaseMemoryUsagePercentage({ node: 1, period: Duration.minutes(5) }), t.cacheMemoryPercent, 1, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
      this.alarm('CacheEvictions', `session cache: ${t.cacheEvictions} or more keys evicted in 5 minutes (sessions lost)`,
        cache.metricEvictions({ node: 1, period: Duration.minutes(5) }), t.cacheEvictions, 1, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
      this.alarm('CacheReplicationLag', `session cache: replica more than ${t.cacheReplicationLag.toHumanString()} behind for 3 minutes`,
        cache.metricReplicationLag({ node: 2, period: Duration.minutes(1) }), t.cacheReplicationLag.toMilliseconds() / 1000, 3,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    }
    const db = props.sessionDatabase;
    for (let replica = 1; replica <= (db?.replicaCount ?? 0); replica++) {
      this.alarm(`DatabaseReplica${replica}Lag`, `session database: replica ${replica} more than ${t.databaseReplicaLag.toHumanString()} behind for 3 minutes (the app reads from the primary meanwhile)`,
        db!.metricReplicaLag({ replica, period: Duration.minutes(1) }), t.databaseReplicaLag.toMilliseconds() / 1000, 3,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    }
    const files = props.sessionFileSystem;
    if (files) {
      this.alarm('FileSystemIoLimit', `session files: above ${t.fileSystemIoLimitPercent} % of the I/O limit for 15 minutes`,
        files.metricPercentIOLimit({ period: Duration.minutes(5) }), t.fileSystemIoLimitPercent, 3,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
    }
  }

  private alarm(id: string, description: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods: number,
    comparisonOperator: cloudwatch.ComparisonOperator): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      comparisonOperator,
      // No data is no traffic, or a store not in use yet: not a reason to page or to stop a release.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }
}

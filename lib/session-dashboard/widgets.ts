import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { IAppFleet } from '../app-fleet';
import { FleetColor } from '../contract/app-env';
import { ISessionCache } from '../redis-session-cache';
import { ISessionDatabase } from '../session-database';
import { ISessionFileSystem } from '../session-file-system';
import { TargetGroupMetrics, appMetric, targetGroupFullName } from './metrics';

/** What the dashboard's graphs show. */
export interface DashboardContents {
  readonly fleets: ReadonlyArray<{ readonly color: FleetColor; readonly fleet: IAppFleet }>;
  readonly targetGroups: TargetGroupMetrics;
  readonly cache?: ISessionCache;
  readonly database?: ISessionDatabase;
  readonly fileSystem?: ISessionFileSystem;
}

/** Rows of three graphs: per color, the load balancer's view, then the app's; then one section per store. */
export function addGraphs(dashboard: cloudwatch.Dashboard, c: DashboardContents): void {
  addFleetGraphs(dashboard, c);
  if (c.cache) {
    addCacheGraphs(dashboard, c.cache);
  }
  if (c.database) {
    addDatabaseGraphs(dashboard, c.database);
  }
  if (c.fileSystem) {
    addFileSystemGraphs(dashboard, c.fileSystem);
  }
}

function addFleetGraphs(dashboard: cloudwatch.Dashboard, { fleets, targetGroups: tg }: DashboardContents): void {
  const perColor = (title: string, metric: (color: FleetColor, fleet: IAppFleet) => cloudwatch.Metric, unit = '', of = fleets) =>
    new cloudwatch.GraphWidget({
      title: unit ? `${title} (${unit})` : title,
      left: of.map(({ color, fleet }) => metric(color, fleet).with({ label: color, color: color === 'blue' ? cloudwatch.Color.BLUE : cloudwatch.Color.GREEN })),
      width: 8,
      height: 6,
    });
  const app = fleets.filter(({ fleet }) => fleet.publishesAppMetrics);
  const perColorApp = (title: string, metric: (color: FleetColor) => cloudwatch.Metric, unit = '') => perColor(title, metric, unit, app);
  dashboard.addWidgets(
    perColor('Requests', (_, f) => tg.metric(f, 'RequestCount', 'Sum', Duration.minutes(1))),
    perColor('Target 5xx', (_, f) => tg.metric(f, 'HTTPCode_Target_5XX_Count', 'Sum', Duration.minutes(1))),
    perColor('Target response time p99', (_, f) => tg.metric(f, 'TargetResponseTime', 'p99', Duration.minutes(1)), 'seconds'),
  );
  dashboard.addWidgets(
    perColor('Healthy targets', (_, f) => tg.metric(f, 'HealthyHostCount', 'Minimum', Duration.minutes(1))),
    perColor('Requests per target (the spread stickiness causes)', (_, f) => new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB', metricName: 'RequestCountPerTarget', statistic: 'Sum', period: Duration.minutes(1),
      dimensionsMap: { TargetGroup: targetGroupFullName(f.targetGroup) },
    })),
    perColor('Instances in service', (_, f) => new cloudwatch.Metric({
      namespace: 'AWS/AutoScaling', metricName: 'GroupInServiceInstances', statistic: 'Minimum', period: Duration.minutes(1),
      dimensionsMap: { AutoScalingGroupName: f.autoScalingGroup.autoScalingGroupName },
    })),
  );
  dashboard.addWidgets(
    perColorApp('Sessions created', (c) => appMetric('SessionsCreated', c, 'Sum', Duration.minutes(1))),
    perColorApp('Sessions saved', (c) => appMetric('SessionsSaved', c, 'Sum', Duration.minutes(1))),
    perColorApp('Sessions rejected (tampered, malformed)', (c) => appMetric('SessionsRejected', c, 'Sum', Duration.minutes(1))),
  );
  dashboard.addWidgets(
    perColorApp('Session age p50', (c) => appMetric('SessionAge', c, 'p50', Duration.minutes(5)), 'seconds'),
    perColorApp('Session size p99', (c) => appMetric('SessionSize', c, 'p99', Duration.minutes(5)), 'bytes'),
    perColorApp('Store latency p99', (c) => appMetric('StoreLatency', c, 'p99', Duration.minutes(1)), 'ms'),
  );
  dashboard.addWidgets(
    perColorApp('Store latency p50', (c) => appMetric('StoreLatency', c, 'p50', Duration.minutes(1)), 'ms'),
    perColorApp('Store errors', (c) => appMetric('StoreErrors', c, 'Sum', Duration.minutes(1))),
    perColorApp('Write conflicts', (c) => appMetric('WriteConflicts', c, 'Sum', Duration.minutes(1))),
  );
}

function graph(title: string, metrics: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6 });
}

function addCacheGraphs(dashboard: cloudwatch.Dashboard, cache: ISessionCache): void {
  dashboard.addWidgets(
    graph('Cache engine CPU (%)', [cache.metricEngineCPUUtilization()]),
    graph('Cache memory (%)', [cache.metricDatabaseMemoryUsagePercentage()]),
    graph('Cache evictions', [cache.metricEvictions()]),
  );
  dashboard.addWidgets(
    graph('Cache connections', [cache.metricCurrConnections()]),
    graph('Cache replication lag (seconds)', [cache.metricReplicationLag()]),
  );
}

function addDatabaseGraphs(dashboard: cloudwatch.Dashboard, db: ISessionDatabase): void {
  const replicas = Array.from({ length: db.replicaCount }, (_, i) => i + 1);
  const all = [0, ...replicas];
  const label = (i: number) => (i === 0 ? 'primary' : `replica ${i}`);
  dashboard.addWidgets(
    graph('Database CPU (%)', all.map((i) => db.metricCPUUtilization({ replica: i, label: label(i) }))),
    graph('Database connections', all.map((i) => db.metricDatabaseConnections({ replica: i, label: label(i) }))),
    graph('Database replica lag (seconds)', replicas.map((i) => db.metricReplicaLag({ replica: i, label: label(i) }))),
  );
}

function addFileSystemGraphs(dashboard: cloudwatch.Dashboard, files: ISessionFileSystem): void {
  dashboard.addWidgets(
    graph('File system throughput (bytes)', [files.metricThroughput({ period: Duration.minutes(1) })]),
    graph('File system I/O limit (%)', [files.metricPercentIOLimit({ period: Duration.minutes(1) })]),
    graph('File system burst credits', [files.metricBurstCreditBalance({ period: Duration.minutes(5) })]),
  );
}

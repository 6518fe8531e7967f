import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { graph, inSeconds, partAlarm, shown } from '../session-dashboard/blocks';
import { DashboardPartBindOptions, DashboardPartConfig, IDashboardPart } from '../session-dashboard/part';
import { alarmThresholdsWithDefaults } from '../session-dashboard/thresholds';
import { ISessionCache } from './interface';

/**
 * The cache's section of a dashboard: the engine's CPU, memory, evictions,
 * connections and replication lag; alarms on the primary's memory, on any
 * eviction (a lost session) and on the first replica's lag.
 */
export class CacheDashboardPart implements IDashboardPart {
  constructor(private readonly cache: ISessionCache) {}

  public bind(scope: Construct, options: DashboardPartBindOptions): DashboardPartConfig {
    const t = alarmThresholdsWithDefaults(options.alarmThresholds);
    const cache = this.cache;
    const alarms = [
      partAlarm(scope, 'CacheMemory', {
        description: `session cache: primary memory above ${shown(t.cacheMemoryPercent)} %`,
        metric: cache.metricDatabaseMemoryUsagePercentage({ node: 1, period: Duration.minutes(5) }),
        threshold: t.cacheMemoryPercent, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      partAlarm(scope, 'CacheEvictions', {
        description: `session cache: ${shown(t.cacheEvictions)} or more keys evicted in 5 minutes (sessions lost)`,
        metric: cache.metricEvictions({ node: 1, period: Duration.minutes(5) }),
        threshold: t.cacheEvictions, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      partAlarm(scope, 'CacheReplicationLag', {
        description: `session cache: replica more than ${shown(t.cacheReplicationLag)} behind for 3 minutes`,
        metric: cache.metricReplicationLag({ node: 2, period: Duration.minutes(1) }),
        threshold: inSeconds(t.cacheReplicationLag), evaluationPeriods: 3, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
    ];
    const widgets = [
      graph('Cache engine CPU (%)', [cache.metricEngineCPUUtilization()]),
      graph('Cache memory (%)', [cache.metricDatabaseMemoryUsagePercentage()]),
      graph('Cache evictions', [cache.metricEvictions()]),
      graph('Cache connections', [cache.metricCurrConnections()]),
      graph('Cache replication lag (seconds)', [cache.metricReplicationLag()]),
    ];
    return { title: 'Session cache', widgets, alarms };
  }
}

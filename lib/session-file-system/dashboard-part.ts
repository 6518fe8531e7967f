import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { graph, partAlarm, shown } from '../session-dashboard/blocks';
import { DashboardPartBindOptions, DashboardPartConfig, IDashboardPart } from '../session-dashboard/part';
import { alarmThresholdsWithDefaults } from '../session-dashboard/thresholds';
import { ISessionFileSystem } from './interface';

/** The file system's section of a dashboard: throughput, I/O limit and burst credits; an alarm near the I/O limit. */
export class FileSystemDashboardPart implements IDashboardPart {
  constructor(private readonly files: ISessionFileSystem) {}

  public bind(scope: Construct, options: DashboardPartBindOptions): DashboardPartConfig {
    const t = alarmThresholdsWithDefaults(options.alarmThresholds);
    const files = this.files;
    const alarms = [partAlarm(scope, 'FileSystemIoLimit', {
      description: `session files: above ${shown(t.fileSystemIoLimitPercent)} % of the I/O limit for 15 minutes`,
      metric: files.metricPercentIOLimit({ period: Duration.minutes(5) }),
      threshold: t.fileSystemIoLimitPercent, evaluationPeriods: 3, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    })];
    const widgets = [
      graph('File system throughput (bytes)', [files.metricThroughput({ period: Duration.minutes(1) })]),
      graph('File system I/O limit (%)', [files.metricPercentIOLimit({ period: Duration.minutes(1) })]),
      graph('File system burst credits', [files.metricBurstCreditBalance({ period: Duration.minutes(5) })]),
    ];
    return { title: 'Session files', widgets, alarms };
  }
}

import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ISessionStore } from '../session-store';

/**
 * A file system the `file` strategy keeps sessions on, mounted through an
 * access point: a {@link SessionFileSystem}, or yours through
 * `SessionFileSystem.fromSessionFileSystemAttributes`.
 */
export interface ISessionFileSystem extends ISessionStore {
  /** The file system. */
  readonly fileSystem: efs.IFileSystem;
  /** The access point the fleets mount, whose POSIX user owns the session files. */
  readonly accessPoint: efs.IAccessPoint;
  /**
   * Lets `grantee` mount the file system through the access point and write
   * (`elasticfilesystem:ClientMount` and `ClientWrite`, on this file system,
   * only through this access point).
   */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant;
  /** A metric of the file system, `AWS/EFS` by `FileSystemId`. @default Average over 5 minutes */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** How close the file system is to its I/O limit, in percent (`PercentIOLimit`, General Purpose mode only). @default Maximum over 5 minutes */
  metricPercentIOLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Bytes read and written, as EFS meters them (`MeteredIOBytes`). @default Sum over 5 minutes */
  metricThroughput(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Burst credits left, in bytes (`BurstCreditBalance`, bursting throughput mode only). @default Minimum over 5 minutes */
  metricBurstCreditBalance(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

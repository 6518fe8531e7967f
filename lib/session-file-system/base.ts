import { Duration, Resource } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ISessionFileSystem } from './interface';
import { FileSystemDashboardPart } from './dashboard-part';
import { IDashboardPart } from '../session-dashboard/part';

/** What a fleet does with the file system: mount it and write; never root access. */
export const CLIENT_ACTIONS = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'];

/** How every client must reach the file system: from a mount target, over TLS. */
export const THROUGH_A_MOUNT_TARGET_OVER_TLS = { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true', 'aws:SecureTransport': 'true' } };

/**
 * Grants, metrics and the dashboard's part, the same for our file system and an imported one.
 * @internal
 */
export abstract class SessionFileSystemBase extends Resource implements ISessionFileSystem {
  public abstract readonly fileSystem: efs.IFileSystem;
  public abstract readonly accessPoint: efs.IAccessPoint;
  public abstract readonly connections: ec2.Connections;
  public abstract readonly vpc?: ec2.IVpc;
  public abstract readonly sessionIdKey?: secretsmanager.ISecret;

  public dashboardPart(): IDashboardPart {
    return new FileSystemDashboardPart(this);
  }

  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    // In the grantee's own policy, so the grant works for a file system of yours whose policy we cannot change.
    return iam.Grant.addToPrincipal({
      grantee,
      actions: CLIENT_ACTIONS,
      resourceArns: [this.fileSystem.fileSystemArn],
      conditions: {
        StringEquals: { 'elasticfilesystem:AccessPointArn': this.accessPoint.accessPointArn },
        ...THROUGH_A_MOUNT_TARGET_OVER_TLS,
      },
    });
  }

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/EFS',
      metricName,
      dimensionsMap: { FileSystemId: this.fileSystem.fileSystemId },
      statistic: 'Average',
      period: Duration.minutes(5),
      ...props,
    });
  }

  public metricPercentIOLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('PercentIOLimit', { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  public metricThroughput(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MeteredIOBytes', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  public metricBurstCreditBalance(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('BurstCreditBalance', { statistic: 'Minimum', period: Duration.minutes(5), ...props });
  }
}

import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ISessionFileSystem } from './interface';

/** What a fleet does with the file system: mount it and write; never root access. */
export const CLIENT_ACTIONS = ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'];

/** Grants and metrics, the same for our file system and an imported one. */
export abstract class SessionFileSystemBase extends Construct implements ISessionFileSystem {
  public abstract readonly fileSystem: efs.IFileSystem;
  public abstract readonly accessPoint: efs.IAccessPoint;
  public abstract readonly connections: ec2.Connections;

  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    // In the grantee's own policy, so the grant works for a file system of yours whose policy we cannot change.
    return iam.Grant.addToPrincipal({
      grantee,
      actions: CLIENT_ACTIONS,
      resourceArns: [this.fileSystem.fileSystemArn],
      conditions: this.clientConditions(),
    });
  }

  /** Only through the access point, from a mount target, over TLS. */
  protected clientConditions(): Record<string, Record<string, unknown>> {
    return {
      StringEquals: { 'elasticfilesystem:AccessPointArn': this.accessPoint.accessPointArn },
      Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true', 'aws:SecureTransport': 'true' },
    };
  }

  /** @deprecated use {@link grantReadWrite}: it grants the same (mount and write), and says so */
  public grantMount(grantee: iam.IGrantable): iam.Grant {
    return this.grantReadWrite(grantee);
  }

  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/EFS',
      metricName,
      dimensionsMap: { FileSystemId: this.fileSystem.fileSystemId },
      ...props,
    });
  }

  public metricPercentIoLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('PercentIOLimit', { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  public metricThroughput(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MeteredIOBytes', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  public metricBurstCreditBalance(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('BurstCreditBalance', { statistic: 'Minimum', period: Duration.minutes(5), ...props });
  }
}

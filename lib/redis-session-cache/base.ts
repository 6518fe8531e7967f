import { Duration, Resource } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CacheMetricOptions, ISessionCache } from './interface';
import { CacheDashboardPart } from './dashboard-part';
import { IDashboardPart } from '../session-dashboard/part';

/**
 * What both our cache and an imported one do the same way: grants, metrics
 * and the dashboard's part.
 * @internal
 */
export abstract class SessionCacheBase extends Resource implements ISessionCache {
  public abstract readonly connections: ec2.Connections;
  public abstract readonly vpc?: ec2.IVpc;
  public abstract readonly sessionIdKey?: secretsmanager.ISecret;
  public abstract readonly primaryEndpoint: string;
  public abstract readonly port: number;
  public abstract readonly transitEncryption: boolean;
  public abstract readonly authTokenSecret?: secretsmanager.ISecret;
  public abstract readonly replicationGroupId: string;
  public abstract readonly nodes: number;

  public dashboardPart(): IDashboardPart {
    return new CacheDashboardPart(this);
  }

  public grantReadAuthToken(grantee: iam.IGrantable): iam.Grant {
    return this.authTokenSecret
      ? this.authTokenSecret.grantRead(grantee)
      : iam.Grant.drop(grantee, 'read the AUTH token of a cache without one');
  }

  public metric(metricName: string, options: CacheMetricOptions = {}): cloudwatch.Metric {
    const { node = 1, ...rest } = options;
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: `${this.replicationGroupId}-${String(node).padStart(3, '0')}` },
      statistic: 'Average',
      period: Duration.minutes(1),
      ...rest,
    });
  }

  public metricEngineCPUUtilization(options?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric('EngineCPUUtilization', { statistic: 'Average', ...options });
  }

  public metricDatabaseMemoryUsagePercentage(options?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric('DatabaseMemoryUsagePercentage', { statistic: 'Maximum', ...options });
  }

  public metricEvictions(options?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric('Evictions', { statistic: 'Sum', ...options });
  }

  public metricCurrConnections(options?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric('CurrConnections', { statistic: 'Maximum', ...options });
  }

  public metricReplicationLag(options?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric('ReplicationLag', { statistic: 'Maximum', node: 2, ...options });
  }
}

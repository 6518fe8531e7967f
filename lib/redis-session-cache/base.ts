import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { CacheMetricOptions, ISessionCache } from './interface';

/** What both our cache and an imported one do the same way: grants and metrics. */
export abstract class SessionCacheBase extends Construct implements ISessionCache {
  public abstract readonly connections: ec2.Connections;
  public abstract readonly primaryEndpoint: string;
  public abstract readonly port: number;
  public abstract readonly transitEncryption: boolean;
  public abstract readonly authTokenSecret?: secretsmanager.ISecret;
  public abstract readonly replicationGroupId: string;
  public abstract readonly nodes: number;

  public grantReadAuthToken(grantee: iam.IGrantable): iam.Grant {
    return this.authTokenSecret
      ? this.authTokenSecret.grantRead(grantee)
      : iam.Grant.drop(grantee, 'read the AUTH token of a cache without one');
  }

  public metric(metricName: string, options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const { node = 1, ...rest } = metricOptions(options, props);
    return new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName,
      dimensionsMap: { CacheClusterId: `${this.replicationGroupId}-${String(node).padStart(3, '0')}` },
      period: Duration.minutes(1),
      ...rest,
    });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricEngineCpu(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('EngineCPUUtilization', { statistic: 'Average', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricMemory(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('DatabaseMemoryUsagePercentage', { statistic: 'Maximum', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricEvictions(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('Evictions', { statistic: 'Sum', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricConnections(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CurrConnections', { statistic: 'Maximum', ...metricOptions(options, props) });
  }

  /** @param options the node as a number is deprecated: use `{ node }` */
  public metricReplicationLag(options?: CacheMetricOptions | number, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ReplicationLag', { statistic: 'Maximum', node: 2, ...metricOptions(options, props) });
  }
}

/** The options object, from either the options or the deprecated positional node and props. */
function metricOptions(options: CacheMetricOptions | number | undefined, props: cloudwatch.MetricOptions | undefined): CacheMetricOptions {
  return typeof options === 'number' ? { ...props, node: options } : { ...options, ...props };
}

import { Duration, Fn, Stack } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AppFleet, IAppFleet } from './app-fleet';
import { FleetColor } from './contract/app-env';
import { customerManagedKey } from './private/keys';
import { ProblemList } from './private/problems';
import { ISessionCache } from './redis-session-cache';
import { ISessionDatabase } from './session-database';
import { ISessionFileSystem } from './session-file-system';
import { APP_METRICS_NAMESPACE } from './contract/app-env';

/** Thresholds of the alarms a {@link SessionDashboard} creates. */
export interface SessionAlarmThresholds {
  /**
   * Unhealthy targets of a color, in each of 3 consecutive minutes.
   * @default 1
   */
  readonly unhealthyHosts?: number;
  /**
   * Share of a color's requests its targets answer with a 5xx, in percent, over 5 minutes (0 to 100).
   * @default 5
   */
  readonly http5xxPercent?: number;
  /**
   * p99 of a color's target response time over 5 minutes.
   * @default Duration.seconds(1)
   */
  readonly latencyP99?: Duration;
  /**
   * Failed session-store calls of a color's app in 5 minutes.
   * @default 10
   */
  readonly storeErrors?: number;
  /**
   * Memory the cache's primary uses, in percent of what it may use (0 to 100).
   * @default 80
   */
  readonly cacheMemoryPercent?: number;
  /**
   * Keys the cache evicts in 5 minutes; each is a lost session.
   * @default 1
   */
  readonly cacheEvictions?: number;
  /**
   * How far the cache's first replica is behind the primary.
   * @default Duration.seconds(10)
   */
  readonly cacheReplicationLag?: Duration;
  /**
   * How far any read replica of the session database is behind its primary, for 3 minutes.
   * @default Duration.seconds(30)
   */
  readonly databaseReplicaLag?: Duration;
  /**
   * The file system's use of its I/O limit, in percent (0 to 100).
   * @default 90
   */
  readonly fileSystemIoLimitPercent?: number;
}

/** Properties of a {@link SessionDashboard}. */
export interface SessionDashboardProps {
  /** The load balancer in front of the fleets. */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /**
   * The blue fleet: an `AppFleet`, or a group of your own through `AppFleet.fromAutoScalingGroup`.
   * @default the blue one of `fleets`; one of the two is required
   */
  readonly blue?: IAppFleet;
  /**
   * The green fleet.
   * @default no green fleet (or the green one of `fleets`)
   */
  readonly green?: IAppFleet;
  /**
   * The fleets, one per color.
   * @deprecated use `blue` and `green`, which take any `IAppFleet`
   * @default none
   */
  readonly fleets?: AppFleet[];
  /**
   * The Redis cache the fleets use, if any.
   * @default no cache widgets or alarms
   */
  readonly sessionCache?: ISessionCache;
  /**
   * The file system the fleets use, if any.
   * @default no file-system widgets or alarms
   */
  readonly sessionFileSystem?: ISessionFileSystem;
  /**
   * The database the fleets use, if any.
   * @default no database widgets or alarms
   */
  readonly sessionDatabase?: ISessionDatabase;
  /** Alarm thresholds. @default the defaults of each {@link SessionAlarmThresholds} field */
  readonly thresholds?: SessionAlarmThresholds;
  /**
   * Where alarms and their recoveries are sent.
   * @default a new topic, encrypted with a customer managed key (rotated) that CloudWatch may use, TLS only
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The dashboard's name.
   * @default a name CloudFormation generates
   */
  readonly dashboardName?: string;
}

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
  private readonly loadBalancer: elbv2.ApplicationLoadBalancer;

  constructor(scope: Construct, id: string, props: SessionDashboardProps) {
    super(scope, id);
    const t = resolveThresholds(this, props.thresholds);
    this.loadBalancer = props.loadBalancer;
    this.alarmTopic = props.alarmTopic ?? this.createTopic();
    const fleets = fleetsByColor(this, props);

    for (const { color, fleet } of fleets) {
      const name = capitalize(color);
      this.colorAlarms.set(color, [
        this.alarm(`${name}UnhealthyHosts`, `${color}: ${t.unhealthyHosts} or more unhealthy targets for 3 minutes`,
          this.tgMetric(fleet, 'UnHealthyHostCount', 'Maximum', Duration.minutes(1)), t.unhealthyHosts, 3,
          cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD),
        this.alarm(`${name}Http5xxRate`, `${color}: more than ${t.http5xxPercent} % of requests answered 5xx by the targets over 5 minutes`,
          this.http5xxRate(color, fleet), t.http5xxPercent, 1, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
        this.alarm(`${name}LatencyP99`, `${color}: target response time p99 above ${t.latencyP99.toHumanString()} over 5 minutes`,
          this.tgMetric(fleet, 'TargetResponseTime', 'p99', Duration.minutes(5)), t.latencyP99.toMilliseconds() / 1000, 1,
          cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
        // Only an application that publishes the session metrics can breach this.
        ...fleet.publishesAppMetrics ? [this.alarm(`${name}StoreErrors`, `${color}: ${t.storeErrors} or more failed session-store calls in 5 minutes`,
          appMetric('StoreErrors', color, 'Sum', Duration.minutes(5)), t.storeErrors, 1,
          cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)] : [],
      ]);
    }
    const cache = props.sessionCache;
    if (cache) {
      this.alarm('CacheMemory', `session cache: primary memory above ${t.cacheMemoryPercent} %`,
        cache.metricMemory({ node: 1, period: Duration.minutes(5) }), t.cacheMemoryPercent, 1, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
      this.alarm('CacheEvictions', `session cache: ${t.cacheEvictions} or more keys evicted in 5 minutes (sessions lost)`,
        cache.metricEvictions({ node: 1, period: Duration.minutes(5) }), t.cacheEvictions, 1, cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
      this.alarm('CacheReplicationLag', `session cache: replica more than ${t.cacheReplicationLag.toHumanString()} behind for 3 minutes`,
        cache.metricReplicationLag({ node: 2, period: Duration.minutes(1) }), t.cacheReplicationLag.toMilliseconds() / 1000, 3,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    }
    const db = props.sessionDatabase;
    const replicas = Array.from({ length: db?.replicaCount ?? 0 }, (_, i) => i + 1);
    replicas.forEach((_, i) => {
      this.alarm(`DatabaseReplica${i + 1}Lag`, `session database: replica ${i + 1} more than ${t.databaseReplicaLag.toHumanString()} behind for 3 minutes (the app reads from the primary meanwhile)`,
        db!.metricReplicaLag({ replica: i + 1, period: Duration.minutes(1) }), t.databaseReplicaLag.toMilliseconds() / 1000, 3,
        cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    });
    const files = props.sessionFileSystem;
    if (files) {
      this.alarm('FileSystemIoLimit', `session files: above ${t.fileSystemIoLimitPercent} % of the I/O limit for 15 minutes`,
        files.metricPercentIoLimit({ period: Duration.minutes(5) }), t.fileSystemIoLimitPercent, 3,
        cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD);
    }

    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }));
    const perColor = (title: string, metric: (color: FleetColor, fleet: IAppFleet) => cloudwatch.Metric, unit = '', of = fleets) =>
      new cloudwatch.GraphWidget({
        title: unit ? `${title} (${unit})` : title,
        left: of.map(({ color, fleet }) => metric(color, fleet).with({ label: color, color: color === 'blue' ? cloudwatch.Color.BLUE : cloudwatch.Color.GREEN })),
        width: 8,
        height: 6,
      });
    const app = fleets.filter(({ fleet }) => fleet.publishesAppMetrics);
    const perColorApp = (title: string, metric: (color: FleetColor) => cloudwatch.Metric, unit = '') => perColor(title, metric, unit, app);
    this.dashboard.addWidgets(
      perColor('Requests', (_, f) => this.tgMetric(f, 'RequestCount', 'Sum', Duration.minutes(1))),
      perColor('Target 5xx', (_, f) => this.tgMetric(f, 'HTTPCode_Target_5XX_Count', 'Sum', Duration.minutes(1))),
      perColor('Target response time p99', (_, f) => this.tgMetric(f, 'TargetResponseTime', 'p99', Duration.minutes(1)), 'seconds'),
    );
    this.dashboard.addWidgets(
      perColor('Healthy targets', (_, f) => this.tgMetric(f, 'HealthyHostCount', 'Minimum', Duration.minutes(1))),
      perColor('Requests per target (the spread stickiness causes)', (_, f) => new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB', metricName: 'RequestCountPerTarget', statistic: 'Sum', period: Duration.minutes(1),
        dimensionsMap: { TargetGroup: targetGroupFullName(f.targetGroup) },
      })),
      perColor('Instances in service', (_, f) => new cloudwatch.Metric({
        namespace: 'AWS/AutoScaling', metricName: 'GroupInServiceInstances', statistic: 'Minimum', period: Duration.minutes(1),
        dimensionsMap: { AutoScalingGroupName: f.autoScalingGroup.autoScalingGroupName },
      })),
    );
    this.dashboard.addWidgets(
      perColorApp('Sessions created', (c) => appMetric('SessionsCreated', c, 'Sum', Duration.minutes(1))),
      perColorApp('Sessions saved', (c) => appMetric('SessionsSaved', c, 'Sum', Duration.minutes(1))),
      perColorApp('Sessions rejected (tampered, malformed)', (c) => appMetric('SessionsRejected', c, 'Sum', Duration.minutes(1))),
    );
    this.dashboard.addWidgets(
      perColorApp('Session age p50', (c) => appMetric('SessionAge', c, 'p50', Duration.minutes(5)), 'seconds'),
      perColorApp('Session size p99', (c) => appMetric('SessionSize', c, 'p99', Duration.minutes(5)), 'bytes'),
      perColorApp('Store latency p99', (c) => appMetric('StoreLatency', c, 'p99', Duration.minutes(1)), 'ms'),
    );
    this.dashboard.addWidgets(
      perColorApp('Store latency p50', (c) => appMetric('StoreLatency', c, 'p50', Duration.minutes(1)), 'ms'),
      perColorApp('Store errors', (c) => appMetric('StoreErrors', c, 'Sum', Duration.minutes(1))),
      perColorApp('Write conflicts', (c) => appMetric('WriteConflicts', c, 'Sum', Duration.minutes(1))),
    );
    if (cache) {
      const graph = (title: string, metric: cloudwatch.IMetric) => new cloudwatch.GraphWidget({ title, left: [metric], width: 8, height: 6 });
      this.dashboard.addWidgets(
        graph('Cache engine CPU (%)', cache.metricEngineCpu()),
        graph('Cache memory (%)', cache.metricMemory()),
        graph('Cache evictions', cache.metricEvictions()),
      );
      this.dashboard.addWidgets(
        graph('Cache connections', cache.metricConnections()),
        graph('Cache replication lag (seconds)', cache.metricReplicationLag()),
      );
    }
    if (db) {
      const graph = (title: string, metrics: cloudwatch.IMetric[]) => new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6 });
      const all = [0, ...replicas];
      const label = (i: number) => (i === 0 ? 'primary' : `replica ${i}`);
      this.dashboard.addWidgets(
        graph('Database CPU (%)', all.map((i) => db.metricCpu({ replica: i, label: label(i) }))),
        graph('Database connections', all.map((i) => db.metricConnections({ replica: i, label: label(i) }))),
        graph('Database replica lag (seconds)', replicas.map((i) => db.metricReplicaLag({ replica: i, label: label(i) }))),
      );
    }
    if (files) {
      const graph = (title: string, metric: cloudwatch.IMetric) => new cloudwatch.GraphWidget({ title, left: [metric], width: 8, height: 6 });
      this.dashboard.addWidgets(
        graph('File system throughput (bytes)', files.metricThroughput({ period: Duration.minutes(1) })),
        graph('File system I/O limit (%)', files.metricPercentIoLimit({ period: Duration.minutes(1) })),
        graph('File system burst credits', files.metricBurstCreditBalance({ period: Duration.minutes(5) })),
      );
    }
  }

  /**
   * The alarms that say a color is unwell: unhealthy targets, 5xx rate,
   * latency and store errors. `SessionTier` gates each traffic-shift step on
   * those of the color traffic moves to.
   */
  public alarmsFor(color: FleetColor): cloudwatch.IAlarm[] {
    return [...this.colorAlarms.get(color) ?? []];
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

  /** A metric of the load balancer for one fleet's target group (built by hand: the green group reaches the listener through the shifter's rule, which CDK does not see). */
  private tgMetric(fleet: IAppFleet, metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/ApplicationELB',
      metricName,
      statistic,
      period,
      dimensionsMap: { LoadBalancer: this.loadBalancer.loadBalancerFullName, TargetGroup: targetGroupFullName(fleet.targetGroup) },
    });
  }

  private http5xxRate(color: FleetColor, fleet: IAppFleet): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)',
      usingMetrics: {
        requests: this.tgMetric(fleet, 'RequestCount', 'Sum', Duration.minutes(5)),
        errors: this.tgMetric(fleet, 'HTTPCode_Target_5XX_Count', 'Sum', Duration.minutes(5)),
      },
      label: `${color} 5xx %`,
      period: Duration.minutes(5),
    });
  }

  /**
   * The alarm topic and its key. CloudWatch may use the key and publish to the
   * topic only for alarms of this account and region: the topic's policy
   * (which aws-cdk writes for `enforceSSL`) replaces SNS's default one, so
   * without this Allow no alarm could publish.
   */
  private createTopic(): sns.Topic {
    const stack = Stack.of(this);
    const fromAlarmsOfThisAccount = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
    };
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const key = customerManagedKey(this, 'AlarmTopicKey', 'Encrypts the session tier alarm topic; CloudWatch may use it to publish alarms');
    // CloudWatch alarms can publish only to topics whose key lets CloudWatch use it (the AWS managed key does not).
    key.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsOfThisAccount',
      principals: [cloudWatch],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromAlarmsOfThisAccount,
    }));
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Session tier alarms', masterKey: key, enforceSSL: true });
    topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsOfThisAccountPublish',
      principals: [cloudWatch],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: fromAlarmsOfThisAccount,
    }));
    return topic;
  }
}

/** A metric the sample app publishes, by color. */
function appMetric(metricName: string, color: FleetColor, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: APP_METRICS_NAMESPACE, metricName, statistic, period, dimensionsMap: { Color: color } });
}

/** The fleets by color, from `blue` and `green` or the deprecated `fleets`. */
function fleetsByColor(scope: Construct, props: SessionDashboardProps): Array<{ color: FleetColor; fleet: IAppFleet }> {
  const problems = new ProblemList();
  problems.check(props.fleets !== undefined && (props.blue !== undefined || props.green !== undefined),
    () => 'fleets: deprecated, and given together with blue or green; pass blue and green only');
  const blue = props.blue ?? props.fleets?.find((f) => f.color === 'blue');
  const green = props.green ?? props.fleets?.find((f) => f.color === 'green');
  problems.check(blue === undefined, () => 'blue: the dashboard needs a blue fleet, got none; pass blue (an AppFleet or AppFleet.fromAutoScalingGroup(...))');
  problems.throwIfAny(scope);
  return [{ color: 'blue' as const, fleet: blue! }, ...green ? [{ color: 'green' as const, fleet: green }] : []];
}

/** `targetgroup/<name>/<id>`, as CloudWatch names a target group: from the ARN, so a group of your own works too. */
function targetGroupFullName(targetGroup: elbv2.IApplicationTargetGroup): string {
  return targetGroup instanceof elbv2.ApplicationTargetGroup
    ? targetGroup.targetGroupFullName
    : Fn.select(5, Fn.split(':', targetGroup.targetGroupArn));
}

function capitalize(text: string): string {
  return text[0].toUpperCase() + text.slice(1);
}

type Resolved = Required<SessionAlarmThresholds>;

function resolveThresholds(scope: Construct, given: SessionAlarmThresholds = {}): Resolved {
  const t: Resolved = {
    unhealthyHosts: given.unhealthyHosts ?? 1,
    http5xxPercent: given.http5xxPercent ?? 5,
    latencyP99: given.latencyP99 ?? Duration.seconds(1),
    storeErrors: given.storeErrors ?? 10,
    cacheMemoryPercent: given.cacheMemoryPercent ?? 80,
    cacheEvictions: given.cacheEvictions ?? 1,
    cacheReplicationLag: given.cacheReplicationLag ?? Duration.seconds(10),
    databaseReplicaLag: given.databaseReplicaLag ?? Duration.seconds(30),
    fileSystemIoLimitPercent: given.fileSystemIoLimitPercent ?? 90,
  };
  const problems = new ProblemList();
  for (const name of ['http5xxPercent', 'cacheMemoryPercent', 'fileSystemIoLimitPercent'] as const) {
    problems.check(!(t[name] > 0 && t[name] <= 100), () => `thresholds.${name}: must be a percentage above 0 and at most 100, got ${t[name]}`);
  }
  for (const name of ['unhealthyHosts', 'storeErrors', 'cacheEvictions'] as const) {
    problems.check(!Number.isInteger(t[name]) || t[name] < 1, () => `thresholds.${name}: must be a whole number of at least 1, got ${t[name]}`);
  }
  for (const name of ['latencyP99', 'cacheReplicationLag', 'databaseReplicaLag'] as const) {
    problems.check(!(t[name].toMilliseconds() > 0), () => `thresholds.${name}: must be longer than 0, got ${t[name].toHumanString()}`);
  }
  problems.throwIfAny(scope);
  return t;
}

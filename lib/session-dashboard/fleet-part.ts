import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { IAppFleet } from '../app-fleet';
import { FleetColor } from '../contract/app-env';
import { SESSIONS_LOADED_METRIC, SESSIONS_LOST_METRIC, SESSION_CONTINUITY_DEFAULTS, continuityExpression } from '../contract/session-continuity';
import { inSeconds, partAlarm, shown } from './blocks';
import { TargetGroupMetrics, appMetric, targetGroupFullName } from './metrics';
import { DashboardPartBindOptions, DashboardPartConfig, IDashboardPart } from './part';
import { alarmThresholdsWithDefaults } from './thresholds';

/**
 * The share of a color's returning users who lost their session in a
 * minute, in percent, once `minimumLost` did (lib/contract/session-continuity.ts).
 */
function sessionsLostShare(color: FleetColor, minimumLost: number): cloudwatch.MathExpression {
  const minute = Duration.seconds(SESSION_CONTINUITY_DEFAULTS.periodSeconds);
  return new cloudwatch.MathExpression({
    expression: continuityExpression(minimumLost),
    usingMetrics: {
      lost: appMetric(SESSIONS_LOST_METRIC, color, 'Sum', minute),
      loaded: appMetric(SESSIONS_LOADED_METRIC, color, 'Sum', minute),
    },
    label: `${color} sessions lost %`,
    period: minute,
  });
}

/** A fleet and its color. */
export interface ColoredFleet {
  readonly color: FleetColor;
  readonly fleet: IAppFleet;
}

/**
 * The fleets' section: per color, the load balancer's view (requests, 5xx,
 * latency, healthy hosts, requests per target, instances in service) and the
 * app's own (sessions created, saved, rejected, their age and size, store
 * latency, errors and write conflicts), one line per color in each graph; and
 * each color's alarms: unhealthy hosts, 5xx rate, latency, store errors and
 * the session-continuity alarm (sessions lost).
 */
export class FleetDashboardPart implements IDashboardPart {
  private readonly targetGroups: TargetGroupMetrics;
  private readonly colorAlarms = new Map<FleetColor, cloudwatch.Alarm[]>();

  constructor(loadBalancer: elbv2.IApplicationLoadBalancer, private readonly fleets: ColoredFleet[]) {
    this.targetGroups = new TargetGroupMetrics(loadBalancer);
  }

  public bind(scope: Construct, options: DashboardPartBindOptions): DashboardPartConfig {
    const alarms = this.fleets.flatMap(({ color, fleet }) => {
      const own = this.addAlarms(scope, color, fleet, options);
      this.colorAlarms.set(color, own);
      return own;
    });
    return { title: 'Fleets', widgets: this.graphs(), alarms };
  }

  /** The alarms of one color, once bound: the gates of a traffic shift to it. */
  public alarmsFor(color: FleetColor): cloudwatch.Alarm[] {
    return [...this.colorAlarms.get(color) ?? []];
  }

  private addAlarms(scope: Construct, color: FleetColor, fleet: IAppFleet, options: DashboardPartBindOptions): cloudwatch.Alarm[] {
    const t = alarmThresholdsWithDefaults(options.alarmThresholds);
    const tg = this.targetGroups;
    const name = color[0].toUpperCase() + color.slice(1);
    return [
      partAlarm(scope, `${name}UnhealthyHosts`, {
        description: `${color}: ${shown(t.unhealthyHosts)} or more unhealthy targets for 3 minutes`,
        metric: tg.metric(fleet, 'UnHealthyHostCount', 'Maximum', Duration.minutes(1)),
        threshold: t.unhealthyHosts, evaluationPeriods: 3, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      partAlarm(scope, `${name}Http5xxRate`, {
        description: `${color}: more than ${shown(t.http5xxPercent)} % of requests answered 5xx by the targets over 5 minutes`,
        metric: tg.http5xxRate(color, fleet),
        threshold: t.http5xxPercent, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      partAlarm(scope, `${name}LatencyP99`, {
        description: `${color}: target response time p99 above ${shown(t.latencyP99)} over 5 minutes`,
        metric: tg.metric(fleet, 'TargetResponseTime', 'p99', Duration.minutes(5)),
        threshold: inSeconds(t.latencyP99), evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      // Only an application that publishes the session metrics can breach these.
      ...fleet.publishesAppMetrics ? [
        partAlarm(scope, `${name}StoreErrors`, {
          description: `${color}: ${shown(t.storeErrors)} or more failed session-store calls in 5 minutes`,
          metric: appMetric('StoreErrors', color, 'Sum', Duration.minutes(5)),
          threshold: t.storeErrors, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        }),
        // The session-continuity gate: a green whose store is not blue's passes every health check while it logs users out.
        partAlarm(scope, `${name}SessionsLost`, {
          description: `${color}: more than ${shown(t.sessionsLostPercent)} % of returning users lost their session in a minute ` +
            `(once ${shown(t.sessionsLostMinimum)} or more did): the store does not have sessions it should`,
          metric: sessionsLostShare(color, t.sessionsLostMinimum),
          threshold: t.sessionsLostPercent, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        }),
      ] : [],
    ];
  }

  /** Rows of three graphs: the load balancer's view, then the app's. */
  private graphs(): cloudwatch.IWidget[] {
    const tg = this.targetGroups;
    const perColor = (title: string, metric: (color: FleetColor, fleet: IAppFleet) => cloudwatch.Metric, unit = '', of = this.fleets) =>
      new cloudwatch.GraphWidget({
        title: unit ? `${title} (${unit})` : title,
        left: of.map(({ color, fleet }) => metric(color, fleet).with({ label: color, color: color === 'blue' ? cloudwatch.Color.BLUE : cloudwatch.Color.GREEN })),
        width: 8,
        height: 6,
      });
    const app = this.fleets.filter(({ fleet }) => fleet.publishesAppMetrics);
    const perColorApp = (title: string, metric: (color: FleetColor) => cloudwatch.Metric, unit = '') => perColor(title, metric, unit, app);
    return [
      perColor('Requests', (_, f) => tg.metric(f, 'RequestCount', 'Sum', Duration.minutes(1))),
      perColor('Target 5xx', (_, f) => tg.metric(f, 'HTTPCode_Target_5XX_Count', 'Sum', Duration.minutes(1))),
      perColor('Target response time p99', (_, f) => tg.metric(f, 'TargetResponseTime', 'p99', Duration.minutes(1)), 'seconds'),

      perColor('Healthy targets', (_, f) => tg.metric(f, 'HealthyHostCount', 'Minimum', Duration.minutes(1))),
      perColor('Requests per target (the spread stickiness causes)', (_, f) => new cloudwatch.Metric({
        namespace: 'AWS/ApplicationELB', metricName: 'RequestCountPerTarget', statistic: 'Sum', period: Duration.minutes(1),
        dimensionsMap: { TargetGroup: targetGroupFullName(f.targetGroup) },
      })),
      perColor('Instances in service', (_, f) => new cloudwatch.Metric({
        namespace: 'AWS/AutoScaling', metricName: 'GroupInServiceInstances', statistic: 'Minimum', period: Duration.minutes(1),
        dimensionsMap: { AutoScalingGroupName: f.autoScalingGroup.autoScalingGroupName },
      })),

      perColorApp('Sessions created', (c) => appMetric('SessionsCreated', c, 'Sum', Duration.minutes(1))),
      perColorApp('Sessions saved', (c) => appMetric('SessionsSaved', c, 'Sum', Duration.minutes(1))),
      perColorApp('Sessions rejected (tampered, malformed)', (c) => appMetric('SessionsRejected', c, 'Sum', Duration.minutes(1))),

      perColorApp('Sessions lost (the store no longer had them)', (c) => appMetric(SESSIONS_LOST_METRIC, c, 'Sum', Duration.minutes(1))),
      perColorApp('Sessions loaded', (c) => appMetric(SESSIONS_LOADED_METRIC, c, 'Sum', Duration.minutes(1))),
      perColorApp('Sessions expired', (c) => appMetric('SessionsExpired', c, 'Sum', Duration.minutes(1))),

      perColorApp('Session age p50', (c) => appMetric('SessionAge', c, 'p50', Duration.minutes(5)), 'seconds'),
      perColorApp('Session size p99', (c) => appMetric('SessionSize', c, 'p99', Duration.minutes(5)), 'bytes'),
      perColorApp('Store latency p99', (c) => appMetric('StoreLatency', c, 'p99', Duration.minutes(1)), 'ms'),

      perColorApp('Store latency p50', (c) => appMetric('StoreLatency', c, 'p50', Duration.minutes(1)), 'ms'),
      perColorApp('Store errors', (c) => appMetric('StoreErrors', c, 'Sum', Duration.minutes(1))),
      perColorApp('Write conflicts', (c) => appMetric('WriteConflicts', c, 'Sum', Duration.minutes(1))),
    ];
  }
}

import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { createAlarmTopic } from './alarm-topic';
import { FleetDashboardPart } from './fleet-part';
import { SessionDashboardProps } from './props';
import { resolveDashboardProps } from './resolve-props';

/**
 * A CloudWatch dashboard of session health, and the alarms that page on it
 * and gate traffic shifts, made of parts: the fleets' (per color, the load
 * balancer's view and the app's own: sessions, store latency and errors),
 * then one per store, each brought by the store (`store.dashboardPart()`),
 * then your own (`parts`). Every part's alarms notify one topic.
 */
export class SessionDashboard extends Construct {
  /** The CloudWatch dashboard. */
  public readonly cloudWatchDashboard: cloudwatch.Dashboard;
  /** Where the alarms notify. */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm, of every part. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly fleetPart: FleetDashboardPart;

  constructor(scope: Construct, id: string, props: SessionDashboardProps) {
    super(scope, id);
    const r = resolveDashboardProps(this, props);
    this.alarmTopic = r.alarmTopic ?? createAlarmTopic(this);
    // Every part's alarms live in this construct, so their ids read `<Dashboard>/<Color|Store><What>`.
    const sections = r.parts.map((part) => part.bind(this, { alarmThresholds: r.alarmThresholds }));
    this.fleetPart = r.fleetPart;

    for (const alarm of sections.flatMap((s) => s.alarms)) {
      alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
      alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
      this.alarms.push(alarm);
    }

    this.cloudWatchDashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: r.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    this.cloudWatchDashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }));
    for (const section of sections) {
      // Transparent, as the headings always were: aws-cdk-lib 2.276 writes it by default, 2.275 (our
      // lowest peer) writes no background and CloudWatch draws the text widget's default, solid
      // (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudwatch.TextWidgetProps.html).
      this.cloudWatchDashboard.addWidgets(new cloudwatch.TextWidget({
        markdown: `### ${section.title}`, width: 24, height: 1, background: cloudwatch.TextWidgetBackground.TRANSPARENT,
      }));
      this.cloudWatchDashboard.addWidgets(...section.widgets);
    }
  }

  /**
   * The alarms that say a color is unwell: unhealthy targets, 5xx rate,
   * latency and store errors. `SessionTier` gates each traffic-shift step on
   * those of the color traffic moves to.
   */
  public alarmsFor(color: FleetColor): cloudwatch.IAlarm[] {
    return this.fleetPart.alarmsFor(color);
  }
}

import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { SessionAlarmThresholds } from './thresholds';

/**
 * One section of a {@link SessionDashboard}: the graphs and alarms of one
 * fleet or store. Each store brings its own (`store.dashboardPart()`), and
 * `SessionDashboardProps.parts` takes sections of your own.
 */
export interface IDashboardPart {
  /** Creates the part's alarms in `scope` and returns its title, widgets and alarms. */
  bind(scope: Construct, options: DashboardPartBindOptions): DashboardPartConfig;
}

/** What a {@link SessionDashboard} gives each part it binds. */
export interface DashboardPartBindOptions {
  /**
   * The dashboard's alarm thresholds, every one set (given or default). A
   * part of your own may read its thresholds here or take its own.
   */
  readonly alarmThresholds: SessionAlarmThresholds;
}

/** One part's section, as the dashboard lays it out. */
export interface DashboardPartConfig {
  /** The section's title, shown as its heading. */
  readonly title: string;
  /** The section's widgets, laid out left to right in rows of 24 grid units. */
  readonly widgets: cloudwatch.IWidget[];
  /** The part's alarms: the dashboard shows them in its alarm status widget and sends them to its topic. */
  readonly alarms: cloudwatch.Alarm[];
}

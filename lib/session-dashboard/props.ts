import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IAppFleet } from '../app-fleet';
import { ISessionStore } from '../session-store';
import { IDashboardPart } from './part';
import { SessionAlarmThresholds } from './thresholds';

/** Properties of a {@link SessionDashboard}. */
export interface SessionDashboardProps {
  /** The load balancer in front of the fleets: yours, imported, or the tier's. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The blue fleet: an `AppFleet`, or a group of your own through `AppFleet.fromAppFleetAttributes`. */
  readonly blue: IAppFleet;
  /**
   * The green fleet.
   * @default no green fleet
   */
  readonly green?: IAppFleet;
  /**
   * The stores the fleets use: each brings its section of graphs and alarms
   * (`store.dashboardPart()`). A store given twice is shown once.
   * @default no store sections
   */
  readonly stores?: ISessionStore[];
  /**
   * Sections of your own, after the stores'.
   * @default none
   */
  readonly parts?: IDashboardPart[];
  /**
   * Alarm thresholds, for the fleets' and the stores' alarms.
   * @default the default of each {@link SessionAlarmThresholds} field
   */
  readonly alarmThresholds?: SessionAlarmThresholds;
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

import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { ProblemList } from '../private/problems';
import { FleetDashboardPart } from './fleet-part';
import { IDashboardPart } from './part';
import { SessionDashboardProps } from './props';
import { SessionAlarmThresholds, alarmThresholdsWithDefaults, checkAlarmThresholds } from './thresholds';

/** The props of a {@link SessionDashboard} with every default filled in and every rule checked. */
export interface ResolvedDashboardProps {
  /** Every threshold, given or default. */
  readonly alarmThresholds: Required<SessionAlarmThresholds>;
  /** The fleets' part, whose alarms of a color gate a shift to it. */
  readonly fleetPart: FleetDashboardPart;
  /** Every part in the order of the dashboard: the fleets', each store's (once), then the user's. */
  readonly parts: IDashboardPart[];
  /** Your topic; none means the dashboard creates one. */
  readonly alarmTopic?: sns.ITopic;
  readonly dashboardName?: string;
}

/** The thresholds with their defaults, and the parts to lay out. Collects every problem and throws once. */
export function resolveDashboardProps(scope: Construct, props: SessionDashboardProps): ResolvedDashboardProps {
  const alarmThresholds = alarmThresholdsWithDefaults(props.alarmThresholds);
  const problems = new ProblemList();
  checkAlarmThresholds(problems, alarmThresholds);
  problems.throwIfAny(scope);
  const fleetPart = new FleetDashboardPart(props.loadBalancer, [
    { color: FleetColor.BLUE, fleet: props.blue },
    ...props.green ? [{ color: FleetColor.GREEN, fleet: props.green }] : [],
  ]);
  // The tier's cache may be both the redis strategy's store and the database's write-through cache.
  const stores = [...new Set(props.stores ?? [])];
  return {
    alarmThresholds,
    fleetPart,
    parts: [fleetPart, ...stores.map((s) => s.dashboardPart()), ...props.parts ?? []],
    alarmTopic: props.alarmTopic,
    dashboardName: props.dashboardName,
  };
}

import { Duration } from 'aws-cdk-lib/core';
import { Construct } from 'constructs';
import { IAppFleet } from '../app-fleet';
import { FleetColor } from '../contract/app-env';
import { ProblemList } from '../private/problems';
import { SessionAlarmThresholds, SessionDashboardProps } from './props';

/** The props of a {@link SessionDashboard} with every default filled in and every rule checked. */
export interface ResolvedDashboardProps {
  /** Every threshold, given or default. */
  readonly thresholds: Required<SessionAlarmThresholds>;
  /** The fleets by color, blue first. */
  readonly fleets: Array<{ readonly color: FleetColor; readonly fleet: IAppFleet }>;
}

/**
 * The thresholds with their defaults, and the fleets by color (from `blue`
 * and `green`, or the deprecated `fleets`). Collects every problem and throws once.
 */
export function resolveDashboardProps(scope: Construct, props: SessionDashboardProps): ResolvedDashboardProps {
  const given = props.thresholds ?? {};
  const t: Required<SessionAlarmThresholds> = {
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
  problems.check(props.fleets !== undefined && (props.blue !== undefined || props.green !== undefined),
    () => 'fleets: deprecated, and given together with blue or green; pass blue and green only');
  const blue = props.blue ?? props.fleets?.find((f) => f.color === 'blue');
  const green = props.green ?? props.fleets?.find((f) => f.color === 'green');
  problems.check(blue === undefined, () => 'blue: the dashboard needs a blue fleet, got none; pass blue (an AppFleet or AppFleet.fromAutoScalingGroup(...))');
  problems.throwIfAny(scope);
  return {
    thresholds: t,
    fleets: [{ color: FleetColor.BLUE, fleet: blue! }, ...green ? [{ color: FleetColor.GREEN, fleet: green }] : []],
  };
}

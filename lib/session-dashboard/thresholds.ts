import { Duration } from 'aws-cdk-lib/core';
import { SESSION_CONTINUITY_DEFAULTS } from '../contract/session-continuity';
import { ProblemList } from '../private/problems';

/** Thresholds of the alarms a {@link SessionDashboard} creates, in the tier as on its own. */
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
   * The session-continuity alarm of a color: the share of its returning users
   * whose session the store no longer had (the sample app's `SessionsLost`, of
   * lost and loaded), in percent, in a minute (0 to 100). It gates every step
   * of a release in `SessionTier`.
   * @default 5
   */
  readonly sessionsLostPercent?: number;
  /**
   * ... once at least this many sessions were lost in the minute, so that a
   * replayed old cookie or two neither pages nor stops a release.
   * @default 3
   */
  readonly sessionsLostMinimum?: number;
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

/** Every threshold, given or default: what the dashboard resolves once and what each part reads. */
export function alarmThresholdsWithDefaults(given: SessionAlarmThresholds = {}): Required<SessionAlarmThresholds> {
  return {
    unhealthyHosts: given.unhealthyHosts ?? 1,
    http5xxPercent: given.http5xxPercent ?? 5,
    latencyP99: given.latencyP99 ?? Duration.seconds(1),
    storeErrors: given.storeErrors ?? 10,
    sessionsLostPercent: given.sessionsLostPercent ?? SESSION_CONTINUITY_DEFAULTS.lostPercent,
    sessionsLostMinimum: given.sessionsLostMinimum ?? SESSION_CONTINUITY_DEFAULTS.minimumLost,
    cacheMemoryPercent: given.cacheMemoryPercent ?? 80,
    cacheEvictions: given.cacheEvictions ?? 1,
    cacheReplicationLag: given.cacheReplicationLag ?? Duration.seconds(10),
    databaseReplicaLag: given.databaseReplicaLag ?? Duration.seconds(30),
    fileSystemIoLimitPercent: given.fileSystemIoLimitPercent ?? 90,
  };
}

/** Adds a problem for each threshold out of range, as `alarmThresholds.<name>`; a token is CloudFormation's to check. */
export function checkAlarmThresholds(problems: ProblemList, t: Required<SessionAlarmThresholds>): void {
  for (const name of ['http5xxPercent', 'sessionsLostPercent', 'cacheMemoryPercent', 'fileSystemIoLimitPercent'] as const) {
    problems.number(`alarmThresholds.${name}`, t[name], { above: 0, max: 100 }, 'a percentage');
  }
  for (const name of ['unhealthyHosts', 'storeErrors', 'sessionsLostMinimum', 'cacheEvictions'] as const) {
    problems.wholeNumber(`alarmThresholds.${name}`, t[name], { min: 1 });
  }
  for (const name of ['latencyP99', 'cacheReplicationLag', 'databaseReplicaLag'] as const) {
    problems.check(!t[name].isUnresolved() && !(t[name].toMilliseconds() > 0),
      () => `alarmThresholds.${name}: must be longer than 0, got ${t[name].toHumanString()}`);
  }
}

import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Duration } from 'aws-cdk-lib/core';
import { AppFleet, IAppFleet } from '../app-fleet';
import { ISessionCache } from '../redis-session-cache';
import { ISessionDatabase } from '../session-database';
import { ISessionFileSystem } from '../session-file-system';

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

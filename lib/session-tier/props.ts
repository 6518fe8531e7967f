import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AppFleetOptions } from '../app-fleet';
import { TestTrafficOptions } from '../blue-green-routing';
import { FleetColor } from '../contract/app-env';
import { ISessionCache, RedisSessionCacheOptions } from '../redis-session-cache';
import { SessionAlarmThresholds } from '../session-dashboard';
import { ISessionDatabase, SessionDatabaseOptions } from '../session-database';
import { ISessionFileSystem, SessionFileSystemOptions } from '../session-file-system';
import { ShiftPlan } from '../shift-plan';
import { Stickiness } from '../stickiness';

/** Properties of a {@link SessionTier}. */
export interface SessionTierProps {
  /**
   * The VPC. It needs public subnets for the load balancer and private subnets
   * with egress, in at least two Availability Zones, for the fleets.
   * @default a new VPC over two Availability Zones with public and private subnets, a NAT gateway per zone and flow logs
   */
  readonly vpc?: ec2.IVpc;

  /**
   * NAT gateways of the VPC the tier creates (ignored when `vpc` is given).
   * @default 2 (one per Availability Zone, so losing a zone keeps egress)
   */
  readonly natGateways?: number;

  /**
   * ARN of an ACM certificate for the load balancer. With it the tier serves
   * HTTPS on 443, redirects HTTP to it, and marks session cookies Secure.
   * @default HTTP on port 80 only (a warning says so)
   */
  readonly certificateArn?: string;

  /**
   * The blue fleet: what it runs, how it keeps sessions and how it scales.
   * The tier supplies the rest of its props (VPC, color, notification topic,
   * log key), the stores and keys its strategy lacks (shared with green), and
   * `secureCookies` (true when the tier serves HTTPS) unless set here.
   * @default memory sessions, load-balancer-cookie stickiness for 1 day, two to four t4g.small instances
   */
  readonly blue?: AppFleetOptions;

  /**
   * The green fleet.
   * @default no green fleet: the listener forwards straight to blue
   */
  readonly green?: AppFleetOptions;

  /**
   * The color that should serve everyone once a deploy is done. Change it and
   * deploy to move traffic by `shiftPlan`, in health-checked steps that roll
   * back by themselves.
   * @default FleetColor.BLUE
   */
  readonly targetColor?: FleetColor;

  /**
   * How traffic moves when `targetColor` changes.
   * @default ShiftPlan.allAtOnce()
   */
  readonly shiftPlan?: ShiftPlan;

  /**
   * Alarms that stop a shift: any in ALARM before a step cuts the target
   * color off (weight 0, no group stickiness) and fails the deploy.
   * @default no alarm gates (the target color's health is always a gate)
   */
  readonly gateAlarms?: cloudwatch.IAlarm[];

  /**
   * How long the shifter keeps watching the gates after the last step (see `BlueGreenRouting`).
   * @default no bake
   */
  readonly bakeTime?: Duration;

  /**
   * A Lambda function of yours asked before the first step, after each step
   * and after the bake (see `BlueGreenRouting`).
   * @default no hook
   */
  readonly hook?: lambda.IFunction;

  /**
   * How long one stage's hook may keep answering IN_PROGRESS.
   * @default Duration.minutes(2)
   */
  readonly hookTimeout?: Duration;

  /**
   * Requests with a header (and a cookie) you name go to the release's target
   * color before its first step and throughout the release (see `BlueGreenRouting`).
   * @default no test traffic
   */
  readonly testTraffic?: TestTrafficOptions;

  /**
   * Target-group stickiness between blue and green.
   * @default Stickiness.loadBalancerCookie(Duration.days(1)) with two fleets
   */
  readonly groupStickiness?: Stickiness;

  /**
   * The cache for fleets with the `redis` strategy, and the write-through
   * cache of fleets with the `database` strategy.
   * @default a new RedisSessionCache (with `cacheProps`) when a fleet uses `redis` or `database`; none otherwise
   */
  readonly sessionCache?: ISessionCache;

  /**
   * Overrides for the cache the tier creates.
   * @default RedisSessionCache's defaults
   */
  readonly cacheProps?: RedisSessionCacheOptions;

  /**
   * The file system for fleets with the `file` strategy.
   * @default a new SessionFileSystem (with `fileSystemProps`) when a fleet uses `file`; none otherwise
   */
  readonly sessionFileSystem?: ISessionFileSystem;

  /**
   * Overrides for the file system the tier creates.
   * @default SessionFileSystem's defaults
   */
  readonly fileSystemProps?: SessionFileSystemOptions;

  /**
   * The database for fleets with the `database` strategy.
   * @default a new SessionDatabase (with `databaseProps`) when a fleet uses `database`; none otherwise
   */
  readonly sessionDatabase?: ISessionDatabase;

  /**
   * Overrides for the database the tier creates.
   * @default SessionDatabase's defaults
   */
  readonly databaseProps?: SessionDatabaseOptions;

  /**
   * Bucket for the load balancer's access logs; it must use SSE-S3 (the only
   * encryption ALB log delivery supports).
   * @default a new bucket: SSE-S3, TLS only, no public access, versioned, EventBridge notifications, its own access logged to a second bucket, logs expire after 90 days
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * Refuse to delete the load balancer (Control Tower CT.ELASTICLOADBALANCING.PR.5).
   * Turn it off for a stack you mean to destroy.
   * @default true
   */
  readonly loadBalancerDeletionProtection?: boolean;

  /**
   * The key every log group of the tier is encrypted with (flow logs, the
   * fleets' metrics, the traffic shifter); its policy must let CloudWatch Logs use it.
   * @default a new customer managed key, rotated, usable by CloudWatch Logs for this account's log groups only
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Create a {@link SessionDashboard}: the dashboard, and alarms that notify
   * `alarmTopic` and gate every traffic-shift step on the health of the color
   * traffic moves to.
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * Thresholds of the dashboard's alarms.
   * @default SessionDashboard's defaults
   */
  readonly alarmThresholds?: SessionAlarmThresholds;

  /**
   * Where the dashboard's alarms notify.
   * @default a new topic, encrypted with a customer managed key, TLS only
   */
  readonly alarmTopic?: sns.ITopic;
}

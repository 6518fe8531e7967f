import { Duration, RemovalPolicy } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
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
   * A load balancer of yours (in this app, or imported with
   * `ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes` or
   * `fromLookup`): the tier creates none, and no access-logs bucket unless
   * `accessLogsBucket` is given (and the load balancer is of this app). It must
   * be in `vpc`, and let the fleets' port out to them (aws-cdk-lib opens it
   * on a security group it knows).
   * @default a new load balancer in the VPC's public subnets (see `internetFacing`)
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;

  /**
   * A listener of yours on `loadBalancer` (required with it: a listener does
   * not say which load balancer it belongs to). The tier leaves its default
   * action alone and routes through rules of its own, limited by `conditions`
   * at `rulePriority`. Cookies are Secure unless the listener is of this app
   * and serves HTTP (or a fleet's `secureCookies` says otherwise).
   * @default a new listener on the load balancer: HTTPS with `certificateArn`, else HTTP; its default action forwards to blue
   */
  readonly listener?: elbv2.IApplicationListener;

  /**
   * Requests the tier serves on a shared listener (host, path, header...),
   * as `BlueGreenRouting`'s `conditions`.
   * @default every request
   */
  readonly conditions?: elbv2.ListenerCondition[];

  /**
   * Priority of the tier's weighted listener rule, as `BlueGreenRouting`'s
   * `rulePriority`; on a `listener` of yours, blue's own rule takes the next one.
   * @default 50000 on the listener the tier creates, 49999 on yours
   */
  readonly rulePriority?: number;

  /**
   * Whether the load balancer the tier creates is internet-facing (in the
   * public subnets) or internal (in the private subnets).
   * @default true
   */
  readonly internetFacing?: boolean;

  /**
   * ARN of an ACM certificate for the load balancer. With it the tier serves
   * HTTPS on 443, redirects HTTP to it, and marks session cookies Secure.
   * Only for the listener the tier creates.
   * @default HTTP on port 80 only (a warning says so)
   */
  readonly certificateArn?: string;

  /**
   * The TLS policy of the HTTPS listener the tier creates (with `certificateArn`).
   * @default elbv2.SslPolicy.RECOMMENDED_TLS
   */
  readonly sslPolicy?: elbv2.SslPolicy;

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
   * encryption ALB log delivery supports). With `loadBalancer`, only for one
   * of this app (an `ApplicationLoadBalancer`): an imported one's logging is
   * set where it is defined.
   * @default a new bucket when the tier creates the load balancer: SSE-S3, TLS only, no public access, versioned, EventBridge notifications, its own access logged to a second bucket, logs expire after 90 days; none with `loadBalancer`
   */
  readonly accessLogsBucket?: s3.IBucket;

  /**
   * Refuse to delete the load balancer the tier creates (Control Tower CT.ELASTICLOADBALANCING.PR.5).
   * @default true, or false with `removalPolicy: RemovalPolicy.DESTROY`
   */
  readonly loadBalancerDeletionProtection?: boolean;

  /**
   * What happens on `cdk destroy` (or removal from the app) to what the tier
   * creates and would otherwise keep: the access-logs buckets, the KMS keys,
   * the log groups, and the stores it creates (unless their props set their
   * own). With `DESTROY` the buckets are emptied first (aws-cdk-lib's
   * auto-delete-objects function, placed in the VPC's private subnets) and
   * the load balancer's deletion protection is off, so `cdk destroy` finishes.
   * @default RemovalPolicy.RETAIN for buckets, keys and log groups, each store's own default for the stores
   */
  readonly removalPolicy?: RemovalPolicy;

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

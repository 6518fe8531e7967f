import { Duration } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IAppFleet } from '../app-fleet';
import { FleetColor } from '../contract/app-env';
import { SessionDashboard } from '../session-dashboard';
import { ShiftPlan } from '../shift-plan';
import { Stickiness } from '../stickiness';

/** The rule priority the traffic shifter uses by default: the last one, so rules of your own come first. */
export const DEFAULT_SHIFT_RULE_PRIORITY = 50_000;

/** Target-group stickiness between two fleets when none is given: the load balancer's cookie, for a day. */
export const DEFAULT_GROUP_STICKINESS = Stickiness.loadBalancerCookie(Duration.days(1));

/**
 * Test traffic: requests that carry a header (and, from a browser, a cookie)
 * you name go to the release's target color, before its first step and
 * throughout the release, so a team uses the new color with real sessions on
 * the real load balancer before any user is sent there.
 */
export interface TestTrafficOptions {
  /**
   * The header's value: 1 to 128 visible ASCII characters, without ELB's
   * wildcards `*` and `?`. It is in the template and the rule; it routes, it
   * does not authenticate.
   */
  readonly headerValue: string;

  /**
   * The header's name (RFC 7230 token, at most 40 characters).
   * @default 'X-Session-Tier-Preview'
   */
  readonly headerName?: string;

  /**
   * A cookie that does the same for a browser (set it with your browser's
   * developer tools, or a page of yours): `name=value`, each a cookie token
   * of at most 60 characters without `*` or `?`.
   * @default no cookie: the header alone
   */
  readonly cookieName?: string;

  /**
   * The cookie's value.
   * @default none; required with `cookieName`
   */
  readonly cookieValue?: string;

  /**
   * Priority of the header's rule; the cookie's takes the next. Both must
   * come before the weighted rule (a lower number).
   * @default the weighted rule's priority minus 2
   */
  readonly rulePriority?: number;
}

/** Properties of a {@link BlueGreenRouting}. */
export interface BlueGreenRoutingProps {
  /** The listener users reach. */
  readonly listener: elbv2.IApplicationListener;

  /** The blue fleet: an `AppFleet`, or a group of your own through `AppFleet.fromAppFleetAttributes`. */
  readonly blue: IAppFleet;

  /**
   * The green fleet. Without it the listener forwards straight to blue, the
   * only layout where application-cookie stickiness works.
   * @default no green fleet
   */
  readonly green?: IAppFleet;

  /**
   * The color that should have all the traffic once the deploy is done.
   * Change it and deploy to shift traffic by `shiftPlan`.
   * @default FleetColor.BLUE
   */
  readonly targetColor?: FleetColor;

  /**
   * How the traffic moves when `targetColor` changes.
   * @default ShiftPlan.allAtOnce()
   */
  readonly shiftPlan?: ShiftPlan;

  /**
   * Target-group stickiness: keeps a user on the color where the session
   * started (the `AWSALBTG` cookie), so a release does not bounce users
   * between versions. Only `Stickiness.loadBalancerCookie(...)` or
   * `Stickiness.none()`; it must be on when either fleet is sticky (AWS
   * rejects target stickiness without it).
   * @default Stickiness.loadBalancerCookie(Duration.days(1))
   */
  readonly groupStickiness?: Stickiness;

  /**
   * Healthy targets the target color needs before each step.
   * @default the target fleet's minCapacity
   */
  readonly minHealthyTargets?: number;

  /**
   * Alarms that stop the shift: any of them in ALARM before a step cuts
   * the target color off (weight 0, no group stickiness) and fails the deploy.
   * @default no alarm gates
   */
  readonly gateAlarms?: cloudwatch.IAlarm[];

  /**
   * How long the shifter keeps watching the gates after the last step; a
   * gate that fails during it cuts the target color off as a failed step
   * does. Counted in what CloudFormation can wait for (40 minutes with the plan and hooks).
   * @default no bake
   */
  readonly bakeTime?: Duration;

  /**
   * A Lambda function of yours the shifter calls, synchronously, before the
   * first step, after each step and after the bake, with what the release is
   * doing (`stage`, `targetColor`, `plan`, `weights`, `share`, the ARNs, and
   * the test header when there is test traffic); it answers
   * `{ "hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS", "reason"?: "..." }`.
   * FAILED (or an error, or any other answer) fails the release as a failed
   * gate does; IN_PROGRESS is asked again at the next check, up to
   * `hookTimeout`. The shifter may invoke it (granted here).
   * @default no hook
   */
  readonly hook?: lambda.IFunction;

  /**
   * How long one stage's hook may keep answering IN_PROGRESS.
   * @default Duration.minutes(2)
   */
  readonly hookTimeout?: Duration;

  /**
   * Send requests with a header (and a cookie) you name to the release's
   * target color, through rules of the shifter's with priorities before the
   * weighted rule's.
   * @default no test traffic
   */
  readonly testTraffic?: TestTrafficOptions;

  /**
   * Priority of the listener rule the traffic shifter owns (1 to 50000).
   * With `takeDefaultAction` false, blue also has a rule of its own with the
   * same `conditions` at `rulePriority + 1` (so at most 49999 here): it
   * serves blue alone, and with two fleets it is the fallback behind the
   * shifter's rule, as the default action is with `takeDefaultAction`.
   * Adding or removing green then never needs two rules at one priority.
   * @default 50000 with `takeDefaultAction`, 49999 without (evaluated after any rule of your own)
   */
  readonly rulePriority?: number;

  /**
   * Which requests the routing serves, on a listener you share with other
   * rules: host, path, header, query string, method or source address
   * (aws-cdk-lib's `elbv2.ListenerCondition`). They go on the weighted rule
   * and on the test-traffic rules (which add their header or cookie to them).
   * ELB allows at most one host, path, method and source-ip condition per rule,
   * 3 values per condition and 5 in all (test traffic takes one of them).
   * @default every request (`/*`)
   */
  readonly conditions?: elbv2.ListenerCondition[];

  /**
   * Make the listener's default action forward to blue. Leave it false on a
   * listener you share: its default action (a 404 of yours, another app)
   * stays yours, and a listener you made must have one of its own. Blue is
   * then reached through a rule with `conditions` at `rulePriority + 1`,
   * behind the shifter's weighted rule when there are two fleets. Not
   * possible on an imported listener (CloudFormation owns its default action
   * in another stack).
   * @default false
   */
  readonly takeDefaultAction?: boolean;

  /**
   * A `SessionDashboard` over these fleets: its alarms for the target color
   * (the session-continuity alarm among them: users who lost their session)
   * gate every step, besides `gateAlarms`.
   * @default no dashboard alarms gate the shift
   */
  readonly dashboard?: SessionDashboard;

  /**
   * How often the traffic shifter checks its gates and takes a due step.
   * @default Duration.seconds(30)
   */
  readonly checkInterval?: Duration;

  /**
   * The VPC the traffic shifter's functions run in (private subnets with a
   * route out: they call the ELB and CloudWatch APIs over HTTPS). `SessionTier`
   * passes its own.
   * @default outside any VPC (Control Tower's CT.LAMBDA.PR.3 refuses such functions)
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Subnets of `vpc` for the functions.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The key the shifter's log groups are encrypted with; its policy must let CloudWatch Logs use it.
   * @default a new customer managed key, rotated, for log groups of this account only
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * How long the shifter's log groups keep events.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

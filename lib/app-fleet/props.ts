import { Duration } from 'aws-cdk-lib/core';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { FleetApplication } from '../fleet-application';
import { SessionStrategy } from '../session-strategy';
import { Stickiness } from '../stickiness';

/**
 * A fleet behind the blue/green routing and on the dashboard: a target group
 * and the Auto Scaling group that fills it. `AppFleet` is one; a group and
 * target group of your own become one through `AppFleet.fromAppFleetAttributes`.
 */
export interface IAppFleet extends IConstruct {
  /** The target group the load balancer forwards this fleet's traffic to. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** The Auto Scaling group whose instances are the targets. */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** The fewest instances the group keeps: by default, the healthy targets a traffic shift needs. */
  readonly minCapacity: number;
  /** The stickiness of the target group, so that the routing can check AWS's rules for weighted groups. */
  readonly stickiness: Stickiness;
  /** Whether the application publishes the sample app's session metrics (namespace `SessionTier/App`). */
  readonly publishesAppMetrics: boolean;
  /**
   * Whether the application's cookies carry `Secure`, so they reach it over HTTPS only.
   * @default undefined: not known (a fleet of yours imported without it)
   */
  readonly secureCookies?: boolean;
  /**
   * The VPC of the fleet's instances.
   * @default undefined: not known (a fleet of yours imported without it)
   */
  readonly vpc?: ec2.IVpc;
}

/** A group and target group of your own, as `AppFleet.fromAppFleetAttributes` takes them. */
export interface AppFleetAttributes {
  /** The Auto Scaling group; its instances must be the target group's targets. */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** The target group. */
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** The group's minimum capacity: the healthy targets a traffic shift to it waits for. */
  readonly minCapacity: number;
  /**
   * The stickiness you set on the target group (its `stickiness.*` attributes).
   * @default Stickiness.none()
   */
  readonly stickiness?: Stickiness;
  /**
   * Whether your application publishes the sample app's session metrics (namespace `SessionTier/App`).
   * @default false
   */
  readonly publishesAppMetrics?: boolean;
  /**
   * Whether your application's session cookies carry `Secure`.
   * @default not known
   */
  readonly secureCookies?: boolean;
  /**
   * The VPC of your group's instances.
   * @default not known
   */
  readonly vpc?: ec2.IVpc;
}

/**
 * What a fleet runs and how it scales: what a user sets per color (the
 * `blue` and `green` of `SessionTier`, which supplies the rest of
 * {@link AppFleetProps}).
 */
export interface AppFleetOptions {
  /**
   * The application the instances run.
   * @default FleetApplication.sampleApp()
   */
  readonly application?: FleetApplication;

  /**
   * Where the application keeps its sessions, with its store:
   * `SessionStrategy.redis(cache)`, `SessionStrategy.file(files)`,
   * `SessionStrategy.database(db, { cache })`, `SessionStrategy.cookie()`.
   * The fleet opens the store to itself, grants what it reads at boot and
   * writes the store's settings into the application's environment.
   * @default SessionStrategy.memory()
   */
  readonly strategy?: SessionStrategy;

  /**
   * The release label the app shows (e.g. `v1.4.2`). Changing it rolls the fleet.
   * @default '1.0.0'
   */
  readonly version?: string;

  /**
   * How the load balancer keeps a user on one instance of this fleet.
   * @default Stickiness.loadBalancerCookie(Duration.days(1))
   */
  readonly stickiness?: Stickiness;

  /**
   * Subnets for the instances: private ones, spanning at least two Availability Zones.
   * @default { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Instance type; Graviton (`t4g`, `m7g`, ...) and x86 types both work, the
   * AMI follows the type's architecture. The group also launches the next
   * larger size of the same family that EC2 has (m7i.2xlarge, then
   * m7i.4xlarge) when this one has no capacity in a zone (see
   * `instanceTypes`); the sizes come from AWS's EC2 service model, shipped
   * with the package. A bare-metal size, a family's largest size, or a type
   * newer than that data gets no fallback: the group launches it alone, with
   * a warning (`cdk-session-tier:instanceTypeWithoutFallback`) to give
   * `instanceTypes` instead.
   * @default t4g.small
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The instance types the group may launch, in order of preference: it
   * launches the first, and the next only when a zone has no capacity for
   * the one before (a mixed instances policy, on-demand, prioritized). All
   * must share one architecture, the AMI's. Instead of `instanceType`. A type
   * the shipped EC2 data does not know gets a warning
   * (`cdk-session-tier:unknownInstanceType`), not an error: EC2 may have
   * launched it since.
   * @default `instanceType` and the next larger size of its family (t4g.small, t4g.medium)
   */
  readonly instanceTypes?: ec2.InstanceType[];

  /**
   * Fewest instances.
   * @default 2
   */
  readonly minCapacity?: number;

  /**
   * Most instances; must exceed `minCapacity` so a rolling update can replace
   * an instance while keeping `minCapacity` in service.
   * @default 4
   */
  readonly maxCapacity?: number;

  /**
   * Requests per minute per instance that target tracking aims for.
   * @default 1000
   */
  readonly targetRequestsPerMinute?: number;

  /**
   * How long after launch the Auto Scaling group ignores failed load balancer
   * health checks.
   * @default Duration.minutes(5)
   */
  readonly healthCheckGracePeriod?: Duration;

  /**
   * How long CloudFormation waits for each new instance's success signal,
   * which the instance sends only once the app answers its health check.
   * @default Duration.minutes(15)
   */
  readonly signalTimeout?: Duration;

  /**
   * How long the load balancer lets in-flight requests finish on a
   * deregistering instance: 0 to 3600 seconds.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;

  /**
   * Ramp-up time for new targets: 30 to 900 seconds. Not allowed with the
   * least-outstanding-requests algorithm.
   * @default no slow start
   */
  readonly slowStart?: Duration;

  /**
   * How the load balancer picks a target among healthy ones.
   * @default elbv2.TargetGroupLoadBalancingAlgorithmType.ROUND_ROBIN
   */
  readonly loadBalancingAlgorithm?: elbv2.TargetGroupLoadBalancingAlgorithmType;

  /**
   * Whether users reach the app over HTTPS only, so its session cookie
   * carries `Secure` and a browser never sends it over plain HTTP. Turn it
   * off only behind a plain-HTTP listener (a warning,
   * `cdk-session-tier:insecureCookies`, says so).
   * @default true
   */
  readonly secureCookies?: boolean;

  /**
   * Size of the encrypted gp3 root volume, in GiB: a whole number, no
   * smaller than the image's root snapshot (EC2 refuses a smaller one).
   * @default 8
   */
  readonly rootVolumeSize?: number;

  /**
   * How often the app publishes its metrics (Embedded Metric Format, through
   * the CloudWatch agent that user data installs): 1 s to 1 hour. Only for an
   * application that publishes them (the sample app).
   * @default Duration.minutes(1)
   */
  readonly metricsInterval?: Duration;

  /**
   * How long the fleet's log group (the app's metric documents) keeps events.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Properties of an {@link AppFleet}: its options, and where and as what it runs. */
export interface AppFleetProps extends AppFleetOptions {
  /** The VPC to place the fleet in. */
  readonly vpc: ec2.IVpc;

  /** Which color this fleet is; shown by the app and used in names. */
  readonly color: FleetColor;

  /**
   * Where the Auto Scaling group reports launches, terminations and failures.
   * @default a new topic, encrypted and TLS-only
   */
  readonly notificationsTopic?: sns.ITopic;

  /**
   * The key the fleet's log group is encrypted with; its policy must let
   * CloudWatch Logs use it.
   * @default a new customer managed key, rotated, for log groups of this account only (when the application publishes metrics)
   */
  readonly logEncryptionKey?: kms.IKey;
}

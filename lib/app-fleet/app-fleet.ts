import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IDependable } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { ISessionStrategyTarget, SessionStrategy } from '../session-strategy';
import { Stickiness } from '../stickiness';
import { createAutoScalingGroup } from './auto-scaling';
import { BootScriptBuilder } from './boot-script';
import { ImportedAppFleet } from './imported';
import { createInstances } from './instances';
import { shipMetrics } from './metrics-shipping';
import { AppFleetAttributes, AppFleetProps, IAppFleet } from './props';
import { resolveFleetProps } from './resolve-props';
import { createTargetGroup } from './target-group';

/**
 * One color of the web tier: instances running an application (the sample
 * app by default, or yours), their Auto Scaling group and the target group
 * the load balancer sends them traffic through, wired to the session store
 * of its strategy.
 *
 * Instances run Amazon Linux 2023 with IMDSv2 required, an encrypted gp3 root
 * volume, detailed monitoring, Session Manager access and no SSH. The group
 * spans at least two Availability Zones, replaces instances that fail the load
 * balancer's health check, tracks requests per target, and rolls one instance
 * at a time, waiting for each to answer its health check. The instances may
 * reach HTTPS (AWS APIs, packages) and the ports of their store, nothing else.
 */
export class AppFleet extends Construct implements IAppFleet, ISessionStrategyTarget {
  /**
   * A group and target group of your own, for the routing and the dashboard.
   * Creates no resource.
   */
  public static fromAppFleetAttributes(scope: Construct, id: string, attrs: AppFleetAttributes): IAppFleet {
    return new ImportedAppFleet(scope, id, attrs);
  }

  /** The fleet's color. */
  public readonly color: FleetColor;
  /** The VPC of the fleet's instances (always set; optional as `IAppFleet`'s, which jsii languages require). */
  public readonly vpc?: ec2.IVpc;
  /** Where the app keeps its sessions. */
  public readonly strategy: SessionStrategy;
  /** How the load balancer keeps a user on one instance. */
  public readonly stickiness: Stickiness;
  /** The name of the app's session cookie. */
  public readonly cookieName: string;
  /** Whether the app's cookies carry `Secure` (always set; optional as `IAppFleet`'s). */
  public readonly secureCookies?: boolean;
  /** The port the application listens on. */
  public readonly appPort: number;
  /** The fewest instances the group keeps. */
  public readonly minCapacity: number;
  /** Whether the application publishes the sample app's session metrics. */
  public readonly publishesAppMetrics: boolean;
  /** The instances' security group rules. */
  public readonly connections: ec2.Connections;
  /** The instances' role; grant the app permissions to it. */
  public readonly role: iam.IRole;
  /** The principal to grant the app's permissions to. */
  public readonly grantPrincipal: iam.IPrincipal;
  /** The launch template of the instances. */
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The target group the load balancer forwards this color's traffic to. */
  public readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** The Auto Scaling group. */
  public readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** The topic that receives the group's scaling notifications. */
  public readonly notificationsTopic: sns.ITopic;
  /** The key that seals `cookie` sessions, when the strategy is `cookie`. */
  public readonly cookieSecret?: secretsmanager.ISecret;
  /** The key that signs the session ids (`SESSION_ID_KEYS`), when the strategy keeps sessions on the server and has one. */
  public readonly sessionIdKey?: secretsmanager.ISecret;
  /** Where the CloudWatch agent ships the app's Embedded Metric Format documents, one stream per instance; only for an application that publishes metrics. */
  public readonly logGroup?: logs.LogGroup;

  /** What the instances do at boot, added to by the fleet, its strategy and its metrics shipping. */
  private readonly boot = new BootScriptBuilder(this);

  constructor(scope: Construct, id: string, props: AppFleetProps) {
    super(scope, id);
    // Resolved once; each step below reads only the result, in the order they run.
    const r = resolveFleetProps(this, props);
    this.color = r.color;
    this.vpc = r.vpc;
    this.strategy = r.strategy;
    this.stickiness = r.stickiness;
    this.cookieName = r.cookieName;
    this.secureCookies = r.secureCookies;
    this.minCapacity = r.minCapacity;

    const application = r.application.bind(this);
    this.appPort = application.port;
    this.publishesAppMetrics = application.publishesMetrics;

    const instances = createInstances(this, r, application);
    this.role = instances.role;
    this.grantPrincipal = instances.role;
    this.launchTemplate = instances.launchTemplate;
    const targetGroup = createTargetGroup(this, r, application);
    this.targetGroup = targetGroup;
    const { group, notificationsTopic } = createAutoScalingGroup(this, r, instances.launchTemplate, targetGroup);
    this.autoScalingGroup = group;
    this.notificationsTopic = notificationsTopic;
    this.connections = group.connections;

    const binding = this.strategy.bind(this);
    this.cookieSecret = binding.cookieSecret;
    this.sessionIdKey = binding.sessionIdKey;
    this.logGroup = application.publishesMetrics ? shipMetrics(this, r, this.role, this.boot) : undefined;
    this.boot.addTo(this.launchTemplate, group, application, r);
  }

  /**
   * Adds an environment variable to the app's environment file.
   * @param name a shell-style name (`[A-Z_][A-Z0-9_]*`)
   * @param value any single-line value; tokens are resolved at deploy time
   */
  public addEnvironment(name: string, value: string): void {
    this.boot.addEnvironment(name, value);
  }

  /**
   * Makes a secret's value available to the app as an environment variable.
   * The value is fetched at boot into a file only root reads; it never enters
   * the template. A fetch that fails, or a value that is empty or spans
   * lines, fails the instance's boot. Grants the instances read access to
   * the secret.
   * @param field of a JSON secret (an RDS secret's `password`, say), the field
   * whose value to use; without it, the whole secret string
   */
  public addSecretEnvironment(name: string, secret: secretsmanager.ISecret, field?: string): void {
    this.boot.addSecretEnvironment(name, secret, field);
    secret.grantRead(this.role);
  }

  /** Adds Amazon Linux 2023 packages that user data installs (one dnf transaction, retried). */
  public addPackages(...packages: string[]): void {
    this.boot.addPackages(...packages);
  }

  /**
   * Adds shell commands that user data runs after writing the app's
   * environment and before starting the app (mounting a file system, say).
   * A failing command fails the instance's launch signal.
   */
  public addBootCommands(...commands: string[]): void {
    this.boot.addBootCommands(...commands);
  }

  /** Adds `[Unit]` settings to the app's systemd unit, e.g. `RequiresMountsFor=/mnt/sessions`. */
  public addUnitSetting(...settings: string[]): void {
    this.boot.addUnitSetting(...settings);
  }

  /**
   * Adds `[Service]` settings to the app's systemd unit, e.g.
   * `ReadWritePaths=/mnt/sessions` (the unit's file system is read-only otherwise).
   */
  public addServiceSetting(...settings: string[]): void {
    this.boot.addServiceSetting(...settings);
  }

  /** Makes the Auto Scaling group (and so every instance's boot) wait for these at deploy time. */
  public addBootDependency(...dependables: IDependable[]): void {
    this.autoScalingGroup.node.addDependency(...dependables);
  }

  /** Adds a statement to the instances' role. */
  public addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}

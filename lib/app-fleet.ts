import { Annotations, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib/core';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IDependable } from 'constructs';
import { APP_ENV, DEFAULT_COOKIE_NAME, FLEET_COLORS, FleetColor } from './contract/app-env';
import { SessionTierValidationError } from './errors';
import { FleetApplication, FleetApplicationConfig } from './fleet-application';
import { acknowledgeControl } from './private/control-tower';
import { DEFAULT_LOG_RETENTION, encryptedLogGroup, logsKey } from './private/keys';
import { encryptedTopic } from './private/notification-topic';
import { ProblemList } from './private/problems';
import { SecretReference, renderBootScript } from './private/user-data';
import { ISessionStrategyTarget, SessionStrategy } from './session-strategy';
import { Stickiness } from './stickiness';

/**
 * A fleet behind the blue/green routing and on the dashboard: a target group
 * and the Auto Scaling group that fills it. `AppFleet` is one; a group and
 * target group of your own become one through `AppFleet.fromAutoScalingGroup`.
 */
export interface IAppFleet {
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
}

/** A group and target group of your own, as `AppFleet.fromAutoScalingGroup` takes them. */
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
   * Whether your application publishes the sample app's session metrics (see APP_METRICS_NAMESPACE).
   * @default false
   */
  readonly publishesAppMetrics?: boolean;
}

/** Properties of an {@link AppFleet}. */
export interface AppFleetProps {
  /** The VPC to place the fleet in. */
  readonly vpc: ec2.IVpc;

  /** Which color this fleet is; shown by the app and used in names. */
  readonly color: FleetColor;

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
   * size of the same family when this one has no capacity in a zone (see
   * `instanceTypes`).
   * @default t4g.small
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * The instance types the group may launch, in order of preference: it
   * launches the first, and the next only when a zone has no capacity for
   * the one before (a mixed instances policy, on-demand, prioritized). All
   * must share one architecture, the AMI's. Instead of `instanceType`.
   * @default `instanceType` and the next size of its family (t4g.small, t4g.medium)
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
   * Port the sample app listens on.
   * @deprecated use `application: FleetApplication.sampleApp({ port })`
   * @default 8080
   */
  readonly appPort?: number;

  /**
   * Whether users reach the app over HTTPS, so its cookies carry `Secure`.
   * @default false
   */
  readonly secureCookies?: boolean;

  /**
   * The key that seals `cookie` sessions.
   * @deprecated use `strategy: SessionStrategy.cookie({ secret })`
   * @default a new generated secret, when the strategy is `cookie`
   */
  readonly cookieSecret?: secretsmanager.ISecret;

  /**
   * Where the Auto Scaling group reports launches, terminations and failures.
   * @default a new topic, encrypted and TLS-only
   */
  readonly notificationsTopic?: sns.ITopic;

  /**
   * Size of the encrypted gp3 root volume, in GiB.
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

  /**
   * The key the fleet's log group is encrypted with; its policy must let
   * CloudWatch Logs use it.
   * @default a new customer managed key, rotated, for log groups of this account only (when the application publishes metrics)
   */
  readonly logEncryptionKey?: kms.IKey;
}

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
  /** A group and target group of your own, for the routing and the dashboard. */
  public static fromAutoScalingGroup(scope: Construct, id: string, attrs: AppFleetAttributes): IAppFleet {
    return new ImportedAppFleet(scope, id, attrs);
  }

  /** The fleet's color. */
  public readonly color: FleetColor;
  /** Where the app keeps its sessions. */
  public readonly strategy: SessionStrategy;
  /** How the load balancer keeps a user on one instance. */
  public readonly stickiness: Stickiness;
  /** The name of the app's session cookie. */
  public readonly cookieName: string;
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
  /** The Auto Scaling group. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The target group the load balancer forwards this color's traffic to. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The topic that receives the group's scaling notifications. */
  public readonly notificationsTopic: sns.ITopic;
  /** The key that seals `cookie` sessions, when the strategy is `cookie`. */
  public readonly cookieSecret?: secretsmanager.ISecret;
  /** Where the CloudWatch agent ships the app's Embedded Metric Format documents, one stream per instance; only for an application that publishes metrics. */
  public readonly logGroup?: logs.LogGroup;

  private readonly environment: Record<string, string> = {};
  private readonly secretEnvironment: Record<string, SecretReference> = {};
  private readonly packages: string[] = [];
  private readonly bootCommands: string[] = [];
  private readonly unitSettings: string[] = [];
  private readonly serviceSettings: string[] = [];
  private instanceIdVariable?: string;

  constructor(scope: Construct, id: string, props: AppFleetProps) {
    super(scope, id);
    const resolved = resolveFleetProps(this, props);
    this.color = props.color;
    this.minCapacity = resolved.minCapacity;
    this.stickiness = resolved.stickiness;
    this.cookieName = this.stickiness.cookieName ?? DEFAULT_COOKIE_NAME;
    const application = resolved.application.bind(this);
    this.appPort = application.port;
    this.publishesAppMetrics = application.publishesMetrics;

    this.role = this.createRole();
    this.grantPrincipal = this.role;
    const securityGroup = this.createSecurityGroup(props.vpc);
    this.launchTemplate = this.createLaunchTemplate(resolved, application, securityGroup, props);
    this.notificationsTopic = props.notificationsTopic ?? encryptedTopic(this, 'Notifications', `${this.color} fleet scaling events`);
    this.autoScalingGroup = this.createAutoScalingGroup(props, resolved);
    this.connections = this.autoScalingGroup.connections;
    if (application.asset) {
      // Exactly the one object, not the asset bucket.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [application.asset.bucket.arnForObjects(application.asset.s3ObjectKey)],
      }));
    }
    this.targetGroup = this.createTargetGroup(props, resolved, application.healthCheckPath);
    this.trackRequestsPerTarget(props.targetRequestsPerMinute ?? 1000);

    this.writeAppEnvironment(props);
    this.strategy = resolved.strategy;
    this.cookieSecret = this.strategy.bind(this).cookieSecret;
    this.logGroup = application.publishesMetrics
      ? this.shipMetrics(props.metricsInterval ?? Duration.minutes(1), props.logRetention ?? DEFAULT_LOG_RETENTION,
        props.logEncryptionKey ?? logsKey(this, 'LogsKey', `Encrypts the ${this.color} fleet's log group`))
      : undefined;
    this.addBootScript(application, resolved.signalTimeout);
  }

  /**
   * Adds an environment variable to the app's environment file.
   * @param name a shell-style name (`[A-Z_][A-Z0-9_]*`)
   * @param value any single-line value; tokens are resolved at deploy time
   */
  public addEnvironment(name: string, value: string): void {
    checkEnvironmentName(name, this);
    if (!Token.isUnresolved(value) && /[\r\n\0]/.test(value)) {
      throw new SessionTierValidationError(`environment: ${name} must be a single line, got ${JSON.stringify(value)}; remove the line breaks`, this);
    }
    this.environment[name] = value;
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
    checkEnvironmentName(name, this);
    if (field !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) {
      throw new SessionTierValidationError(`field: must be a JSON key of letters, digits and underscores, got ${JSON.stringify(field)}`, this);
    }
    this.secretEnvironment[name] = { secret, field };
    secret.grantRead(this.role);
  }

  /** Adds Amazon Linux 2023 packages that user data installs (one dnf transaction, retried). */
  public addPackages(...packages: string[]): void {
    for (const pkg of packages) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(pkg)) {
        throw new SessionTierValidationError(`packages: must be an Amazon Linux 2023 package name like nodejs22, got ${JSON.stringify(pkg)}`, this);
      }
    }
    this.packages.push(...packages);
  }

  /**
   * Adds shell commands that user data runs after writing the app's
   * environment and before starting the app (mounting a file system, say).
   * A failing command fails the instance's launch signal.
   */
  public addBootCommands(...commands: string[]): void {
    this.bootCommands.push(...commands);
  }

  /** Adds `[Unit]` settings to the app's systemd unit, e.g. `RequiresMountsFor=/mnt/sessions`. */
  public addUnitSetting(...settings: string[]): void {
    this.unitSettings.push(...checkUnitSettings(settings, this));
  }

  /**
   * Adds `[Service]` settings to the app's systemd unit, e.g.
   * `ReadWritePaths=/mnt/sessions` (the unit's file system is read-only otherwise).
   */
  public addServiceSetting(...settings: string[]): void {
    this.serviceSettings.push(...checkUnitSettings(settings, this));
  }

  /** Makes the Auto Scaling group (and so every instance's boot) wait for these at deploy time. */
  public addBootDependency(...dependables: IDependable[]): void {
    this.autoScalingGroup.node.addDependency(...dependables);
  }

  /** Adds a statement to the instances' role. */
  public addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }

  private createRole(): iam.Role {
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Instances of the ${this.color} fleet: Session Manager access and what the session app needs`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH (no key pair, no port 22); AWS keeps it current as the agent changes.',
    });
    return role;
  }

  /** HTTPS out (AWS APIs, packages, S3); the store's port is added when the strategy binds. */
  private createSecurityGroup(vpc: ec2.IVpc): ec2.SecurityGroup {
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: `${this.color} fleet: app port from the load balancer only; out: HTTPS and its session store`,
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: AWS APIs, packages and S3');
    return securityGroup;
  }

  private createLaunchTemplate(r: ResolvedFleetProps, application: FleetApplicationConfig, securityGroup: ec2.ISecurityGroup, props: AppFleetProps): ec2.LaunchTemplate {
    const instanceType = r.instanceTypes[0];
    return new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: application.machineImage ?? ec2.MachineImage.latestAmazonLinux2023({
        kernel: ec2.AmazonLinux2023Kernel.DEFAULT,
        cpuType: instanceType.architecture === ec2.InstanceArchitecture.ARM_64
          ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
      }),
      instanceType,
      role: this.role,
      securityGroup,
      userData: ec2.UserData.forLinux(),
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      detailedMonitoring: true,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeSize ?? 8, {
          encrypted: true,
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          deleteOnTermination: true,
        }),
      }],
    });
  }

  private createAutoScalingGroup(props: AppFleetProps, r: ResolvedFleetProps): autoscaling.AutoScalingGroup {
    const group = new autoscaling.AutoScalingGroup(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets: r.vpcSubnets,
      // Several types, preferred in order: a zone short of the first still launches (Control Tower CT.AUTOSCALING.PR.6).
      mixedInstancesPolicy: {
        launchTemplate: this.launchTemplate,
        launchTemplateOverrides: r.instanceTypes.map((instanceType) => ({ instanceType })),
        instancesDistribution: {
          onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
          onDemandPercentageAboveBaseCapacity: 100,
        },
      },
      minCapacity: r.minCapacity,
      maxCapacity: r.maxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(5),
      }),
      cooldown: Duration.minutes(5),
      defaultInstanceWarmup: Duration.minutes(2),
      signals: autoscaling.Signals.waitForMinCapacity({ timeout: r.signalTimeout }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        // Keep serving at full strength while an instance is replaced.
        minInstancesInService: Math.max(0, Math.min(r.minCapacity, r.maxCapacity - 1)),
        pauseTime: r.signalTimeout,
        waitOnResourceSignals: true,
      }),
      notifications: [{ topic: this.notificationsTopic }],
      // Instances in service and desired, for the dashboard.
      groupMetrics: [new autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES, autoscaling.GroupMetric.DESIRED_CAPACITY)],
    });
    const subnets = props.vpc.selectSubnets(r.vpcSubnets);
    // Instances install packages and fetch their app at boot: they start once the subnets' routes out (NAT) exist.
    group.node.addDependency(subnets.internetConnectivityEstablished);
    // The zones of the subnets, named as well: Control Tower's hook (CT.AUTOSCALING.PR.1) reads this property, not the subnets.
    (group.node.defaultChild as autoscaling.CfnAutoScalingGroup).availabilityZones = subnets.availabilityZones;
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-EC26',
      reason: 'The launch template encrypts the root volume (gp3, Encrypted true, asserted in the tests); cdk-nag cannot follow the launch template reference inside a mixed instances policy and reports an error instead of a finding.',
    });
    acknowledgeControl(group, 'CT.AUTOSCALING.PR.11',
      'Nitro encryption in transit protects traffic between two instances of supported types, and these instances talk to no other instance: ' +
      'only to the load balancer, to their session store over TLS (ElastiCache, RDS, EFS) and to AWS APIs over HTTPS. The default t4g types ' +
      'lack the feature; m7g or c7g types (instanceTypes) pass the control at more than twice the price (m7g.medium against t4g.small).');
    return group;
  }

  private createTargetGroup(props: AppFleetProps, r: ResolvedFleetProps, healthCheckPath: string): elbv2.ApplicationTargetGroup {
    const targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      port: this.appPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      targets: [this.autoScalingGroup],
      deregistrationDelay: r.deregistrationDelay,
      slowStart: props.slowStart,
      loadBalancingAlgorithmType: props.loadBalancingAlgorithm,
      healthCheck: {
        path: healthCheckPath,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    for (const [key, value] of Object.entries(this.stickiness.targetGroupAttributes())) {
      targetGroup.setAttribute(key, value);
    }
    return targetGroup;
  }

  /**
   * Target tracking on requests per target. Its resource label names the load
   * balancer, known once a listener (or the traffic shifter's rule) forwards to
   * the group; Auto Scaling refuses the policy until then, so it waits for that.
   */
  private trackRequestsPerTarget(targetValue: number): void {
    const targetGroup = this.targetGroup;
    const attached = () => {
      try {
        return targetGroup.firstLoadBalancerFullName;
      } catch {
        return undefined;
      }
    };
    // Checked before the label is rendered, so the error is one line of ours, not a resolution error of aws-cdk-lib's.
    this.node.addValidation({
      validate: () => attached() === undefined
        ? ['targetGroup: no load balancer forwards to it, so requests per target cannot be tracked; forward a listener to fleet.targetGroup ' +
          '(listener.addAction(..., { action: ListenerAction.forward([fleet.targetGroup]) }), or BlueGreenRouting / SessionTier, which do)']
        : [],
    });
    const policy = new autoscaling.TargetTrackingScalingPolicy(this, 'RequestsPerTarget', {
      autoScalingGroup: this.autoScalingGroup,
      predefinedMetric: autoscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
      targetValue,
      resourceLabel: Lazy.string({ produce: () => `${attached()}/${targetGroup.targetGroupFullName}` }),
    });
    policy.node.addDependency(targetGroup.loadBalancerAttached);
  }

  /** What every application reads: who it is, where it listens, how it names and secures its cookie. */
  private writeAppEnvironment(props: AppFleetProps): void {
    this.addEnvironment(APP_ENV.COLOR, this.color);
    this.addEnvironment(APP_ENV.VERSION, props.version ?? '1.0.0');
    this.addEnvironment(APP_ENV.HOST, '0.0.0.0');
    this.addEnvironment(APP_ENV.PORT, String(this.appPort));
    this.addEnvironment(APP_ENV.COOKIE_NAME, this.cookieName);
    this.addEnvironment(APP_ENV.SECURE_COOKIE, String(props.secureCookies ?? false));
    this.addEnvironment(APP_ENV.INSTANCE_METADATA, 'imds');
  }

  /**
   * Installs the CloudWatch agent with its Embedded Metric Format listener
   * (TCP and UDP 127.0.0.1:25888) and points the app at it; the agent writes
   * to the fleet's log group, a stream per instance, and CloudWatch extracts
   * the metrics.
   */
  private shipMetrics(interval: Duration, retention: logs.RetentionDays, key: kms.IKey): logs.LogGroup {
    const logGroup = encryptedLogGroup(this, 'AppMetrics', key, retention);
    logGroup.grantWrite(this.role);
    this.addEnvironment(APP_ENV.METRICS_INTERVAL, String(interval.toSeconds()));
    this.addEnvironment('AWS_EMF_ENVIRONMENT', 'Agent');
    this.addEnvironment('AWS_EMF_AGENT_ENDPOINT', 'tcp://127.0.0.1:25888');
    this.addEnvironment('AWS_EMF_SERVICE_NAME', 'session-app');
    this.addEnvironment('AWS_EMF_LOG_GROUP_NAME', logGroup.logGroupName);
    // A stream per instance.
    this.instanceIdVariable = 'AWS_EMF_LOG_STREAM_NAME';
    const config = JSON.stringify({ agent: { run_as_user: 'cwagent' }, logs: { metrics_collected: { emf: {} }, force_flush_interval: 15 } });
    const configFile = '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json';
    this.addPackages('amazon-cloudwatch-agent');
    this.addBootCommands(
      `cat > ${configFile} <<'CLOUDWATCH_AGENT_CONFIG'`,
      config,
      'CLOUDWATCH_AGENT_CONFIG',
      `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${configFile}`,
    );
    return logGroup;
  }

  /** The boot script, rendered at synth from everything added to the fleet. */
  private addBootScript(application: FleetApplicationConfig, signalTimeout: Duration): void {
    const stack = Stack.of(this);
    const asset = application.asset;
    // The boot reports to its Auto Scaling group through the CloudFormation API (cfn-signal is not on AL2023);
    // the group's signals already grant the instances cloudformation:SignalResource on this stack.
    const archive = asset?.isZipArchive ?? false;
    this.launchTemplate.userData!.addCommands(Lazy.string({
      produce: () => renderBootScript({
        packages: [...application.packages, ...archive ? ['unzip'] : [], ...this.packages],
        download: asset && { bucket: asset.bucket, key: asset.s3ObjectKey, archive, fileName: application.fileName ?? 'app' },
        environment: this.environment,
        instanceIdVariable: this.instanceIdVariable,
        secrets: this.secretEnvironment,
        bootCommands: this.bootCommands,
        unit: { unitSettings: this.unitSettings, serviceSettings: this.serviceSettings, command: application.command },
        health: { port: application.port, path: application.healthCheckPath, waitSeconds: Math.max(60, signalTimeout.toSeconds() - 120) },
        signal: {
          stackName: stack.stackName,
          region: stack.region,
          resource: stack.getLogicalId(this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup),
        },
      }),
    }));
  }
}

/** A group and target group of a user's own, seen as a fleet. */
class ImportedAppFleet extends Construct implements IAppFleet {
  public readonly targetGroup: elbv2.IApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  public readonly minCapacity: number;
  public readonly stickiness: Stickiness;
  public readonly publishesAppMetrics: boolean;

  constructor(scope: Construct, id: string, attrs: AppFleetAttributes) {
    super(scope, id);
    this.targetGroup = attrs.targetGroup;
    this.autoScalingGroup = attrs.autoScalingGroup;
    this.minCapacity = attrs.minCapacity;
    this.stickiness = attrs.stickiness ?? Stickiness.none();
    this.publishesAppMetrics = attrs.publishesAppMetrics ?? false;
    const problems = new ProblemList();
    problems.check(!Token.isUnresolved(attrs.minCapacity) && (!Number.isInteger(attrs.minCapacity) || attrs.minCapacity < 0),
      () => `minCapacity: must be a whole number of at least 0, got ${attrs.minCapacity}`);
    problems.throwIfAny(this);
  }
}

function checkEnvironmentName(name: string, scope: Construct): void {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
    throw new SessionTierValidationError(`environment: variable name must match [A-Z_][A-Z0-9_]*, got ${JSON.stringify(name)}`, scope);
  }
}

function checkUnitSettings(settings: string[], scope: Construct): string[] {
  for (const setting of settings) {
    if (!/^[A-Za-z]+=[^\n]*$/.test(setting)) {
      throw new SessionTierValidationError(`serviceSetting: must be one Key=value line, got ${JSON.stringify(setting)}`, scope);
    }
  }
  return settings;
}

/** The props with their defaults, checked. */
interface ResolvedFleetProps {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly deregistrationDelay: Duration;
  readonly signalTimeout: Duration;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly stickiness: Stickiness;
  readonly strategy: SessionStrategy;
  readonly application: FleetApplication;
  readonly instanceTypes: ec2.InstanceType[];
}

/** Defaults, then every rule AWS or CloudFormation would reject later, checked at synth in one pass. */
function resolveFleetProps(scope: Construct, props: AppFleetProps): ResolvedFleetProps {
  const problems = new ProblemList();
  const known = (...values: unknown[]) => values.every((v) => !Token.isUnresolved(v));
  problems.check(props.application !== undefined && props.appPort !== undefined,
    () => `appPort: only sets the sample app's port, got appPort ${props.appPort} with an application; use the application's port option`);
  problems.check(props.cookieSecret !== undefined && props.strategy?.name !== 'cookie',
    () => `cookieSecret: only the cookie strategy seals sessions, got strategy ${props.strategy?.name ?? 'memory'}; remove cookieSecret or use SessionStrategy.cookie()`);
  problems.check(props.cookieSecret !== undefined && props.strategy?.stores.cookieSecret !== undefined,
    () => 'cookieSecret: the strategy already has a secret (SessionStrategy.cookie({ secret })); give it in one place');
  const strategy = props.cookieSecret
    ? SessionStrategy.cookie({ secret: props.cookieSecret })
    : props.strategy ?? SessionStrategy.memory();
  const appPortValid = props.appPort === undefined || !known(props.appPort) || (Number.isInteger(props.appPort) && props.appPort >= 1024 && props.appPort <= 65535);
  const application = props.application ?? FleetApplication.sampleApp({ port: appPortValid ? props.appPort : undefined });
  const r: ResolvedFleetProps = {
    minCapacity: props.minCapacity ?? 2,
    maxCapacity: props.maxCapacity ?? 4,
    deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(30),
    signalTimeout: props.signalTimeout ?? Duration.minutes(15),
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    stickiness: props.stickiness ?? Stickiness.loadBalancerCookie(Duration.days(1)),
    strategy,
    application,
    instanceTypes: resolveInstanceTypes(problems, props),
  };
  problems.check(!appPortValid,
    () => `appPort: must be a whole number from 1024 to 65535 (the app runs unprivileged), got ${props.appPort}`);
  const { minCapacity, maxCapacity, deregistrationDelay } = r;

  problems.check(!(FLEET_COLORS as readonly string[]).includes(props.color), () => `color: must be blue or green, got ${JSON.stringify(props.color)}`);
  problems.check(known(minCapacity) && (!Number.isInteger(minCapacity) || minCapacity < 1),
    () => `minCapacity: must be a whole number of at least 1, got ${minCapacity}; a fleet behind a load balancer needs an instance to serve`);
  problems.check(known(minCapacity, maxCapacity) && (!Number.isInteger(maxCapacity) || maxCapacity <= minCapacity),
    () => `maxCapacity: must be a whole number greater than minCapacity (${minCapacity}), got ${maxCapacity}; a rolling update launches a replacement before it retires an instance`);

  const dereg = deregistrationDelay.toSeconds({ integral: false });
  problems.check(known(dereg) && (!Number.isInteger(dereg) || dereg < 0 || dereg > 3600),
    () => `deregistrationDelay: must be whole seconds from 0 to 3600, got ${deregistrationDelay.toHumanString()}`);

  if (props.slowStart !== undefined) {
    const slow = props.slowStart.toSeconds({ integral: false });
    problems.check(known(slow) && (!Number.isInteger(slow) || slow < 30 || slow > 900),
      () => `slowStart: must be whole seconds from 30 to 900, got ${props.slowStart!.toHumanString()}; omit it to turn slow start off`);
    problems.check(props.loadBalancingAlgorithm === elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
      () => `slowStart: not supported with the least_outstanding_requests algorithm, got slowStart ${props.slowStart!.toHumanString()}; remove slowStart or use ROUND_ROBIN`);
  }
  if (props.metricsInterval !== undefined) {
    const every = props.metricsInterval.toSeconds({ integral: false });
    problems.check(known(every) && (!Number.isInteger(every) || every < 1 || every > 3600),
      () => `metricsInterval: must be whole seconds from 1 to 3600, got ${props.metricsInterval!.toHumanString()}`);
  }
  if (props.targetRequestsPerMinute !== undefined) {
    problems.check(known(props.targetRequestsPerMinute) && !(props.targetRequestsPerMinute > 0),
      () => `targetRequestsPerMinute: must be greater than 0, got ${props.targetRequestsPerMinute}`);
  }
  if (r.strategy.name === 'memory' && !r.stickiness.enabled) {
    Annotations.of(scope).addWarningV2('cdk-session-tier:memoryWithoutStickiness',
      'strategy: memory sessions without stickiness are lost whenever a request reaches another instance; use Stickiness.loadBalancerCookie(...) or a shared strategy');
  }

  const selected = props.vpc.selectSubnets(r.vpcSubnets);
  problems.check(selected.availabilityZones.length < 2,
    () => `vpcSubnets: the fleet must span at least two Availability Zones, got ${selected.availabilityZones.length} (${selected.availabilityZones.join(', ') || 'none'}); select subnets in two or more zones`);
  problems.check(selected.hasPublic,
    () => 'vpcSubnets: the fleet must run in private subnets, got public ones; the load balancer is the only public entry');

  problems.throwIfAny(scope);
  return r;
}

/** Sizes in the order EC2 names them, for the default fallback type. */
const SIZES = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', ...[2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 32, 48].map((n) => `${n}xlarge`)];

/** `instanceTypes`, or `instanceType` and the next size of its family; one architecture, no repeats. */
function resolveInstanceTypes(problems: ProblemList, props: AppFleetProps): ec2.InstanceType[] {
  problems.check(props.instanceType !== undefined && props.instanceTypes !== undefined,
    () => `instanceTypes: give either instanceType or instanceTypes, got instanceType ${props.instanceType} and instanceTypes ${props.instanceTypes!.join(', ')}; put ${props.instanceType} first in instanceTypes`);
  const first = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
  let types = props.instanceTypes;
  if (types === undefined) {
    const [family, size] = first.toString().split('.');
    const next = SIZES[SIZES.indexOf(size) + 1];
    problems.check(!SIZES.includes(size) || next === undefined,
      () => `instanceType: no next size of ${first} to fall back on, got size ${size}; give the types yourself in instanceTypes (at least two of one architecture)`);
    types = next && SIZES.includes(size) ? [first, new ec2.InstanceType(`${family}.${next}`)] : [first];
  }
  const names = types.map(String);
  problems.check(types.length < 1, () => 'instanceTypes: must name at least one instance type, got none');
  problems.check(new Set(names).size !== names.length, () => `instanceTypes: must not repeat a type, got ${names.join(', ')}`);
  const architectures = new Set(types.map((t) => t.architecture));
  problems.check(architectures.size > 1,
    () => `instanceTypes: must share one architecture (the instances boot one AMI), got ${types!.map((t) => `${t} (${t.architecture})`).join(', ')}; use only Graviton or only x86 types`);
  return types;
}

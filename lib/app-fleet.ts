import { Annotations, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib/core';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SessionTierValidationError } from './errors';
import { ProblemList } from './private/problems';
import { createCookieSecret } from './private/cookie-secret';
import type { SecretReference } from './private/user-data';
import { encryptedTopic } from './private/notification-topic';
import { SAMPLE_APP_BUNDLE, sampleAppAsset } from './private/sample-app-asset';
import { INSTANCE_PATHS, addAppUserData } from './private/user-data';
import { SessionStrategy } from './session-strategy';
import { APP_ENV, DEFAULT_APP_PORT, DEFAULT_COOKIE_NAME, FleetColor, HEALTH_CHECK_PATH } from './contract/app-env';
import { Stickiness } from './stickiness';


/** Properties of an {@link AppFleet}. */
export interface AppFleetProps {
  /** The VPC to place the fleet in. */
  readonly vpc: ec2.IVpc;

  /** Which color this fleet is; shown by the app and used in names. */
  readonly color: FleetColor;

  /**
   * Where the app keeps its sessions.
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
   * AMI follows the type's architecture.
   * @default t4g.small
   */
  readonly instanceType?: ec2.InstanceType;

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
   * Port the app listens on.
   * @default 8080
   */
  readonly appPort?: number;

  /**
   * Whether users reach the app over HTTPS, so its cookies carry `Secure`.
   * @default false
   */
  readonly secureCookies?: boolean;

  /**
   * The key that seals `cookie` sessions. Give both colors the same secret so
   * a user moving between them keeps the session.
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
   * the CloudWatch agent that user data installs): 1 s to 1 hour.
   * @default Duration.minutes(1)
   */
  readonly metricsInterval?: Duration;

  /**
   * How long the fleet's log group (the app's metric documents) keeps events.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One color of the web tier: instances running the sample app, their Auto
 * Scaling group and the target group the load balancer sends them traffic
 * through.
 *
 * Instances run Amazon Linux 2023 with IMDSv2 required, an encrypted gp3 root
 * volume, detailed monitoring, Session Manager access and no SSH. The group
 * spans at least two Availability Zones, replaces instances that fail the load
 * balancer's health check, tracks requests per target, and rolls one instance
 * at a time, waiting for each to answer its health check.
 */
export class AppFleet extends Construct implements ec2.IConnectable, iam.IGrantable {
  /** The fleet's color. */
  public readonly color: FleetColor;
  /** Where the app keeps its sessions. */
  public readonly strategy: SessionStrategy;
  /** How the load balancer keeps a user on one instance. */
  public readonly stickiness: Stickiness;
  /** The name of the app's session cookie. */
  public readonly cookieName: string;
  /** The port the app listens on. */
  public readonly appPort: number;
  /** The fewest instances the group keeps. */
  public readonly minCapacity: number;
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
  /** Where the CloudWatch agent ships the app's Embedded Metric Format documents, one stream per instance. */
  public readonly logGroup: logs.LogGroup;

  private readonly environment: Record<string, string> = {};
  private readonly secretEnvironment: Record<string, SecretReference> = {};
  private readonly bootCommands: string[] = [];
  private readonly serviceSettings: string[] = [];

  constructor(scope: Construct, id: string, props: AppFleetProps) {
    super(scope, id);
    const minCapacity = props.minCapacity ?? 2;
    const maxCapacity = props.maxCapacity ?? 4;
    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    const deregistrationDelay = props.deregistrationDelay ?? Duration.seconds(30);
    this.color = props.color;
    this.minCapacity = minCapacity;
    this.strategy = props.strategy ?? SessionStrategy.memory();
    this.stickiness = props.stickiness ?? Stickiness.loadBalancerCookie(Duration.days(1));
    this.appPort = props.appPort ?? DEFAULT_APP_PORT;
    this.cookieName = this.stickiness.cookieName ?? DEFAULT_COOKIE_NAME;
    validateFleetProps(this, props, { minCapacity, maxCapacity, deregistrationDelay, vpcSubnets });

    if (this.strategy.name === 'memory' && !this.stickiness.enabled) {
      Annotations.of(this).addWarningV2('cdk-session-tier:memoryWithoutStickiness',
        'strategy: memory sessions without stickiness are lost whenever a request reaches another instance; use Stickiness.loadBalancerCookie(...) or a shared strategy');
    }

    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Instances of the ${this.color} fleet: Session Manager access and what the session app needs`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      reason: 'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH (no key pair, no port 22); AWS keeps it current as the agent changes.',
    });
    this.role = role;
    this.grantPrincipal = role;

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `${this.color} fleet: app port from the load balancer only`,
      allowAllOutbound: true,
    });

    const instanceType = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
    const userData = ec2.UserData.forLinux();
    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023({
        kernel: ec2.AmazonLinux2023Kernel.DEFAULT,
        cpuType: instanceType.architecture === ec2.InstanceArchitecture.ARM_64
          ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
      }),
      instanceType,
      role,
      securityGroup,
      userData,
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

    const signalTimeout = props.signalTimeout ?? Duration.minutes(15);
    this.notificationsTopic = props.notificationsTopic ?? encryptedTopic(this, 'Notifications', `${this.color} fleet scaling events`);
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Resource', {
      vpc: props.vpc,
      vpcSubnets,
      launchTemplate: this.launchTemplate,
      minCapacity,
      maxCapacity,
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(5),
      }),
      cooldown: Duration.minutes(5),
      defaultInstanceWarmup: Duration.minutes(2),
      signals: autoscaling.Signals.waitForMinCapacity({ timeout: signalTimeout }),
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        // Keep serving at full strength while an instance is replaced.
        minInstancesInService: Math.max(0, Math.min(minCapacity, maxCapacity - 1)),
        pauseTime: signalTimeout,
        waitOnResourceSignals: true,
      }),
      notifications: [{ topic: this.notificationsTopic }],
      // Instances in service and desired, for the dashboard.
      groupMetrics: [new autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES, autoscaling.GroupMetric.DESIRED_CAPACITY)],
    });
    this.connections = this.autoScalingGroup.connections;

    const asset = sampleAppAsset(this, 'AppBundle');
    // Exactly the one object, not the asset bucket: s3:GetObject on the bundle's key.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)],
    }));
    this.cookieSecret = this.strategy.name === 'cookie'
      ? props.cookieSecret ?? createCookieSecret(this, 'CookieSecret')
      : undefined;
    this.addEnvironment(APP_ENV.COLOR, this.color);
    this.addEnvironment(APP_ENV.VERSION, props.version ?? '1.0.0');
    this.addEnvironment(APP_ENV.STRATEGY, this.strategy.name);
    this.addEnvironment(APP_ENV.HOST, '0.0.0.0');
    this.addEnvironment(APP_ENV.PORT, String(this.appPort));
    this.addEnvironment(APP_ENV.COOKIE_NAME, this.cookieName);
    this.addEnvironment(APP_ENV.SECURE_COOKIE, String(props.secureCookies ?? false));
    this.addEnvironment(APP_ENV.INSTANCE_METADATA, 'imds');
    if (this.cookieSecret) {
      this.addSecretEnvironment(APP_ENV.COOKIE_SECRETS, this.cookieSecret);
    }
    this.logGroup = this.shipMetrics(props.metricsInterval ?? Duration.minutes(1), props.logRetention ?? logs.RetentionDays.ONE_MONTH);
    addAppUserData(userData, {
      bundle: { bucket: asset.bucket, key: asset.s3ObjectKey, fileName: SAMPLE_APP_BUNDLE },
      environment: () => this.environment,
      secrets: () => this.secretEnvironment,
      bootCommands: () => this.bootCommands,
      serviceSettings: () => this.serviceSettings,
      port: this.appPort,
      healthWaitSeconds: Math.max(60, signalTimeout.toSeconds() - 120),
      signal: {
        stackName: Stack.of(this).stackName,
        region: Stack.of(this).region,
        resource: Stack.of(this).getLogicalId(this.autoScalingGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup),
      },
    });

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: props.vpc,
      port: this.appPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.INSTANCE,
      targets: [this.autoScalingGroup],
      deregistrationDelay,
      slowStart: props.slowStart,
      loadBalancingAlgorithmType: props.loadBalancingAlgorithm,
      healthCheck: {
        path: HEALTH_CHECK_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    for (const [key, value] of Object.entries(this.stickiness.targetGroupAttributes())) {
      this.targetGroup.setAttribute(key, value);
    }

    // The resource label names the load balancer, known once a listener forwards to the group.
    const targetGroup = this.targetGroup;
    new autoscaling.TargetTrackingScalingPolicy(this, 'RequestsPerTarget', {
      autoScalingGroup: this.autoScalingGroup,
      predefinedMetric: autoscaling.PredefinedMetric.ALB_REQUEST_COUNT_PER_TARGET,
      targetValue: props.targetRequestsPerMinute ?? 1000,
      resourceLabel: Lazy.string({
        produce: () => {
          let loadBalancer: string;
          try {
            loadBalancer = targetGroup.firstLoadBalancerFullName;
          } catch {
            throw new SessionTierValidationError(
              'targetGroup: not attached to a load balancer, so requests per target cannot be tracked; forward a listener to it (SessionTier and BlueGreenRouting do)',
              this,
            );
          }
          return `${loadBalancer}/${targetGroup.targetGroupFullName}`;
        },
      }),
    });
  }

  /**
   * Installs the CloudWatch agent with its Embedded Metric Format listener
   * (TCP and UDP 127.0.0.1:25888) and points the app at it; the agent writes
   * to the fleet's log group, a stream per instance, and CloudWatch extracts
   * the metrics.
   */
  private shipMetrics(interval: Duration, retention: logs.RetentionDays): logs.LogGroup {
    const logGroup = new logs.LogGroup(this, 'AppMetrics', { retention });
    logGroup.grantWrite(this.role);
    this.addEnvironment(APP_ENV.METRICS_INTERVAL, String(interval.toSeconds()));
    this.addEnvironment('AWS_EMF_ENVIRONMENT', 'Agent');
    this.addEnvironment('AWS_EMF_AGENT_ENDPOINT', 'tcp://127.0.0.1:25888');
    this.addEnvironment('AWS_EMF_SERVICE_NAME', 'session-app');
    this.addEnvironment('AWS_EMF_LOG_GROUP_NAME', logGroup.logGroupName);
    const config = JSON.stringify({ agent: { run_as_user: 'cwagent' }, logs: { metrics_collected: { emf: {} }, force_flush_interval: 15 } });
    const configFile = '/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json';
    this.addBootCommands(
      'dnf install -y amazon-cloudwatch-agent',
      `echo '${config}' > ${configFile}`,
      `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${configFile}`,
      // A stream per instance.
      `echo "AWS_EMF_LOG_STREAM_NAME=\"$(ec2-metadata -i | cut -d' ' -f2)\"" >> ${INSTANCE_PATHS.envFile}`,
    );
    return logGroup;
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
   * the template. Grants the instances read access to the secret.
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

  /**
   * Adds shell commands that user data runs after writing the app's
   * environment and before starting the app (mounting a file system, say).
   * A failing command fails the instance's launch signal.
   */
  public addBootCommands(...commands: string[]): void {
    this.bootCommands.push(...commands);
  }

  /**
   * Adds `[Service]` settings to the app's systemd unit, e.g.
   * `ReadWritePaths=/mnt/sessions` (the unit's file system is read-only otherwise).
   */
  public addServiceSetting(...settings: string[]): void {
    for (const setting of settings) {
      if (!/^[A-Za-z]+=[^\n]*$/.test(setting)) {
        throw new SessionTierValidationError(`serviceSetting: must be one Key=value line, got ${JSON.stringify(setting)}`, this);
      }
    }
    this.serviceSettings.push(...settings);
  }

  /** Adds a statement to the instances' role. */
  public addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }
}

function checkEnvironmentName(name: string, scope: Construct): void {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
    throw new SessionTierValidationError(`environment: variable name must match [A-Z_][A-Z0-9_]*, got ${JSON.stringify(name)}`, scope);
  }
}

interface ResolvedFleetProps {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly deregistrationDelay: Duration;
  readonly vpcSubnets: ec2.SubnetSelection;
}

/** Every rule AWS or CloudFormation would reject later, checked at synth in one pass. */
function validateFleetProps(scope: Construct, props: AppFleetProps, resolved: ResolvedFleetProps): void {
  const problems = new ProblemList();
  const { minCapacity, maxCapacity, deregistrationDelay } = resolved;
  const known = (...values: unknown[]) => values.every((v) => !Token.isUnresolved(v));

  problems.check(!['blue', 'green'].includes(props.color), () => `color: must be blue or green, got ${JSON.stringify(props.color)}`);
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
  if (props.appPort !== undefined) {
    problems.check(known(props.appPort) && (!Number.isInteger(props.appPort) || props.appPort < 1024 || props.appPort > 65535),
      () => `appPort: must be a whole number from 1024 to 65535 (the app runs unprivileged), got ${props.appPort}`);
  }
  problems.check(props.cookieSecret !== undefined && props.strategy?.name !== 'cookie',
    () => `cookieSecret: only the cookie strategy seals sessions, got strategy ${props.strategy?.name ?? 'memory'}; remove cookieSecret or use SessionStrategy.cookie()`);

  const azs = props.vpc.selectSubnets(resolved.vpcSubnets).availabilityZones;
  problems.check(azs.length < 2,
    () => `vpcSubnets: the fleet must span at least two Availability Zones, got ${azs.length} (${azs.join(', ') || 'none'}); select subnets in two or more zones`);
  const selected = props.vpc.selectSubnets(resolved.vpcSubnets);
  problems.check(selected.hasPublic,
    () => 'vpcSubnets: the fleet must run in private subnets, got public ones; the load balancer is the only public entry');

  problems.throwIfAny(scope);
}

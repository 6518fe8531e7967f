import { Annotations, CfnResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AppFleet, AppFleetProps } from './app-fleet';
import { FleetColor } from './contract/app-env';
import { BlueGreenRouting } from './blue-green-routing';
import { ProblemList } from './private/problems';
import { createCookieSecret } from './private/session-keys';
import { acknowledgeVpcAccess } from './private/acknowledgements';
import { acknowledgeControl } from './private/control-tower';
import { customerManagedKey, logsKey } from './private/keys';
import { encryptedTopic } from './private/notification-topic';
import { ISessionCache, RedisSessionCache, RedisSessionCacheProps } from './redis-session-cache';
import { SessionAlarmThresholds, SessionDashboard } from './session-dashboard';
import { ISessionDatabase, SessionDatabase, SessionDatabaseProps } from './session-database';
import { ISessionFileSystem, SessionFileSystem, SessionFileSystemProps } from './session-file-system';
import { SessionStores, SessionStrategy } from './session-strategy';
import { ShiftPlan } from './shift-plan';
import { Stickiness } from './stickiness';

/**
 * What a user sets per color; the tier supplies the VPC, the color, the
 * shared cookie key, the notification topic and whether cookies are Secure.
 */
export type FleetOptions = Omit<AppFleetProps, 'vpc' | 'color' | 'cookieSecret' | 'notificationsTopic' | 'secureCookies' | 'logEncryptionKey'>;

/** Where the load balancer log bucket's own access logs go in the second bucket. */
const SERVER_ACCESS_LOGS_PREFIX = 'load-balancer-logs/';

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
   * The blue fleet.
   * @default memory sessions, load-balancer-cookie stickiness for 1 day, two to four t4g.small instances
   */
  readonly blue?: FleetOptions;

  /**
   * The green fleet.
   * @default no green fleet: the listener forwards straight to blue
   */
  readonly green?: FleetOptions;

  /**
   * The color that should serve everyone once a deploy is done. Change it and
   * deploy to move traffic by `shiftPlan`, in health-checked steps that roll
   * back by themselves.
   * @default 'blue'
   */
  readonly targetColor?: FleetColor;

  /**
   * How traffic moves when `targetColor` changes.
   * @default ShiftPlan.allAtOnce()
   */
  readonly shiftPlan?: ShiftPlan;

  /**
   * Alarms that stop a shift: any in ALARM before a step restores the weights
   * and fails the deploy.
   * @default no alarm gates (green's target health is always a gate)
   */
  readonly gateAlarms?: cloudwatch.IAlarm[];

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
  readonly cacheProps?: Omit<RedisSessionCacheProps, 'vpc'>;

  /**
   * The file system for fleets with the `file` strategy.
   * @default a new SessionFileSystem (with `fileSystemProps`) when a fleet uses `file`; none otherwise
   */
  readonly sessionFileSystem?: ISessionFileSystem;

  /**
   * Overrides for the file system the tier creates.
   * @default SessionFileSystem's defaults
   */
  readonly fileSystemProps?: Omit<SessionFileSystemProps, 'vpc'>;

  /**
   * The database for fleets with the `database` strategy.
   * @default a new SessionDatabase (with `databaseProps`) when a fleet uses `database`; none otherwise
   */
  readonly sessionDatabase?: ISessionDatabase;

  /**
   * Overrides for the database the tier creates.
   * @default SessionDatabase's defaults
   */
  readonly databaseProps?: Omit<SessionDatabaseProps, 'vpc'>;

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

/**
 * A web tier on EC2 that keeps its users' sessions: an internet-facing
 * Application Load Balancer with access logs, a blue fleet and optionally a
 * green one, and the sticky, weighted routing between them, whose weights
 * only the traffic shifter changes.
 *
 * @example
 * const tier = new SessionTier(stack, 'Web', {
 *   blue: { strategy: SessionStrategy.cookie(), version: 'v1' },
 *   green: { strategy: SessionStrategy.cookie(), version: 'v2' },
 *   targetColor: 'green',
 *   shiftPlan: ShiftPlan.canary(10, Duration.minutes(5)),
 * });
 */
export class SessionTier extends Construct {
  /** The VPC the tier runs in. */
  public readonly vpc: ec2.IVpc;
  /** The internet-facing load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener users reach: HTTPS with a certificate, HTTP otherwise. */
  public readonly listener: elbv2.ApplicationListener;
  /** Where the load balancer writes its access logs. */
  public readonly accessLogsBucket: s3.IBucket;
  /** The blue fleet. */
  public readonly blue: AppFleet;
  /** The green fleet, when there is one. */
  public readonly green?: AppFleet;
  /** The routing between the fleets. */
  public readonly routing: BlueGreenRouting;
  /** Scaling notifications of both fleets. */
  public readonly notificationsTopic: sns.ITopic;
  /** The key both colors seal cookie sessions with, when a fleet uses `cookie`. */
  public readonly cookieSecret?: secretsmanager.ISecret;
  /** The session cache, when a fleet uses `redis`, or `database` with its write-through cache. */
  public readonly sessionCache?: ISessionCache;
  /** The session file system, when a fleet uses `file`. */
  public readonly sessionFileSystem?: ISessionFileSystem;
  /** The URL users open. */
  public readonly url: string;
  /** Session health: the dashboard and its alarms (unless `dashboard` is false). */
  public readonly dashboard?: SessionDashboard;
  /** The database, when a fleet uses the `database` strategy. */
  public readonly sessionDatabase?: ISessionDatabase;
  /** The key of every log group of the tier. */
  public readonly logEncryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: SessionTierProps = {}) {
    super(scope, id);
    const problems = new ProblemList();
    problems.check(props.vpc !== undefined && props.natGateways !== undefined,
      () => `natGateways: only applies to the VPC the tier creates, got ${props.natGateways} with a given vpc; remove natGateways`);
    problems.check(props.natGateways !== undefined && (!Number.isInteger(props.natGateways) || props.natGateways < 1),
      () => `natGateways: must be a whole number of at least 1 (the fleets install packages through it), got ${props.natGateways}`);
    // Existing or new, never both silently.
    for (const [existing, overrides] of [['sessionCache', 'cacheProps'], ['sessionFileSystem', 'fileSystemProps'], ['sessionDatabase', 'databaseProps']] as const) {
      problems.check(props[existing] !== undefined && props[overrides] !== undefined,
        () => `${overrides}: only apply to the store the tier creates, got both ${existing} and ${overrides}; pass either your ${existing} or ${overrides} for a new one`);
    }
    problems.throwIfAny(this);

    this.logEncryptionKey = props.logEncryptionKey ?? logsKey(this, 'LogsKey', 'Encrypts the log groups of the session tier');
    this.vpc = props.vpc ?? this.createVpc(props.natGateways ?? 2, this.logEncryptionKey);
    this.accessLogsBucket = props.accessLogsBucket ?? this.createAccessLogsBucket();

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      deletionProtection: props.loadBalancerDeletionProtection ?? true,
    });
    this.loadBalancer.logAccessLogs(this.accessLogsBucket, 'alb');
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'Public web entry point: the load balancer must accept HTTP(S) from any address; the fleets behind it accept traffic only from its security group.',
    });

    const https = props.certificateArn !== undefined;
    if (https) {
      this.listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn!)],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
    } else {
      this.listener = this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP });
      Annotations.of(this).addWarningV2('cdk-session-tier:httpOnly',
        'certificateArn: not set, so the tier serves plain HTTP and session cookies travel unencrypted; pass an ACM certificate ARN for HTTPS');
    }
    this.url = `${https ? 'https' : 'http'}://${this.loadBalancer.loadBalancerDnsName}`;

    this.notificationsTopic = encryptedTopic(this, 'Notifications', 'Session tier scaling events');
    const strategies = {
      blue: (props.blue ?? {}).strategy ?? SessionStrategy.memory(),
      green: props.green ? props.green.strategy ?? SessionStrategy.memory() : undefined,
    };
    const needed = new Set([strategies.blue, strategies.green].flatMap((st) => st?.missingStores ?? []));
    const unkeyedCookie = [strategies.blue, strategies.green].some((st) => st?.name === 'cookie' && !st.stores.cookieSecret);
    // Both colors seal with one key, so a user moving between them keeps the session.
    this.cookieSecret = unkeyedCookie ? createCookieSecret(this, 'CookieSecret') : undefined;
    // Only the stores some fleet needs and was not given; a store handed in is used as it is.
    const created: SessionStores = {
      cache: needed.has('cache') ? props.sessionCache ?? new RedisSessionCache(this, 'SessionCache', { ...props.cacheProps, vpc: this.vpc }) : undefined,
      fileSystem: needed.has('fileSystem')
        ? props.sessionFileSystem ?? new SessionFileSystem(this, 'SessionFiles', { ...props.fileSystemProps, vpc: this.vpc })
        : undefined,
      database: needed.has('database')
        ? props.sessionDatabase ?? new SessionDatabase(this, 'SessionDatabase', { logEncryptionKey: this.logEncryptionKey, ...props.databaseProps, vpc: this.vpc })
        : undefined,
      cookieSecret: this.cookieSecret,
    };
    const bound = {
      blue: strategies.blue.withStores(created),
      green: strategies.green?.withStores(created),
    };
    const inUse = <K extends 'cache' | 'fileSystem' | 'database'>(key: K) => bound.blue.stores[key] ?? bound.green?.stores[key];
    this.sessionCache = inUse('cache');
    this.sessionFileSystem = inUse('fileSystem');
    this.sessionDatabase = inUse('database');

    const fleet = (color: FleetColor, options: FleetOptions, strategy: SessionStrategy) => new AppFleet(this, color === 'blue' ? 'Blue' : 'Green', {
      ...options,
      strategy,
      vpc: this.vpc,
      color,
      secureCookies: https,
      notificationsTopic: this.notificationsTopic,
      logEncryptionKey: this.logEncryptionKey,
    });
    this.blue = fleet('blue', props.blue ?? {}, bound.blue);
    this.green = props.green && bound.green ? fleet('green', props.green, bound.green) : undefined;

    this.dashboard = props.dashboard === false ? undefined : new SessionDashboard(this, 'Dashboard', {
      loadBalancer: this.loadBalancer,
      blue: this.blue,
      green: this.green,
      sessionCache: this.sessionCache,
      sessionFileSystem: this.sessionFileSystem,
      sessionDatabase: this.sessionDatabase,
      thresholds: props.alarmThresholds,
      alarmTopic: props.alarmTopic,
    });
    const gates = [...props.gateAlarms ?? [], ...this.dashboard?.alarmsFor(props.targetColor ?? 'blue') ?? []];

    this.routing = new BlueGreenRouting(this, 'Routing', {
      listener: this.listener,
      blue: this.blue,
      green: this.green,
      targetColor: props.targetColor,
      shiftPlan: props.shiftPlan,
      gateAlarms: gates,
      groupStickiness: props.groupStickiness,
      vpc: this.vpc,
      logEncryptionKey: this.logEncryptionKey,
    });
  }

  private createVpc(natGateways: number, logKey: kms.IKey): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways,
      subnetConfiguration: [
        // Nothing here needs an address of its own: the NAT gateways have Elastic IPs and the load balancer
        // its own addresses (Control Tower CT.EC2.PR.11).
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
    });
    const flowLog = vpc.addFlowLog('FlowLogs', { trafficType: ec2.FlowLogTrafficType.ALL });
    // The log group the flow log creates, encrypted and kept a year; set on it so that its logical id stays.
    const flowLogGroup = flowLog.logGroup?.node.defaultChild as logs.CfnLogGroup | undefined;
    if (flowLogGroup) {
      flowLogGroup.kmsKeyId = logKey.keyArn;
    }
    this.placeDefaultGroupCleanerInVpc(vpc);
    // Instances fetch the app bundle from S3 without crossing the NAT gateways.
    vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    return vpc;
  }

  /**
   * aws-cdk's provider that strips the default security group's rules
   * (`@aws-cdk/aws-ec2:restrictDefaultSecurityGroup`) is a stack-wide function
   * with no VPC option; Control Tower (CT.LAMBDA.PR.3) refuses functions
   * outside a VPC, so it is placed in the private subnets, let out on HTTPS
   * only (it calls the EC2 API), and waits for their routes out.
   */
  private placeDefaultGroupCleanerInVpc(vpc: ec2.Vpc): void {
    const provider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    const handler = provider?.node.tryFindChild('Handler');
    const role = provider?.node.tryFindChild('Role');
    if (!provider || !(handler instanceof CfnResource) || !(role instanceof CfnResource)) {
      return;
    }
    const securityGroup = new ec2.SecurityGroup(this, 'DefaultGroupCleanerSecurityGroup', {
      vpc,
      description: 'The aws-cdk function that strips the default security group: out to the EC2 API over HTTPS only',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: the EC2 API');
    const subnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    handler.addPropertyOverride('VpcConfig', { SubnetIds: subnets.subnetIds, SecurityGroupIds: [securityGroup.securityGroupId] });
    handler.node.addDependency(subnets.internetConnectivityEstablished);
    const partition = Stack.of(this).partition;
    role.addPropertyOverride('ManagedPolicyArns', ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']
      .map((name) => `arn:${partition}:iam::aws:policy/service-role/${name}`));
    acknowledgeVpcAccess(provider);
  }

  /**
   * The load balancer's log bucket, and a second bucket for the first one's
   * own access logs. Both versioned (old versions kept 30 days), TLS only,
   * private, with EventBridge notifications.
   */
  private createAccessLogsBucket(): s3.Bucket {
    const common = {
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(30) }],
    };
    const serverLogsKey = customerManagedKey(this, 'AccessLogsKey', 'Encrypts the access logs of the load balancer log bucket');
    const serverLogs = new s3.Bucket(this, 'AccessLogsAccessLogs', {
      ...common,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: serverLogsKey,
      bucketKeyEnabled: true,
    });
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      // ALB log delivery writes only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      // Named, not handed over: given the bucket itself, aws-cdk would grant S3 log delivery the key with no condition.
      serverAccessLogsBucket: s3.Bucket.fromBucketAttributes(this, 'AccessLogsDestination', { bucketArn: serverLogs.bucketArn, bucketName: serverLogs.bucketName }),
      serverAccessLogsPrefix: SERVER_ACCESS_LOGS_PREFIX,
    });
    for (const b of [bucket, serverLogs]) {
      // Events to EventBridge (Control Tower CT.S3.PR.4), set on the bucket itself: aws-cdk's eventBridgeEnabled
      // sets it through a custom resource, a Lambda function outside any VPC.
      (b.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
    }
    const stack = Stack.of(this);
    // S3 log delivery writes the log bucket's access logs, and nothing else, into the second bucket ...
    serverLogs.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ServerAccessLogsOfTheLogBucket',
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [serverLogs.arnForObjects(`${SERVER_ACCESS_LOGS_PREFIX}*`)],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': bucket.bucketArn } },
    }));
    // ... encrypting them with the key, for buckets of this account (naming the log bucket here would be a
    // cycle: it names the destination, which names this key).
    serverLogsKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'ServerAccessLogDeliveryOfThisAccount',
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }));
    Validations.of(bucket).acknowledge({
      id: '@aws-cdk/aws-s3:accessLogsPolicyNotAdded',
      reason: 'The destination is named rather than handed over on purpose; its bucket policy (S3 log delivery, for this bucket only) is written beside it.',
    });
    const sseS3Only = 'Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 (Amazon S3 managed keys); with a KMS key the logs are not written.';
    acknowledgeControl(bucket, 'CT.S3.PR.10', sseS3Only);
    Validations.of(bucket).acknowledge({ id: 'NIST.800.53.R5-S3DefaultEncryptionKMS', reason: sseS3Only });
    acknowledgeControl(bucket, 'CT.S3.PR.9',
      'Object Lock requires a Content-MD5 or checksum header on every upload that takes the default retention, and ELB log delivery is not documented to send one; a refused delivery loses logs silently. Versioning keeps overwritten or deleted logs for 30 days.');
    Validations.of(serverLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket holds the server access logs of the load balancer log bucket; logging access to it as well would need another bucket, and that one another. Only S3 log delivery writes to it; reads are by account principals under IAM.',
    });
    acknowledgeControl(serverLogs, 'CT.S3.PR.2',
      'This is the end of the log chain: it holds the server access logs of the load balancer log bucket, and logging access to it would need another bucket, and that one another. Only S3 log delivery writes to it.');
    acknowledgeControl(serverLogs, 'CT.S3.PR.9',
      'Amazon S3 does not deliver server access logs to a bucket with Object Lock enabled. Versioning keeps overwritten or deleted logs for 30 days.');
    return bucket;
  }
}

import { Annotations, CfnDeletionPolicy, CfnResource, Lazy, RemovalPolicy, Validations } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AppFleet, AppFleetOptions } from './app-fleet';
import { FleetColor } from './contract/app-env';
import { BlueGreenRouting } from './blue-green-routing';
import { createCookieSecret, createSessionIdKey } from './private/session-keys';
import { acknowledgeControl } from './private/control-tower';
import { logsKey } from './private/keys';
import { encryptedTopic } from './private/notification-topic';
import { ISessionCache, RedisSessionCache } from './redis-session-cache';
import { SessionDashboard } from './session-dashboard';
import { ISessionDatabase, SessionDatabase } from './session-database';
import { ISessionFileSystem, SessionFileSystem } from './session-file-system';
import { SessionStoreKind, SessionStores, SessionStrategy } from './session-strategy';
import { createAccessLogsBucket } from './session-tier/access-logs';
import { createVpc, placeStackProviderInVpc } from './session-tier/network';
import { SessionTierProps } from './session-tier/props';
import { ResolvedTierProps, resolveTierProps } from './session-tier/resolve-props';

export type { SessionTierProps } from './session-tier/props';

/**
 * A web tier on EC2 that keeps its users' sessions: an Application Load
 * Balancer with access logs (internet-facing unless told otherwise, or your
 * own load balancer and listener, shared through conditions and a rule
 * priority), a blue fleet and optionally a green one, and the sticky,
 * weighted routing between them, whose weights only the traffic shifter changes.
 *
 * @example
 * import { App, Duration, Stack } from 'aws-cdk-lib/core';
 * import { FleetColor, SessionStrategy, SessionTier, ShiftPlan } from 'cdk-session-tier';
 *
 * const app = new App();
 * const stack = new Stack(app, 'Web', { env: { region: 'eu-west-1' } });
 * new SessionTier(stack, 'Tier', {
 *   blue: { strategy: SessionStrategy.cookie(), version: 'v1' },
 *   green: { strategy: SessionStrategy.cookie(), version: 'v2' },
 *   targetColor: FleetColor.GREEN,
 *   shiftPlan: ShiftPlan.canary(10, Duration.minutes(5)),
 * });
 */
export class SessionTier extends Construct {
  /** The VPC the tier runs in. */
  public readonly vpc: ec2.IVpc;
  /** The load balancer: the one the tier created (internet-facing unless told otherwise), or yours. */
  public readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The listener users reach: the tier's (HTTPS with a certificate, HTTP otherwise), or yours. */
  public readonly listener: elbv2.IApplicationListener;
  /** Where the load balancer writes its access logs; none for a load balancer of yours unless `accessLogsBucket` was given. */
  public readonly accessLogsBucket?: s3.IBucket;
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
    const r = resolveTierProps(this, props);
    this.logEncryptionKey = r.logEncryptionKey ?? logsKey(this, 'LogsKey', 'Encrypts the log groups of the session tier');
    this.vpc = r.vpc ?? createVpc(this, r.natGateways, this.logEncryptionKey);
    this.accessLogsBucket = r.createAccessLogsBucket ? createAccessLogsBucket(this, r.removalPolicy) : r.accessLogsBucket;
    this.loadBalancer = r.loadBalancer ?? this.createLoadBalancer(r);
    if (r.loadBalancer instanceof elbv2.ApplicationLoadBalancer && this.accessLogsBucket) {
      r.loadBalancer.logAccessLogs(this.accessLogsBucket, 'alb');
    }
    this.listener = r.listener ?? this.createListener(r);
    const scheme = r.https ? 'https' : 'http';
    // An imported load balancer knows its DNS name only when it was given one: read it only when the URL is used.
    this.url = r.loadBalancer && !(r.loadBalancer instanceof elbv2.ApplicationLoadBalancer)
      ? Lazy.string({ produce: () => `${scheme}://${this.loadBalancer.loadBalancerDnsName}` })
      : `${scheme}://${this.loadBalancer.loadBalancerDnsName}`;
    this.notificationsTopic = encryptedTopic(this, 'Notifications', 'Session tier scaling events');

    const stores = this.createStores(r);
    this.cookieSecret = stores.cookieSecret;
    this.sessionCache = stores.inUse('cache');
    this.sessionFileSystem = stores.inUse('fileSystem');
    this.sessionDatabase = stores.inUse('database');

    this.blue = this.createFleet(FleetColor.BLUE, r.blue, stores.blue, r.https);
    this.green = r.green && stores.green ? this.createFleet(FleetColor.GREEN, r.green, stores.green, r.https) : undefined;
    this.dashboard = r.dashboard ? this.createDashboard(r.dashboard) : undefined;
    this.routing = new BlueGreenRouting(this, 'Routing', {
      ...r.routing,
      listener: this.listener,
      blue: this.blue,
      green: this.green,
      dashboard: this.dashboard,
      vpc: this.vpc,
      logEncryptionKey: this.logEncryptionKey,
    });
    if (r.removalPolicy !== undefined) {
      this.applyRemovalPolicy(r.removalPolicy, r.stores);
    }
    if (r.createAccessLogsBucket && r.removalPolicy === RemovalPolicy.DESTROY) {
      // The function that empties the access-logs buckets before their deletion, in the VPC as every function of the tier.
      placeStackProviderInVpc(this, this.vpc, 'Custom::S3AutoDeleteObjectsCustomResourceProvider', 'AutoDeleteObjectsSecurityGroup',
        'The aws-cdk function that empties the access-logs buckets before their deletion: out to the S3 API over HTTPS only', 'HTTPS: the S3 API');
    }
  }

  /**
   * The load balancer in the public subnets (internet-facing) or the private
   * ones (internal), logging to the access logs bucket.
   */
  private createLoadBalancer(r: ResolvedTierProps): elbv2.ApplicationLoadBalancer {
    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: r.internetFacing,
      vpcSubnets: { subnetType: r.internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      dropInvalidHeaderFields: true,
      deletionProtection: r.loadBalancerDeletionProtection,
    });
    if (this.accessLogsBucket) {
      loadBalancer.logAccessLogs(this.accessLogsBucket, 'alb');
    }
    if (!r.loadBalancerDeletionProtection && r.removalPolicy === RemovalPolicy.DESTROY) {
      const reason = 'removalPolicy: RemovalPolicy.DESTROY asks for a tier that cdk destroy removes, which deletion protection would stop; ' +
        'SessionTier keeps the load balancer\'s deletion protection on by default, and with DESTROY when loadBalancerDeletionProtection is true.';
      acknowledgeControl(loadBalancer, 'CT.ELASTICLOADBALANCING.PR.5', reason);
      Validations.of(loadBalancer).acknowledge({ id: 'NIST.800.53.R5-ELBDeletionProtectionEnabled', reason });
    }
    Validations.of(loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: r.internetFacing
        ? 'Public web entry point: the load balancer must accept HTTP(S) from any address; the fleets behind it accept traffic only from its security group.'
        : 'Internal entry point: reachable only from inside the VPC and networks routed to it; the fleets behind it accept traffic only from its security group.',
    });
    return loadBalancer;
  }

  /** HTTPS on 443 with HTTP redirected to it when there is a certificate; plain HTTP on 80, with a warning, when not. */
  private createListener(r: ResolvedTierProps): elbv2.IApplicationListener {
    const certificateArn = r.certificateArn;
    if (certificateArn !== undefined) {
      const listener = this.loadBalancer.addListener('Https', {
        port: 443,
        protocol: elbv2.ApplicationProtocol.HTTPS,
        certificates: [elbv2.ListenerCertificate.fromArn(certificateArn)],
        sslPolicy: r.sslPolicy,
      });
      if (this.loadBalancer instanceof elbv2.ApplicationLoadBalancer) {
        this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443 });
      } else {
        // What addRedirect makes, on a load balancer of yours that is imported.
        this.loadBalancer.addListener('Redirect80To443', {
          protocol: elbv2.ApplicationProtocol.HTTP,
          port: 80,
          defaultAction: elbv2.ListenerAction.redirect({ port: '443', protocol: elbv2.ApplicationProtocol.HTTPS, permanent: true }),
        });
      }
      return listener;
    }
    const listener = this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP });
    Annotations.of(this).addWarningV2('cdk-session-tier:httpOnly',
      'certificateArn: not set, so the tier serves plain HTTP and session cookies travel unencrypted; pass an ACM certificate ARN for HTTPS');
    return listener;
  }

  /**
   * What the fleets' strategies lack, supplied once for both colors: the
   * stores they need (a store handed in is used as it is), and one key of
   * each kind they would otherwise create per strategy object, so a user
   * moving between the colors keeps the session and its signed id.
   */
  private createStores(r: ResolvedTierProps) {
    const { strategies, stores } = r;
    const needed = new Set([strategies.blue, strategies.green].flatMap((st) => st?.missingStores ?? []));
    const created: SessionStores = {
      cache: needed.has(SessionStoreKind.CACHE)
        ? stores.cache.given ?? new RedisSessionCache(this, 'SessionCache', { ...stores.cache.props, vpc: this.vpc })
        : undefined,
      fileSystem: needed.has(SessionStoreKind.FILE_SYSTEM)
        ? stores.fileSystem.given ?? new SessionFileSystem(this, 'SessionFiles', { ...stores.fileSystem.props, vpc: this.vpc })
        : undefined,
      database: needed.has(SessionStoreKind.DATABASE)
        ? stores.database.given ?? new SessionDatabase(this, 'SessionDatabase', {
          logEncryptionKey: this.logEncryptionKey, ...stores.database.props, vpc: this.vpc,
        })
        : undefined,
      cookieSecret: needed.has(SessionStoreKind.COOKIE_SECRET) ? createCookieSecret(this, 'CookieSecret') : undefined,
      sessionIdKey: needed.has(SessionStoreKind.SESSION_ID_KEY) ? createSessionIdKey(this, 'SessionIdKey', 'memory') : undefined,
    };
    const blue = strategies.blue.withStores(created);
    const green = strategies.green?.withStores(created);
    // The store of that kind some color uses, whether the tier made it or was given it.
    const inUse = <K extends 'cache' | 'fileSystem' | 'database'>(key: K) => blue.stores[key] ?? green?.stores[key];
    return { cookieSecret: created.cookieSecret, blue, green, inUse };
  }

  /**
   * One color's fleet, given what the tier supplies to both. Its cookies are
   * Secure when the tier serves HTTPS, unless the options say otherwise.
   */
  private createFleet(color: FleetColor, options: AppFleetOptions, strategy: SessionStrategy, https: boolean): AppFleet {
    return new AppFleet(this, color === FleetColor.BLUE ? 'Blue' : 'Green', {
      ...options,
      strategy,
      secureCookies: options.secureCookies ?? https,
      vpc: this.vpc,
      color,
      notificationsTopic: this.notificationsTopic,
      logEncryptionKey: this.logEncryptionKey,
    });
  }

  /**
   * `policy` on what the tier created and CloudFormation would otherwise
   * keep (buckets, keys, log groups: their DeletionPolicy is Retain), except
   * inside a store whose props set a removal policy of their own. The stores
   * got it as their `removalPolicy` already (SNAPSHOT applies only to them:
   * CloudFormation takes no snapshot of a key or a log group).
   */
  private applyRemovalPolicy(policy: RemovalPolicy, stores: ResolvedTierProps['stores']): void {
    if (policy === RemovalPolicy.SNAPSHOT) {
      return;
    }
    const ownPolicy = [
      stores.cache.ownRemovalPolicy ? this.sessionCache : undefined,
      stores.fileSystem.ownRemovalPolicy ? this.sessionFileSystem : undefined,
      stores.database.ownRemovalPolicy ? this.sessionDatabase : undefined,
    ].filter((store) => store !== undefined).map((store) => store.node.path);
    for (const child of this.node.findAll()) {
      if (child instanceof CfnResource && child.cfnOptions.deletionPolicy === CfnDeletionPolicy.RETAIN
        && !ownPolicy.some((path) => child.node.path.startsWith(`${path}/`))) {
        child.applyRemovalPolicy(policy);
      }
    }
  }

  /** Session health of the fleets and stores; its alarms for the target color also gate the traffic shift. */
  private createDashboard(settings: NonNullable<ResolvedTierProps['dashboard']>): SessionDashboard {
    return new SessionDashboard(this, 'Dashboard', {
      ...settings,
      loadBalancer: this.loadBalancer,
      blue: this.blue,
      green: this.green,
      stores: [this.sessionCache, this.sessionDatabase, this.sessionFileSystem].filter((s) => s !== undefined),
    });
  }
}

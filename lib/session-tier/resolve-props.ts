import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { ProblemList } from '../private/problems';
import { AppFleetOptions } from '../app-fleet';
import { BlueGreenRoutingProps } from '../blue-green-routing';
import { ISessionCache, RedisSessionCacheProps } from '../redis-session-cache';
import { SessionAlarmThresholds } from '../session-dashboard';
import { ISessionDatabase, SessionDatabaseProps } from '../session-database';
import { ISessionFileSystem, SessionFileSystemProps } from '../session-file-system';
import { SessionStrategy } from '../session-strategy';
import { SessionTierProps } from './props';

/** A store the tier is given, or the props (but the VPC) of the one it creates when a strategy needs it. */
export interface ResolvedStore<I, P> {
  readonly given?: I;
  readonly props: Omit<P, 'vpc'>;
  /** Whether the store's own props set its removal policy, which the tier's then leaves alone. */
  readonly ownRemovalPolicy: boolean;
}

/** What the tier hands its routing as it is: everything of BlueGreenRoutingProps but what the tier builds. */
export type ResolvedRouting = Omit<BlueGreenRoutingProps, 'listener' | 'blue' | 'green' | 'dashboard' | 'vpc' | 'vpcSubnets' | 'logEncryptionKey'>;

/** The props of a {@link SessionTier} with its defaults filled in and its rules checked. */
export interface ResolvedTierProps {
  /** The VPC given; the tier creates one when undefined. */
  readonly vpc?: ec2.IVpc;
  /** NAT gateways of the VPC the tier creates. */
  readonly natGateways: number;
  /** The key given for the tier's log groups; the tier creates one when undefined. */
  readonly logEncryptionKey?: kms.IKey;
  /** Your load balancer and listener, when given. */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
  readonly listener?: elbv2.IApplicationListener;
  /** The access-logs bucket given. */
  readonly accessLogsBucket?: s3.IBucket;
  /** The HTTPS listener's certificate and TLS policy, for the listener the tier creates. */
  readonly certificateArn?: string;
  readonly sslPolicy: elbv2.SslPolicy;
  /**
   * Whether users reach the tier over HTTPS: a certificate for the listener
   * the tier creates, or a listener of yours that is not known to serve HTTP.
   */
  readonly https: boolean;
  readonly loadBalancerDeletionProtection: boolean;
  readonly internetFacing: boolean;
  /** Whether the tier creates the access-logs bucket: only for a load balancer it creates, when given none. */
  readonly createAccessLogsBucket: boolean;
  /** The removal policy for what the tier creates and would keep; undefined: each resource's own default. */
  readonly removalPolicy?: RemovalPolicy;
  readonly blue: AppFleetOptions;
  /** Green's options, when there is a green fleet. */
  readonly green?: AppFleetOptions;
  readonly targetColor: FleetColor;
  /** Each color's strategy; no green one without a green fleet. */
  readonly strategies: { readonly blue: SessionStrategy; readonly green?: SessionStrategy };
  /** The stores given, or the props of those the tier creates (its removal policy applied unless theirs is set). */
  readonly stores: {
    readonly cache: ResolvedStore<ISessionCache, RedisSessionCacheProps>;
    readonly fileSystem: ResolvedStore<ISessionFileSystem, SessionFileSystemProps>;
    readonly database: ResolvedStore<ISessionDatabase, SessionDatabaseProps>;
  };
  /** The dashboard's settings; undefined when `dashboard` is false. */
  readonly dashboard?: { readonly alarmThresholds?: SessionAlarmThresholds; readonly alarmTopic?: sns.ITopic };
  /** The routing's props that the tier passes on as they are. */
  readonly routing: ResolvedRouting;
}

/**
 * Defaults, then the rules that concern the tier's own props (each part
 * checks its own props when it is built). Collects every problem and throws once.
 */
export function resolveTierProps(scope: Construct, props: SessionTierProps): ResolvedTierProps {
  const problems = new ProblemList();
  problems.check(props.vpc !== undefined && props.natGateways !== undefined,
    () => `natGateways: only applies to the VPC the tier creates, got ${Token.isUnresolved(props.natGateways) ? 'a value known at deploy time' : props.natGateways} ` +
      'with a given vpc; remove natGateways');
  problems.wholeNumber('natGateways', props.natGateways, { min: 1 }, 'the fleets install packages through them');
  // Existing or new, never both silently.
  for (const [existing, overrides] of [['sessionCache', 'cacheProps'], ['sessionFileSystem', 'fileSystemProps'], ['sessionDatabase', 'databaseProps']] as const) {
    problems.check(props[existing] !== undefined && props[overrides] !== undefined,
      () => `${overrides}: only apply to the store the tier creates, got both ${existing} and ${overrides}; pass either your ${existing} or ${overrides} for a new one`);
  }
  const own = props.loadBalancer !== undefined;
  problems.check(props.listener !== undefined && !own,
    () => 'listener: needs the load balancer it belongs to (a listener does not name it, and the tier reads its DNS name and metrics), ' +
      'got listener without loadBalancer; pass loadBalancer as well');
  // What only applies to the load balancer or the listener the tier creates.
  for (const [prop, given, of] of [
    ['internetFacing', props.internetFacing !== undefined, 'loadBalancer'],
    ['loadBalancerDeletionProtection', props.loadBalancerDeletionProtection !== undefined, 'loadBalancer'],
    ['certificateArn', props.certificateArn !== undefined, 'listener'],
    ['sslPolicy', props.sslPolicy !== undefined, 'listener'],
  ] as const) {
    const yours = of === 'loadBalancer' ? own : props.listener !== undefined;
    problems.check(given && yours,
      () => `${prop}: only applies to the ${of === 'loadBalancer' ? 'load balancer' : 'listener'} the tier creates, got both ${of} and ${prop}; ` +
        `set it on your ${of === 'loadBalancer' ? 'load balancer' : 'listener'}, or remove ${of}`);
  }
  problems.check(props.sslPolicy !== undefined && props.certificateArn === undefined && props.listener === undefined,
    () => 'sslPolicy: only applies to the HTTPS listener, got sslPolicy without certificateArn; pass certificateArn, or remove sslPolicy');
  problems.check(own && props.accessLogsBucket !== undefined && !(props.loadBalancer instanceof elbv2.ApplicationLoadBalancer),
    () => 'accessLogsBucket: the tier turns on access logs only for a load balancer of this app, got an imported loadBalancer; ' +
      'turn its access logs on where it is defined, or remove accessLogsBucket');
  // ELB's access logging names the region's log-delivery account in the bucket policy, so aws-cdk-lib needs the region at synth.
  const creates = !own || props.accessLogsBucket !== undefined;
  problems.check(creates && Token.isUnresolved(Stack.of(scope).region),
    () => 'env.region: the tier turns on the load balancer\'s access logs, whose bucket policy names the region\'s log-delivery account, ' +
      'got a stack without a region; give the stack one: new Stack(app, \'Id\', { env: { account: \'123456789012\', region: \'eu-west-1\' } }) ' +
      '(or env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION })');
  problems.throwIfAny(scope);

  const blue = props.blue ?? {};
  // The tier's removal policy for a store it creates, unless the store's own props set one (they are spread after).
  const removal = props.removalPolicy !== undefined ? { removalPolicy: props.removalPolicy } : {};
  const store = <I, P extends { readonly removalPolicy?: RemovalPolicy }>(given: I | undefined, own: Omit<P, 'vpc'> | undefined): ResolvedStore<I, P> =>
    ({ given, props: { ...removal, ...own } as Omit<P, 'vpc'>, ownRemovalPolicy: own?.removalPolicy !== undefined });
  const listenerIsHttp = props.listener instanceof elbv2.ApplicationListener && props.listener.protocol === elbv2.ApplicationProtocol.HTTP;
  return {
    vpc: props.vpc,
    natGateways: props.natGateways ?? 2,
    logEncryptionKey: props.logEncryptionKey,
    loadBalancer: props.loadBalancer,
    listener: props.listener,
    accessLogsBucket: props.accessLogsBucket,
    certificateArn: props.certificateArn,
    sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
    https: props.listener !== undefined ? !listenerIsHttp : props.certificateArn !== undefined,
    loadBalancerDeletionProtection: props.loadBalancerDeletionProtection ?? props.removalPolicy !== RemovalPolicy.DESTROY,
    internetFacing: props.internetFacing ?? true,
    createAccessLogsBucket: !own && props.accessLogsBucket === undefined,
    removalPolicy: props.removalPolicy,
    blue,
    green: props.green,
    targetColor: props.targetColor ?? FleetColor.BLUE,
    strategies: {
      blue: blue.strategy ?? SessionStrategy.memory(),
      green: props.green ? props.green.strategy ?? SessionStrategy.memory() : undefined,
    },
    stores: {
      cache: store<ISessionCache, RedisSessionCacheProps>(props.sessionCache, props.cacheProps),
      fileSystem: store<ISessionFileSystem, SessionFileSystemProps>(props.sessionFileSystem, props.fileSystemProps),
      database: store<ISessionDatabase, SessionDatabaseProps>(props.sessionDatabase, props.databaseProps),
    },
    dashboard: props.dashboard !== false ? { alarmThresholds: props.alarmThresholds, alarmTopic: props.alarmTopic } : undefined,
    routing: {
      // The listener the tier creates forwards to blue by default; a listener of yours keeps its default action.
      takeDefaultAction: props.listener === undefined,
      conditions: props.conditions,
      rulePriority: props.rulePriority,
      targetColor: props.targetColor,
      shiftPlan: props.shiftPlan,
      bakeTime: props.bakeTime,
      hook: props.hook,
      hookTimeout: props.hookTimeout,
      testTraffic: props.testTraffic,
      gateAlarms: props.gateAlarms,
      groupStickiness: props.groupStickiness,
    },
  };
}

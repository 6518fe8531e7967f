import { Annotations, Duration, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DEFAULT_COOKIE_NAME, FleetColor } from '../contract/app-env';
import { FleetApplication } from '../fleet-application';
import { EC2_INSTANCE_SIZES, EC2_INSTANCE_TYPES_SOURCE } from '../private/ec2-instance-types';
import { DEFAULT_LOG_RETENTION } from '../private/keys';
import { ProblemList } from '../private/problems';
import { SessionStrategy } from '../session-strategy';
import { Stickiness } from '../stickiness';
import { AppFleetProps } from './props';

/** Everything the fleet's steps need: the props with their defaults, checked. */
export interface ResolvedFleetProps {
  readonly vpc: ec2.IVpc;
  readonly color: FleetColor;
  readonly application: FleetApplication;
  readonly strategy: SessionStrategy;
  readonly version: string;
  readonly stickiness: Stickiness;
  /** The app's session cookie: the one application-cookie stickiness names, else the default. */
  readonly cookieName: string;
  readonly secureCookies: boolean;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly instanceTypes: ec2.InstanceType[];
  readonly rootVolumeSize: number;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly targetRequestsPerMinute: number;
  readonly healthCheckGracePeriod: Duration;
  readonly signalTimeout: Duration;
  readonly deregistrationDelay: Duration;
  readonly slowStart?: Duration;
  readonly loadBalancingAlgorithm?: elbv2.TargetGroupLoadBalancingAlgorithmType;
  readonly notificationsTopic?: sns.ITopic;
  readonly metricsInterval: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly logEncryptionKey?: kms.IKey;
}

/**
 * Defaults, then every rule AWS or CloudFormation would reject later, checked
 * at synth in one pass. Values known only at deploy time (a `CfnParameter`'s)
 * are left to CloudFormation and never printed.
 */
export function resolveFleetProps(scope: Construct, props: AppFleetProps): ResolvedFleetProps {
  const stickiness = props.stickiness ?? Stickiness.loadBalancerCookie(Duration.days(1));
  const instanceTypes = resolveInstanceTypes(scope, props.instanceType, props.instanceTypes);
  const r: ResolvedFleetProps = {
    vpc: props.vpc,
    color: props.color,
    application: props.application ?? FleetApplication.sampleApp(),
    strategy: props.strategy ?? SessionStrategy.memory(),
    version: props.version ?? '1.0.0',
    stickiness,
    cookieName: stickiness.cookieName ?? DEFAULT_COOKIE_NAME,
    secureCookies: props.secureCookies ?? true,
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    instanceTypes: instanceTypes.types,
    rootVolumeSize: props.rootVolumeSize ?? 8,
    minCapacity: props.minCapacity ?? 2,
    maxCapacity: props.maxCapacity ?? 4,
    targetRequestsPerMinute: props.targetRequestsPerMinute ?? 1000,
    healthCheckGracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(5),
    signalTimeout: props.signalTimeout ?? Duration.minutes(15),
    deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(30),
    slowStart: props.slowStart,
    loadBalancingAlgorithm: props.loadBalancingAlgorithm,
    notificationsTopic: props.notificationsTopic,
    metricsInterval: props.metricsInterval ?? Duration.minutes(1),
    logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    logEncryptionKey: props.logEncryptionKey,
  };
  const subnets = r.vpc.selectSubnets(r.vpcSubnets);

  const problems = new ProblemList();
  problems.add(...instanceTypes.problems);
  problems.check(!Object.values(FleetColor).includes(r.color), () => `color: must be FleetColor.BLUE or FleetColor.GREEN, got ${JSON.stringify(r.color)}`);
  const rolling = 'a rolling update launches a replacement before it retires an instance';
  problems.wholeNumber('minCapacity', r.minCapacity, { min: 1 }, 'a fleet behind a load balancer needs an instance to serve');
  if (!Token.isUnresolved(r.minCapacity) && Number.isInteger(r.minCapacity) && r.minCapacity >= 1) {
    problems.check(!Token.isUnresolved(r.maxCapacity) && (!Number.isInteger(r.maxCapacity) || r.maxCapacity <= r.minCapacity),
      () => `maxCapacity: must be a whole number greater than minCapacity (${r.minCapacity}), got ${r.maxCapacity}; ${rolling}`);
  } else {
    problems.wholeNumber('maxCapacity', r.maxCapacity, { min: 2 }, rolling);
  }
  problems.number('targetRequestsPerMinute', r.targetRequestsPerMinute, { above: 0 });
  // EC2 judges the largest size (16,384 GiB for gp3 in its launch-template model; larger in newer docs).
  problems.wholeNumber('rootVolumeSize', r.rootVolumeSize, { min: 1 });
  problems.wholeSeconds('deregistrationDelay', r.deregistrationDelay, { min: 0, max: 3600 });
  problems.wholeSeconds('slowStart', r.slowStart, { min: 30, max: 900 }, 'omit it to turn slow start off');
  problems.check(r.slowStart !== undefined && r.loadBalancingAlgorithm === elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
    () => `slowStart: not supported with the least_outstanding_requests algorithm, got slowStart ${r.slowStart!.toHumanString()}; remove slowStart or use ROUND_ROBIN`);
  problems.wholeSeconds('metricsInterval', r.metricsInterval, { min: 1, max: 3600 });
  const zones = subnets.availabilityZones;
  // The zones' names, where known at synth (an environment-agnostic stack's are tokens).
  const named = zones.some((z) => Token.isUnresolved(z)) ? '' : ` (${zones.join(', ') || 'none'})`;
  // Name the prop the user set: the subnets picked, or, with the default pick, the VPC (its maxAzs is the usual cause).
  problems.check(zones.length < 2, () => (props.vpcSubnets !== undefined
    ? `vpcSubnets: the fleet must span at least two Availability Zones, got ${zones.length}${named}; select subnets in two or more zones (and give the VPC two or more: ec2.Vpc's maxAzs)`
    : `vpc: the fleet's private subnets must span at least two Availability Zones, got ${zones.length}${named}; give the VPC two or more (ec2.Vpc's maxAzs: 2), ` +
      'or select subnets in two or more zones with vpcSubnets'));
  problems.check(subnets.hasPublic,
    () => 'vpcSubnets: the fleet must run in private subnets, got public ones; the load balancer is the only public entry');
  problems.throwIfAny(scope);

  if (!r.strategy.survivesInstanceLoss && !r.stickiness.enabled) {
    Annotations.of(scope).addWarningV2('cdk-session-tier:memoryWithoutStickiness',
      `strategy: ${r.strategy} sessions without stickiness are lost whenever a request reaches another instance; use Stickiness.loadBalancerCookie(...) or a shared strategy`);
  }
  if (!r.secureCookies) {
    Annotations.of(scope).addWarningV2('cdk-session-tier:insecureCookies',
      'secureCookies: false, so the session cookie lacks Secure and a browser also sends it over plain HTTP, unencrypted; serve HTTPS (an ACM certificate on the listener) and leave secureCookies at its default, true');
  }
  return r;
}

/** Each family's sizes, smallest first, from AWS's EC2 service model (generated: scripts/ec2-instance-types.ts). */
const FAMILY_SIZES = new Map(Object.entries(EC2_INSTANCE_SIZES).map(([family, sizes]) => [family, sizes.split(' ')]));

/** A type's family and size: the family is everything before the period (EC2's own rule, cited in the generator). */
function parts(type: string): { readonly family: string; readonly size: string; readonly sizes?: readonly string[] } {
  const dot = type.indexOf('.');
  const family = type.slice(0, dot);
  return { family, size: type.slice(dot + 1), sizes: FAMILY_SIZES.get(family) };
}

/** Whether EC2 has `type`, as far as the shipped data knows (it can be older than EC2). */
function isKnownInstanceType(type: string): boolean {
  const { size, sizes } = parts(type);
  return sizes?.includes(size) ?? false;
}

/**
 * The next larger size of `type`'s family that EC2 has, or undefined for the
 * largest size, a bare-metal size (a host's hardware, not a bigger instance)
 * and a type the data does not know. Same family, so same architecture:
 * aws-cdk-lib reads the architecture from the family alone.
 */
export function fallbackInstanceType(type: string): string | undefined {
  const { family, size, sizes } = parts(type);
  const next = sizes?.[sizes.indexOf(size) + 1];
  // Bare-metal sizes sort last, so a metal type has none either.
  return isKnownInstanceType(type) && next !== undefined && !next.startsWith('metal') ? `${family}.${next}` : undefined;
}

/**
 * `instanceTypes`, or `instanceType` and the next larger size of its family
 * that EC2 has; one architecture, no repeats. An Auto Scaling group takes only
 * types EC2 has (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LaunchTemplateOverrides.html),
 * so a fallback comes from AWS's EC2 model, never from a ladder of size names.
 * A type the shipped model does not know (newer than it, or a typo) is a
 * warning, not an error: EC2 is the judge at deploy, and a new family must not
 * be blocked by old data. Without a fallback the group launches the one type.
 * Returns the types and the problems found, for the caller's list.
 */
function resolveInstanceTypes(scope: Construct, instanceType: ec2.InstanceType | undefined, instanceTypes: ec2.InstanceType[] | undefined):
{ readonly types: ec2.InstanceType[]; readonly problems: string[] } {
  const problems: string[] = [];
  if (instanceType !== undefined && instanceTypes !== undefined) {
    problems.push(`instanceTypes: give either instanceType or instanceTypes, got instanceType ${instanceType} and instanceTypes ${instanceTypes.join(', ')}; ` +
      `put ${instanceType} first in instanceTypes`);
  }
  const first = instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
  let types = instanceTypes;
  if (types === undefined) {
    const fallback = fallbackInstanceType(String(first));
    types = fallback ? [first, new ec2.InstanceType(fallback)] : [first];
    if (!fallback) {
      const { family, size } = parts(String(first));
      const why = !isKnownInstanceType(String(first))
        ? `not an EC2 instance type this package knows (AWS's EC2 model of ${EC2_INSTANCE_TYPES_SOURCE}), got ${first}`
        : `no larger size of ${family} to fall back on, got ${first} (${size.startsWith('metal') ? 'bare metal' : 'its largest size'})`;
      Annotations.of(scope).addWarningV2('cdk-session-tier:instanceTypeWithoutFallback',
        `instanceType: ${why}, so the group launches it alone, with no other type for a zone short of it; ` +
        'give instanceTypes, two or more of one architecture in order of preference (Control Tower\'s CT.AUTOSCALING.PR.6 requires two)');
    }
  } else {
    const unknown = types.map(String).filter((t) => !isKnownInstanceType(t));
    if (unknown.length > 0) {
      Annotations.of(scope).addWarningV2('cdk-session-tier:unknownInstanceType',
        `instanceTypes: not an EC2 instance type this package knows (AWS's EC2 model of ${EC2_INSTANCE_TYPES_SOURCE}), got ${unknown.join(', ')}; ` +
        'check the name (EC2 refuses a type it does not have at deploy), or acknowledge this warning for a type newer than the data');
    }
  }
  const names = types.map(String);
  if (types.length < 1) {
    problems.push('instanceTypes: must name at least one instance type, got none');
  }
  if (new Set(names).size !== names.length) {
    problems.push(`instanceTypes: must not repeat a type, got ${names.join(', ')}`);
  }
  if (new Set(types.map((t) => t.architecture)).size > 1) {
    problems.push(`instanceTypes: must share one architecture (the instances boot one AMI), got ${types.map((t) => `${t} (${t.architecture})`).join(', ')}; ` +
      'use only Graviton or only x86 types');
  }
  return { types, problems };
}

import { Annotations, Duration, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FLEET_COLORS } from '../contract/app-env';
import { FleetApplication } from '../fleet-application';
import { EC2_INSTANCE_SIZES, EC2_INSTANCE_TYPES_SOURCE } from '../private/ec2-instance-types';
import { DEFAULT_LOG_RETENTION } from '../private/keys';
import { ProblemList } from '../private/problems';
import { SessionStrategy } from '../session-strategy';
import { Stickiness } from '../stickiness';
import { AppFleetProps } from './props';

/** The props with their defaults, checked. */
export interface ResolvedFleetProps {
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly deregistrationDelay: Duration;
  readonly signalTimeout: Duration;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly stickiness: Stickiness;
  readonly strategy: SessionStrategy;
  readonly application: FleetApplication;
  readonly instanceTypes: ec2.InstanceType[];
  readonly version: string;
  readonly secureCookies: boolean;
  readonly rootVolumeSize: number;
  readonly healthCheckGracePeriod: Duration;
  readonly targetRequestsPerMinute: number;
  readonly metricsInterval: Duration;
  readonly logRetention: logs.RetentionDays;
}

/** Defaults, then every rule AWS or CloudFormation would reject later, checked at synth in one pass. */
export function resolveFleetProps(scope: Construct, props: AppFleetProps): ResolvedFleetProps {
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
    instanceTypes: resolveInstanceTypes(scope, problems, props),
    version: props.version ?? '1.0.0',
    secureCookies: props.secureCookies ?? false,
    rootVolumeSize: props.rootVolumeSize ?? 8,
    healthCheckGracePeriod: props.healthCheckGracePeriod ?? Duration.minutes(5),
    targetRequestsPerMinute: props.targetRequestsPerMinute ?? 1000,
    metricsInterval: props.metricsInterval ?? Duration.minutes(1),
    logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
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
  if (!r.strategy.survivesInstanceLoss && !r.stickiness.enabled) {
    Annotations.of(scope).addWarningV2('cdk-session-tier:memoryWithoutStickiness',
      `strategy: ${r.strategy} sessions without stickiness are lost whenever a request reaches another instance; use Stickiness.loadBalancerCookie(...) or a shared strategy`);
  }

  const selected = props.vpc.selectSubnets(r.vpcSubnets);
  problems.check(selected.availabilityZones.length < 2,
    () => `vpcSubnets: the fleet must span at least two Availability Zones, got ${selected.availabilityZones.length} (${selected.availabilityZones.join(', ') || 'none'}); select subnets in two or more zones`);
  problems.check(selected.hasPublic,
    () => 'vpcSubnets: the fleet must run in private subnets, got public ones; the load balancer is the only public entry');

  problems.throwIfAny(scope);
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
 */
function resolveInstanceTypes(scope: Construct, problems: ProblemList, props: AppFleetProps): ec2.InstanceType[] {
  problems.check(props.instanceType !== undefined && props.instanceTypes !== undefined,
    () => `instanceTypes: give either instanceType or instanceTypes, got instanceType ${props.instanceType} and instanceTypes ${props.instanceTypes!.join(', ')}; put ${props.instanceType} first in instanceTypes`);
  const first = props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
  let types = props.instanceTypes;
  if (types === undefined) {
    const fallback = fallbackInstanceType(first.toString());
    types = fallback ? [first, new ec2.InstanceType(fallback)] : [first];
    if (!fallback) {
      const { family, size } = parts(first.toString());
      const why = !isKnownInstanceType(first.toString())
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
  problems.check(types.length < 1, () => 'instanceTypes: must name at least one instance type, got none');
  problems.check(new Set(names).size !== names.length, () => `instanceTypes: must not repeat a type, got ${names.join(', ')}`);
  const architectures = new Set(types.map((t) => t.architecture));
  problems.check(architectures.size > 1,
    () => `instanceTypes: must share one architecture (the instances boot one AMI), got ${types!.map((t) => `${t} (${t.architecture})`).join(', ')}; use only Graviton or only x86 types`);
  return types;
}

import { Annotations, Duration, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FLEET_COLORS } from '../contract/app-env';
import { FleetApplication } from '../fleet-application';
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
    instanceTypes: resolveInstanceTypes(problems, props),
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

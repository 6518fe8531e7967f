import { RemovalPolicy, Size, SizeRoundingBehavior } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { SessionFileSystemProps } from './props';

/** Everything the file system's steps need: the props with every default filled in. */
export interface ResolvedFileSystemProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly lifecyclePolicy: efs.LifecyclePolicy;
  readonly removalPolicy: RemovalPolicy;
  readonly performanceMode: efs.PerformanceMode;
  readonly throughputMode: efs.ThroughputMode;
  readonly provisionedThroughputPerSecond?: Size;
  readonly encryptionKey?: kms.IKey;
}

/** Defaults, then the rules EFS would refuse at deploy time (or aws-cdk-lib at synth, without naming our prop). */
export function resolveFileSystemProps(scope: Construct, props: SessionFileSystemProps): ResolvedFileSystemProps {
  const r: ResolvedFileSystemProps = {
    vpc: props.vpc,
    vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    lifecyclePolicy: props.lifecyclePolicy ?? efs.LifecyclePolicy.AFTER_14_DAYS,
    // Sessions are live data: kept when the file system leaves the stack.
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    // The lowest latency per operation, and throughput that follows the traffic.
    performanceMode: props.performanceMode ?? efs.PerformanceMode.GENERAL_PURPOSE,
    throughputMode: props.throughputMode ?? efs.ThroughputMode.ELASTIC,
    provisionedThroughputPerSecond: props.provisionedThroughputPerSecond,
    encryptionKey: props.encryptionKey,
  };
  const problems = new ProblemList();
  const provisioned = r.throughputMode === efs.ThroughputMode.PROVISIONED;
  const throughput = r.provisionedThroughputPerSecond;
  problems.check(provisioned && throughput === undefined,
    () => 'throughputMode: PROVISIONED needs provisionedThroughputPerSecond, got none; pass provisionedThroughputPerSecond, e.g. Size.mebibytes(10)');
  problems.check(!provisioned && throughput !== undefined,
    () => `provisionedThroughputPerSecond: only applies with throughputMode PROVISIONED, got throughputMode ${r.throughputMode}; pass throughputMode: efs.ThroughputMode.PROVISIONED or remove it`);
  if (throughput !== undefined && !throughput.isUnresolved()) {
    // EFS's model: ProvisionedThroughputInMibps has a minimum of 1.0.
    problems.number('provisionedThroughputPerSecond', throughput.toMebibytes({ rounding: SizeRoundingBehavior.NONE }), { min: 1 }, 'a number of MiB/s');
  }
  // Elastic throughput is for General Purpose file systems only (https://docs.aws.amazon.com/efs/latest/ug/performance.html).
  problems.check(r.performanceMode === efs.PerformanceMode.MAX_IO && r.throughputMode === efs.ThroughputMode.ELASTIC,
    () => `performanceMode: MAX_IO cannot use Elastic throughput, got throughputMode ${r.throughputMode}${props.throughputMode === undefined ? ' (the default)' : ''}; `
      + 'pass throughputMode BURSTING or PROVISIONED, or keep GENERAL_PURPOSE');
  problems.throwIfAny(scope);
  return r;
}

import { RemovalPolicy, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { CacheEngine } from './engine';
import { RedisSessionCacheProps } from './props';

/** Everything the cache's steps need: the props with every default filled in, and the subnets they select. */
export interface ResolvedCacheProps {
  readonly vpc: ec2.IVpc;
  /** The private subnets of the subnet group. */
  readonly subnetIds: string[];
  /** The zone of each node, primary first; none when the zones or the node count are known only at deploy time. */
  readonly nodeAzs?: string[];
  readonly engine: CacheEngine;
  readonly engineVersion: string;
  readonly cacheNodeType: string;
  readonly nodes: number;
  readonly multiAz: boolean;
  readonly transitEncryption: boolean;
  readonly authToken: boolean;
  readonly encryptionKey?: kms.IKey;
  readonly port: number;
  readonly snapshotRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/** Defaults, then every rule ElastiCache would only refuse at deploy time; a `CfnParameter`'s value is CloudFormation's to check. */
export function resolveCacheProps(scope: Construct, props: RedisSessionCacheProps): ResolvedCacheProps {
  const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  const engine = props.engine ?? CacheEngine.VALKEY;
  const nodes = props.nodes ?? 2;
  const azs = subnets.availabilityZones;
  const r: ResolvedCacheProps = {
    vpc: props.vpc,
    subnetIds: subnets.subnetIds,
    // Primary and replicas round-robin over the zones. Without them ElastiCache picks the zones itself
    // ("Default: system chosen Availability Zones",
    // https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html).
    nodeAzs: Token.isUnresolved(azs) || Token.isUnresolved(nodes) || azs.length === 0 ? undefined
      : Array.from({ length: nodes }, (_, i) => azs[i % azs.length]),
    // The group: the engine, a small Graviton node type, a primary and one replica.
    engine,
    engineVersion: props.engineVersion ?? (engine === CacheEngine.VALKEY ? '8.0' : '7.1'),
    cacheNodeType: props.cacheNodeType ?? 'cache.t4g.small',
    nodes,
    // Safe unless turned off: a replica in another zone to fail over to, TLS, an AUTH token, a port scanners skip.
    multiAz: props.multiAz ?? true,
    transitEncryption: props.transitEncryption ?? true,
    authToken: props.authToken ?? true,
    encryptionKey: props.encryptionKey,
    port: props.port ?? 6380,
    // A week of daily snapshots, and a last one when the cache leaves the stack.
    snapshotRetentionDays: props.snapshotRetentionDays ?? 7,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
  };
  const problems = new ProblemList();
  problems.wholeNumber('nodes', r.nodes, { min: 2, max: 6 }, 'a primary and 1 to 5 replicas');
  problems.check(r.multiAz && !Token.isUnresolved(r.nodes) && r.nodes < 2,
    () => `multiAz: needs a replica to fail over to, got nodes ${r.nodes}; use nodes 2 or more`);
  problems.check(r.authToken && !r.transitEncryption,
    () => 'authToken: ElastiCache accepts an AUTH token only with transit encryption, got transitEncryption false; turn transitEncryption on or authToken off');
  checkPort(problems, r.port);
  problems.wholeNumber('snapshotRetentionDays', r.snapshotRetentionDays, { min: 0, max: 35 });
  problems.check(r.multiAz && !Token.isUnresolved(azs) && azs.length < 2,
    () => `vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got ${azs.length}`);
  problems.throwIfAny(scope);
  return r;
}

/** Adds a problem when `port` is not a port ElastiCache accepts. */
export function checkPort(problems: ProblemList, port: number): void {
  problems.wholeNumber('port', port, { min: 1024, max: 65535 });
}

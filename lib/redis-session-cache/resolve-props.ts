import { RemovalPolicy, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { CacheEngine } from './engine';
import { RedisSessionCacheProps } from './props';

/** The props with every default filled in, and the Availability Zones of the subnets. */
export type ResolvedCacheProps = Required<Omit<RedisSessionCacheProps, 'vpc' | 'encryptionKey'>> & { readonly azs: string[] };

/** Defaults, then every rule ElastiCache would only refuse at deploy time. */
export function resolveCacheProps(scope: Construct, props: RedisSessionCacheProps): ResolvedCacheProps {
  const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const engine = props.engine ?? CacheEngine.VALKEY;
  const r: ResolvedCacheProps = {
    vpcSubnets, azs: props.vpc.selectSubnets(vpcSubnets).availabilityZones,
    // The group: the engine, a small Graviton node type, a primary and one replica.
    engine, engineVersion: props.engineVersion ?? (engine === CacheEngine.VALKEY ? '8.0' : '7.1'),
    cacheNodeType: props.cacheNodeType ?? 'cache.t4g.small', nodes: props.nodes ?? 2,
    // Safe unless turned off: a replica in another zone to fail over to, TLS, an AUTH token, a port scanners skip.
    multiAz: props.multiAz ?? true, transitEncryption: props.transitEncryption ?? true, authToken: props.authToken ?? true, port: props.port ?? 6380,
    // A week of daily snapshots, and a last one when the cache leaves the stack.
    snapshotRetentionDays: props.snapshotRetentionDays ?? 7, removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
  };
  const problems = new ProblemList();
  problems.check(!Number.isInteger(r.nodes) || r.nodes < 2 || r.nodes > 6,
    () => `nodes: must be a whole number from 2 to 6 (a primary and 1 to 5 replicas), got ${r.nodes}`);
  problems.check(r.multiAz && r.nodes < 2,
    () => `multiAz: needs a replica to fail over to, got nodes ${r.nodes}; use nodes 2 or more`);
  problems.check(r.authToken && !r.transitEncryption,
    () => 'authToken: ElastiCache accepts an AUTH token only with transit encryption, got transitEncryption false; turn transitEncryption on or authToken off');
  checkPort(problems, r.port);
  problems.check(!Number.isInteger(r.snapshotRetentionDays) || r.snapshotRetentionDays < 0 || r.snapshotRetentionDays > 35,
    () => `snapshotRetentionDays: must be a whole number from 0 to 35, got ${r.snapshotRetentionDays}`);
  problems.check(r.multiAz && r.azs.length < 2,
    () => `vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got ${r.azs.length}`);
  problems.throwIfAny(scope);
  return r;
}

/** Adds a problem when `port` is not a port ElastiCache accepts. */
export function checkPort(problems: ProblemList, port: number): void {
  problems.check(!Token.isUnresolved(port) && (!Number.isInteger(port) || port < 1024 || port > 65535),
    () => `port: must be a whole number from 1024 to 65535, got ${port}`);
}

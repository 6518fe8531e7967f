import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { DatabaseEngine, MAX_READ_REPLICAS } from './engine';
import { SessionDatabaseProps } from './props';

/** Everything the database's steps need: the props with every default filled in, and what they need of the VPC. */
export interface ResolvedDatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The zones of the subnets, over which the replicas are spread. */
  readonly azs: string[];
  readonly engine: DatabaseEngine;
  readonly engineVersion: string;
  readonly instanceType: ec2.InstanceType;
  readonly readReplicas: number;
  readonly multiAz: boolean;
  readonly proxy: boolean;
  readonly allocatedStorage: number;
  readonly maxAllocatedStorage: number;
  /** The storage key; none means the primary's step creates one (a customer managed key). */
  readonly storageEncryptionKey?: kms.IKey;
  /** The setup's log key; none means the setup's step creates one. */
  readonly logEncryptionKey?: kms.IKey;
  readonly backupRetention: Duration;
  readonly deletionProtection: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly databaseName: string;
  readonly port: number;
  readonly databaseInsightsMode: rds.DatabaseInsightsMode;
  readonly monitoringInterval: Duration;
}

/**
 * Defaults, then every rule CDK and CloudFormation would only catch later (or
 * never). A `CfnParameter`'s value is CloudFormation's to check, but for what
 * the constructs depend on at synth: the number of replicas and the engine
 * version (the parameter group's family).
 */
export function resolveDatabaseProps(scope: Construct, props: SessionDatabaseProps): ResolvedDatabaseProps {
  const engine = props.engine ?? DatabaseEngine.POSTGRES;
  const postgres = engine === DatabaseEngine.POSTGRES;
  const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const r: ResolvedDatabaseProps = {
    vpc: props.vpc,
    vpcSubnets,
    azs: props.vpc.selectSubnets(vpcSubnets).availabilityZones,
    engine,
    engineVersion: props.engineVersion ?? (postgres ? '17' : rds.MysqlEngineVersion.VER_8_4_10.mysqlFullVersion),
    instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    readReplicas: props.readReplicas ?? 1,
    multiAz: props.multiAz ?? true,
    proxy: props.proxy ?? false,
    allocatedStorage: props.allocatedStorage ?? 20,
    maxAllocatedStorage: props.maxAllocatedStorage ?? 100,
    storageEncryptionKey: props.storageEncryptionKey,
    logEncryptionKey: props.logEncryptionKey,
    backupRetention: props.backupRetention ?? Duration.days(7),
    deletionProtection: props.deletionProtection ?? true,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
    databaseName: props.databaseName ?? 'sessions',
    port: props.port ?? (postgres ? 5433 : 3307),
    databaseInsightsMode: props.databaseInsightsMode ?? rds.DatabaseInsightsMode.STANDARD,
    monitoringInterval: props.monitoringInterval ?? Duration.seconds(60),
  };
  const problems = new ProblemList();
  const atDeploy = 'a value known only at deploy time';
  problems.check(Token.isUnresolved(r.readReplicas),
    () => `readReplicas: must be known at synth (it decides how many replicas to create), got ${atDeploy}; pass a number from 0 to ${MAX_READ_REPLICAS}`);
  problems.wholeNumber('readReplicas', r.readReplicas, { min: 0, max: MAX_READ_REPLICAS },
    `RDS allows at most ${MAX_READ_REPLICAS} read replicas per ${postgres ? 'PostgreSQL' : 'MySQL'} instance`);
  if (!r.backupRetention.isUnresolved()) {
    const retentionDays = r.backupRetention.toHours() / 24;
    problems.check(retentionDays === 0 && r.readReplicas > 0,
      () => `backupRetention: read replicas need automated backups on the primary, got 0 days with readReplicas ${r.readReplicas}; keep backups 1 to 35 days`);
    problems.check(!Number.isInteger(retentionDays) || retentionDays > 35 || (retentionDays < 1 && r.readReplicas === 0),
      () => `backupRetention: must be whole days from 1 to 35, got ${r.backupRetention.toHumanString()}`);
  }
  const engineVersion = postgres ? /^\d{2}(\.\d+)?$/ : /^\d\.\d(\.\d+)?$/;
  problems.check(Token.isUnresolved(r.engineVersion),
    () => `engineVersion: must be known at synth (the parameter group's family is taken from it), got ${atDeploy}; pass a version like ${postgres ? '17' : '8.4.10'}`);
  problems.check(!Token.isUnresolved(r.engineVersion) && !engineVersion.test(r.engineVersion),
    () => `engineVersion: must be a ${postgres ? 'PostgreSQL version like 17 or 17.6' : 'MySQL version like 8.4 or 8.0.42'}, got ${JSON.stringify(r.engineVersion)}`);
  problems.wholeNumber('allocatedStorage', r.allocatedStorage, { min: 20, max: 65536 }, 'GiB of gp3 storage, 20 at least');
  problems.wholeNumber('maxAllocatedStorage', r.maxAllocatedStorage, { max: 65536 }, 'GiB');
  problems.check(!Token.isUnresolved(r.allocatedStorage) && !Token.isUnresolved(r.maxAllocatedStorage) && r.maxAllocatedStorage <= r.allocatedStorage,
    () => `maxAllocatedStorage: must be above allocatedStorage (${r.allocatedStorage}), got ${r.maxAllocatedStorage}; storage autoscaling grows from one to the other`);
  checkDatabaseName(problems, r.databaseName);
  problems.wholeNumber('port', r.port, { min: 1150, max: 65535 }, 'the RDS range');
  problems.check(!r.monitoringInterval.isUnresolved() && ![1, 5, 10, 15, 30, 60].includes(r.monitoringInterval.toSeconds({ integral: false })),
    () => `monitoringInterval: must be 1, 5, 10, 15, 30 or 60 seconds (what RDS enhanced monitoring takes), got ${r.monitoringInterval.toHumanString()}`);
  problems.check(r.multiAz && !Token.isUnresolved(r.azs) && r.azs.length < 2,
    () => `vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got ${r.azs.length}`);
  problems.throwIfAny(scope);
  return r;
}

/** Adds a problem when `name` is not a database name both engines accept; CloudFormation checks a token. */
export function checkDatabaseName(problems: ProblemList, name: string): void {
  problems.check(!Token.isUnresolved(name) && !/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(name),
    () => `databaseName: must start with a letter and hold only letters, digits and underscores, 1 to 63 characters, got ${JSON.stringify(name)}`);
}

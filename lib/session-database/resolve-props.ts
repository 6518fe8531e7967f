import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { DatabaseEngine, MAX_READ_REPLICAS } from './engine';
import { SessionDatabaseProps } from './props';

/** The props with every default filled in, and what the steps need of the VPC. */
export interface ResolvedDatabaseProps {
  readonly engine: DatabaseEngine;
  readonly engineVersion: string;
  readonly instanceType: ec2.InstanceType;
  readonly readReplicas: number;
  readonly multiAz: boolean;
  readonly proxy: boolean;
  readonly allocatedStorage: number;
  readonly maxAllocatedStorage: number;
  readonly backupRetention: Duration;
  readonly deletionProtection: boolean;
  readonly removalPolicy: RemovalPolicy;
  readonly databaseName: string;
  readonly port: number;
  readonly databaseInsightsMode: rds.DatabaseInsightsMode;
  readonly monitoringInterval: Duration;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly azs: string[];
}

/** Defaults, then every rule CDK and CloudFormation would only catch later (or never). */
export function resolveDatabaseProps(scope: Construct, props: SessionDatabaseProps): ResolvedDatabaseProps {
  const engine = props.engine ?? DatabaseEngine.POSTGRES;
  const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  const r: ResolvedDatabaseProps = {
    engine,
    engineVersion: props.engineVersion ?? (engine === DatabaseEngine.POSTGRES ? '17' : rds.MysqlEngineVersion.VER_8_4_10.mysqlFullVersion),
    instanceType: props.instanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
    readReplicas: props.readReplicas ?? 1,
    multiAz: props.multiAz ?? true,
    proxy: props.proxy ?? false,
    allocatedStorage: props.allocatedStorage ?? 20,
    maxAllocatedStorage: props.maxAllocatedStorage ?? 100,
    backupRetention: props.backupRetention ?? Duration.days(7),
    deletionProtection: props.deletionProtection ?? true,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.SNAPSHOT,
    databaseName: props.databaseName ?? 'sessions',
    port: props.port ?? (engine === DatabaseEngine.POSTGRES ? 5433 : 3307),
    databaseInsightsMode: props.databaseInsightsMode ?? rds.DatabaseInsightsMode.STANDARD,
    monitoringInterval: props.monitoringInterval ?? Duration.seconds(60),
    vpcSubnets,
    azs: props.vpc.selectSubnets(vpcSubnets).availabilityZones,
  };
  const problems = new ProblemList();
  problems.check(!Number.isInteger(r.readReplicas) || r.readReplicas < 0 || r.readReplicas > MAX_READ_REPLICAS,
    () => `readReplicas: must be a whole number from 0 to ${MAX_READ_REPLICAS} (the RDS limit of read replicas per ${engine === DatabaseEngine.POSTGRES ? 'PostgreSQL' : 'MySQL'} instance), got ${r.readReplicas}`);
  const retentionDays = r.backupRetention.toHours() / 24;
  problems.check(retentionDays === 0 && r.readReplicas > 0,
    () => `backupRetention: read replicas need automated backups on the primary, got 0 days with readReplicas ${r.readReplicas}; keep backups 1 to 35 days`);
  problems.check(!Number.isInteger(retentionDays) || retentionDays > 35 || (retentionDays < 1 && r.readReplicas === 0),
    () => `backupRetention: must be whole days from 1 to 35, got ${r.backupRetention.toHumanString()}`);
  const engineVersion = engine === DatabaseEngine.POSTGRES ? /^\d{2}(\.\d+)?$/ : /^\d\.\d(\.\d+)?$/;
  problems.check(!engineVersion.test(r.engineVersion),
    () => `engineVersion: must be a ${engine === DatabaseEngine.POSTGRES ? 'PostgreSQL version like 17 or 17.6' : 'MySQL version like 8.4 or 8.0.42'}, got ${JSON.stringify(r.engineVersion)}`);
  problems.check(!Number.isInteger(r.allocatedStorage) || r.allocatedStorage < 20 || r.allocatedStorage > 65536,
    () => `allocatedStorage: must be a whole number of GiB from 20 (the gp3 minimum) to 65536, got ${r.allocatedStorage}`);
  problems.check(!Number.isInteger(r.maxAllocatedStorage) || r.maxAllocatedStorage <= r.allocatedStorage || r.maxAllocatedStorage > 65536,
    () => `maxAllocatedStorage: must be a whole number of GiB above allocatedStorage (${r.allocatedStorage}) and at most 65536, got ${r.maxAllocatedStorage}`);
  checkDatabaseName(problems, r.databaseName);
  problems.check(!Number.isInteger(r.port) || r.port < 1150 || r.port > 65535,
    () => `port: must be a whole number from 1150 to 65535 (the RDS range), got ${r.port}`);
  const monitoring = r.monitoringInterval.toSeconds({ integral: false });
  problems.check(![1, 5, 10, 15, 30, 60].includes(monitoring),
    () => `monitoringInterval: must be 1, 5, 10, 15, 30 or 60 seconds (what RDS enhanced monitoring takes), got ${r.monitoringInterval.toHumanString()}`);
  problems.check(r.multiAz && !Token.isUnresolved(r.azs) && r.azs.length < 2,
    () => `vpcSubnets: Multi-AZ needs subnets in two or more Availability Zones, got ${r.azs.length}`);
  problems.throwIfAny(scope);
  return r;
}

/** Adds a problem when `name` is not a database name both engines accept. */
export function checkDatabaseName(problems: ProblemList, name: string): void {
  problems.check(!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(name),
    () => `databaseName: must start with a letter and hold only letters, digits and underscores, 1 to 63 characters, got ${JSON.stringify(name)}`);
}

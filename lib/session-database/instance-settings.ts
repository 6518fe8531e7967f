import { RemovalPolicy, Validations } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { DatabaseEngine } from './engine';
import { ResolvedDatabaseProps } from './resolve-props';

/** The props the primary and every replica are given alike. */
export type SharedInstanceProps = rds.DatabaseInstanceNewProps & { readonly instanceType: ec2.InstanceType };

/** What the primary and the replicas are built from. */
export interface InstanceSettings {
  /** The engine at the chosen version, for the primary (replicas take their primary's). */
  readonly engine: rds.IInstanceEngine;
  /** The parameter group, monitoring role, subnet group and the rest the primary and every replica share. */
  readonly shared: SharedInstanceProps;
}

/**
 * The engine, then the parameter group, the enhanced monitoring role and the
 * subnet group (one of each for all instances), and the instance settings
 * they share.
 */
export function instanceSettings(scope: Construct, r: ResolvedDatabaseProps): InstanceSettings {
  const postgres = r.engine === DatabaseEngine.POSTGRES;
  const [major] = /^\d+(\.\d+)?/.exec(r.engineVersion) ?? [r.engineVersion];
  const majorVersion = postgres ? major.split('.')[0] : major;
  const engine = postgres
    ? rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.of(r.engineVersion, majorVersion) })
    : rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.of(r.engineVersion, majorVersion) });

  // The server refuses clients without TLS, and logs slow statements.
  const parameterGroup = new rds.ParameterGroup(scope, 'Parameters', {
    engine,
    description: 'Session database: TLS only, slow statements logged',
    parameters: postgres
      ? { 'rds.force_ssl': '1', 'log_min_duration_statement': '1000' }
      : { require_secure_transport: 'ON', slow_query_log: '1', long_query_time: '1', log_output: 'FILE' },
  });

  // One role for the enhanced monitoring of every instance, rather than one per instance.
  const monitoringRole = new iam.Role(scope, 'MonitoringRole', {
    assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
    description: 'RDS enhanced monitoring of the session database: writes its operating-system metrics to CloudWatch Logs',
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole')],
  });
  Validations.of(monitoringRole).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
    reason: 'AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy RDS documents for enhanced monitoring: it writes only to the RDSOSMetrics log group; aws-cdk uses it too.',
  });
  // One subnet group for all, rather than one per instance.
  const subnetGroup = new rds.SubnetGroup(scope, 'SubnetGroup', {
    vpc: r.vpc,
    vpcSubnets: r.vpcSubnets,
    description: 'Private subnets of the session database',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const shared: SharedInstanceProps = {
    vpc: r.vpc,
    subnetGroup,
    instanceType: r.instanceType,
    port: r.port,
    storageType: rds.StorageType.GP3,
    maxAllocatedStorage: r.maxAllocatedStorage,
    parameterGroup,
    // Every log type the engine exports (Control Tower CT.RDS.PR.14); MySQL's audit and general logs stay empty
    // unless you turn them on (the audit plugin option, general_log), since they record every statement.
    cloudwatchLogsExports: postgres ? ['postgresql', 'upgrade'] : ['audit', 'error', 'general', 'slowquery'],
    monitoringInterval: r.monitoringInterval,
    monitoringRole,
    // On, so that IAM roles can be allowed rds-db:connect; the app signs in with its password (see the README).
    iamAuthentication: true,
    enablePerformanceInsights: true,
    databaseInsightsMode: r.databaseInsightsMode,
    performanceInsightRetention: r.databaseInsightsMode === rds.DatabaseInsightsMode.ADVANCED
      ? rds.PerformanceInsightRetention.MONTHS_15 : rds.PerformanceInsightRetention.DEFAULT,
    autoMinorVersionUpgrade: true,
    publiclyAccessible: false,
    copyTagsToSnapshot: true,
  };
  return { engine, shared };
}

/** A security group that lets nothing in until it is opened, and nothing out. */
export function closedSecurityGroup(scope: Construct, vpc: ec2.IVpc, id: string, description: string): ec2.SecurityGroup {
  return new ec2.SecurityGroup(scope, id, { vpc, description, allowAllOutbound: false });
}

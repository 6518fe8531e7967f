import { Duration } from 'aws-cdk-lib/core';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatabaseEngine } from './engine';
import { closedSecurityGroup } from './instance-settings';
import { ResolvedDatabaseProps } from './resolve-props';

/** RDS Proxy listens on the engine's default port; it cannot be changed. */
export function proxyPort(engine: DatabaseEngine): number {
  return engine === DatabaseEngine.POSTGRES ? 5432 : 3306;
}

/**
 * An RDS Proxy in front of `primary` (construct id `Proxy`), TLS only, that
 * clients sign in to as the application user, let in to the primary.
 */
export function addProxy(
  scope: Construct, r: ResolvedDatabaseProps, primary: rds.DatabaseInstance, appCredentials: secretsmanager.ISecret,
): rds.DatabaseProxy {
  const proxy = new rds.DatabaseProxy(scope, 'Proxy', {
    proxyTarget: rds.ProxyTarget.fromInstance(primary),
    // Clients sign in to the proxy as the application user, and the proxy to the database as the same user.
    secrets: [appCredentials],
    // Said, not left to the default: what the application user's password is stored as (scram-sha-256 is
    // PostgreSQL's default since 14; caching_sha2_password MySQL 8.4's).
    clientPasswordAuthType: r.engine === DatabaseEngine.POSTGRES
      ? rds.ClientPasswordAuthType.POSTGRES_SCRAM_SHA_256 : rds.ClientPasswordAuthType.MYSQL_CACHING_SHA2_PASSWORD,
    vpc: r.vpc,
    vpcSubnets: r.vpcSubnets,
    securityGroups: [closedSecurityGroup(scope, r.vpc, 'ProxySecurityGroup', 'Session database proxy: reachable only from what it is opened to')],
    requireTLS: true,
    iamAuth: false,
    borrowTimeout: Duration.seconds(5),
    idleClientTimeout: Duration.minutes(30),
  });
  primary.connections.allowDefaultPortFrom(proxy, 'RDS Proxy to the primary');
  return proxy;
}

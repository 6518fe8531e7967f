import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { ProblemList } from '../private/problems';
import { SessionDatabaseBase } from './base';
import { DatabaseEngine, MAX_READ_REPLICAS } from './engine';
import { DatabaseEndpoint } from './interface';
import { SessionDatabaseAttributes } from './props';
import { proxyPort } from './proxy';
import { checkDatabaseName } from './resolve-props';

/** A database of yours, as `SessionDatabase.fromAttributes` takes it: the same access, grants and metrics as one made here. */
export class ImportedSessionDatabase extends SessionDatabaseBase {
  public readonly engine: DatabaseEngine;
  public readonly databaseName: string;
  public readonly writerEndpoint: DatabaseEndpoint;
  public readonly replicaEndpoints: DatabaseEndpoint[];
  public readonly credentials: secretsmanager.ISecret;
  public readonly readyForClients?: IDependable = undefined;
  protected readonly primary: rds.IDatabaseInstance;
  protected readonly readers: readonly rds.IDatabaseInstance[];
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, attrs: SessionDatabaseAttributes) {
    super(scope, id);
    this.engine = attrs.engine;
    this.databaseName = attrs.databaseName ?? 'sessions';
    this.credentials = attrs.credentials;
    this.primary = attrs.instance;
    this.readers = attrs.readReplicas ?? [];
    const problems = new ProblemList();
    problems.check(attrs.proxy !== undefined && !attrs.proxySecurityGroups?.length,
      () => 'proxySecurityGroups: a proxy needs its security groups, so that fleets can be let in; got none');
    problems.check(attrs.proxy === undefined && attrs.proxySecurityGroups !== undefined,
      () => 'proxySecurityGroups: only apply with a proxy; pass proxy or remove proxySecurityGroups');
    checkDatabaseName(problems, this.databaseName);
    problems.check(this.readers.length > MAX_READ_REPLICAS,
      () => `readReplicas: RDS allows at most ${MAX_READ_REPLICAS} read replicas per instance, got ${this.readers.length}`);
    problems.check(!Object.values(DatabaseEngine).includes(attrs.engine),
      () => `engine: must be DatabaseEngine.POSTGRES or DatabaseEngine.MYSQL, got ${JSON.stringify(attrs.engine)}`);
    problems.throwIfAny(this);
    this.connections = attrs.proxy
      ? new ec2.Connections({ securityGroups: attrs.proxySecurityGroups, defaultPort: ec2.Port.tcp(proxyPort(attrs.engine)) })
      : attrs.instance.connections;
    const endpoint = (i: rds.IDatabaseInstance): DatabaseEndpoint => ({ hostname: i.instanceEndpoint.hostname, port: i.instanceEndpoint.port });
    this.writerEndpoint = attrs.proxy
      ? { hostname: attrs.proxy.endpoint, port: proxyPort(attrs.engine) }
      : endpoint(attrs.instance);
    this.replicaEndpoints = this.readers.map(endpoint);
  }
}

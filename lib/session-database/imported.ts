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

/**
 * A database of yours, as `SessionDatabase.fromSessionDatabaseAttributes`
 * takes it: the same access, grants and metrics as one made here. It creates nothing.
 */
export class ImportedSessionDatabase extends SessionDatabaseBase {
  public readonly engine: DatabaseEngine;
  public readonly databaseName: string;
  public readonly writerEndpoint: DatabaseEndpoint;
  public readonly replicaEndpoints: DatabaseEndpoint[];
  public readonly credentials: secretsmanager.ISecret;
  public readonly readyForClients?: IDependable = undefined;
  public readonly sessionIdKey?: secretsmanager.ISecret;
  public readonly vpc?: ec2.IVpc;
  public readonly connections: ec2.Connections;
  /** @internal */
  protected readonly _primary: rds.IDatabaseInstance;
  /** @internal */
  protected readonly _readers: rds.IDatabaseInstance[];

  constructor(scope: Construct, id: string, attrs: SessionDatabaseAttributes) {
    super(scope, id);
    this.engine = attrs.engine;
    this.databaseName = attrs.databaseName ?? 'sessions';
    this.credentials = attrs.credentials;
    this._primary = attrs.instance;
    this._readers = attrs.readReplicas ?? [];
    this.sessionIdKey = attrs.sessionIdKey;
    this.vpc = attrs.vpc;
    const problems = new ProblemList();
    problems.check(attrs.proxy !== undefined && !attrs.proxySecurityGroups?.length,
      () => 'proxySecurityGroups: a proxy needs its security groups, so that fleets can be let in; got none');
    problems.check(attrs.proxy === undefined && attrs.proxySecurityGroups !== undefined,
      () => 'proxySecurityGroups: only apply with a proxy; pass proxy or remove proxySecurityGroups');
    checkDatabaseName(problems, this.databaseName);
    problems.check(this._readers.length > MAX_READ_REPLICAS,
      () => `readReplicas: RDS allows at most ${MAX_READ_REPLICAS} read replicas per instance, got ${this._readers.length}`);
    // The app refuses read replicas without keys: an id a replica does not know yet is read from the primary only if signed.
    problems.check(this._readers.length > 0 && attrs.sessionIdKey === undefined,
      () => `sessionIdKey: required with readReplicas (the app reads from replicas only with signed session ids), got none with ${this._readers.length} read replica(s); `
        + 'pass sessionIdKey, a secret of at least 32 characters, or no readReplicas');
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
    this.replicaEndpoints = this._readers.map(endpoint);
  }
}

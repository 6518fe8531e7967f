import { CfnOutput, RemovalPolicy, Tokenization } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { SessionDatabaseBase } from './base';
import { DatabaseEngine } from './engine';
import { ImportedSessionDatabase } from './imported';
import { instanceSettings } from './instance-settings';
import { DatabaseEndpoint, ISessionDatabase } from './interface';
import { addPrimary } from './primary';
import { SessionDatabaseAttributes, SessionDatabaseProps } from './props';
import { addProxy, proxyPort } from './proxy';
import { addReplicas } from './replicas';
import { resolveDatabaseProps } from './resolve-props';
import { addAppUser } from './setup';
import { createSessionIdKey } from '../private/session-keys';

/**
 * The database of the `database` session strategy: an RDS instance
 * (PostgreSQL or MySQL), Multi-AZ, on encrypted gp3 storage that grows by
 * itself, with credentials generated in Secrets Manager, backups, deletion
 * protection, Database Insights, logs in CloudWatch Logs, TLS required by
 * the server, 0 to 15 read replicas with their own endpoints, and optionally
 * an RDS Proxy for the primary.
 *
 * Nothing may connect until you allow it: a fleet given
 * `SessionStrategy.database(db)` lets itself in to the writer (proxy or
 * primary) and every replica, each on its own port.
 */
export class SessionDatabase extends SessionDatabaseBase {
  /**
   * An existing RDS instance (PostgreSQL or MySQL), its replicas and proxy,
   * wired to fleets the same way as one this library creates:
   * `SessionStrategy.database(db)`.
   */
  public static fromSessionDatabaseAttributes(scope: Construct, id: string, attrs: SessionDatabaseAttributes): ISessionDatabase {
    return new ImportedSessionDatabase(scope, id, attrs);
  }

  // What it builds, for reaching past the defaults.

  /** The primary. */
  public readonly instance: rds.DatabaseInstance;
  /** The read replicas, in order. */
  public readonly replicas: rds.DatabaseInstanceReadReplica[];
  /** The proxy in front of the primary, when `proxy` is on. */
  public readonly proxy?: rds.DatabaseProxy;
  /**
   * The writer's security group rules: the proxy's when there is one, else
   * the primary's; the default port is the writer's. `allowFrom` opens the
   * replicas too.
   */
  public readonly connections: ec2.Connections;
  /**
   * The master credentials: a JSON secret with `username` and `password` (and
   * the host, port and engine). Only the setup reads it; grant it to no fleet.
   */
  public readonly secret: secretsmanager.ISecret;

  // What a client of the database uses (ISessionDatabase), and the primary's own endpoint.

  /** The engine. */
  public readonly engine: DatabaseEngine;
  /** The database (schema) that holds the sessions table. */
  public readonly databaseName: string;
  /**
   * The application user's credentials, what the fleets and the proxy sign
   * in with: a user that may SELECT, INSERT, UPDATE and DELETE on the sessions table, nothing else.
   */
  public readonly credentials: secretsmanager.ISecret;
  /** The setup that creates the sessions table and the application user; clients wait for it (always set; optional as in `ISessionDatabase`). */
  public readonly readyForClients?: IDependable;
  /** Where every write goes: the proxy when there is one, else the primary. */
  public readonly writerEndpoint: DatabaseEndpoint;
  /** The primary itself. */
  public readonly primaryEndpoint: DatabaseEndpoint;
  /** The replicas, in order. */
  public readonly replicaEndpoints: DatabaseEndpoint[];
  /** The VPC the instances are in (always set; optional as in `ISessionStore`). */
  public readonly vpc?: ec2.IVpc;
  /**
   * The key that signs the session ids of this database's sessions, shared by
   * every fleet on it: an id a replica does not know yet is read from the
   * primary, a forged one from nowhere (always set; optional as in `ISessionStore`).
   */
  public readonly sessionIdKey?: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: SessionDatabaseProps) {
    super(scope, id);
    const r = resolveDatabaseProps(this, props);
    this.vpc = r.vpc;
    this.engine = r.engine;
    this.databaseName = r.databaseName;
    const settings = instanceSettings(this, r);

    this.instance = addPrimary(this, r, settings);
    this.secret = this.instance.secret!;

    const appUser = addAppUser(this, r, this.instance);
    this.credentials = appUser.credentials;
    this.readyForClients = appUser.readyForClients;

    this.replicas = addReplicas(this, r, settings, this.instance);
    this.proxy = r.proxy ? addProxy(this, r, this.instance, this.credentials) : undefined;
    this.connections = this.proxy
      ? new ec2.Connections({ securityGroups: this.proxy.connections.securityGroups, defaultPort: ec2.Port.tcp(proxyPort(r.engine)) })
      : this.instance.connections;

    this.sessionIdKey = createSessionIdKey(this, 'SessionIdKey');

    this.primaryEndpoint = { hostname: this.instance.dbInstanceEndpointAddress, port: r.port };
    this.writerEndpoint = this.proxy
      ? { hostname: this.proxy.endpoint, port: proxyPort(r.engine) }
      : this.primaryEndpoint;
    this.replicaEndpoints = this.replicas.map((replica) => ({ hostname: replica.dbInstanceEndpointAddress, port: r.port }));
    this.addEndpointOutputs();
  }

  /**
   * What happens to the primary (its data) when it leaves the stack; the
   * replicas hold nothing it lacks and are always deleted.
   */
  public applyRemovalPolicy(policy: RemovalPolicy): void {
    this.instance.applyRemovalPolicy(policy);
  }

  /** @internal */
  protected get _primary(): rds.IDatabaseInstance {
    return this.instance;
  }

  /** @internal */
  protected get _readers(): rds.IDatabaseInstance[] {
    return this.replicas;
  }

  /** One stack output per replica, then the writer's. */
  private addEndpointOutputs(): void {
    this.replicaEndpoints.forEach((endpoint, i) => new CfnOutput(this, `Replica${i + 1}Endpoint`, {
      description: `Read replica ${i + 1} of the session database (host:port)`,
      value: `${endpoint.hostname}:${Tokenization.stringifyNumber(endpoint.port)}`,
    }));
    new CfnOutput(this, 'WriterEndpoint', {
      description: `Where the session database takes writes (${this.proxy ? 'the RDS Proxy' : 'the primary'}, host:port)`,
      value: `${this.writerEndpoint.hostname}:${Tokenization.stringifyNumber(this.writerEndpoint.port)}`,
    });
  }
}

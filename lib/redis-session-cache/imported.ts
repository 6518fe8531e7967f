import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { SessionCacheBase } from './base';
import { RedisSessionCacheAttributes } from './props';
import { checkPort } from './resolve-props';

/** A replication group of yours, as `RedisSessionCache.fromRedisSessionCacheAttributes` takes it; it creates nothing. */
export class ImportedSessionCache extends SessionCacheBase {
  public readonly connections: ec2.Connections;
  public readonly vpc?: ec2.IVpc;
  public readonly sessionIdKey?: secretsmanager.ISecret;
  public readonly primaryEndpoint: string;
  public readonly port: number;
  public readonly transitEncryption: boolean;
  public readonly authTokenSecret?: secretsmanager.ISecret;
  public readonly replicationGroupId: string;
  public readonly nodes: number;

  constructor(scope: Construct, id: string, attrs: RedisSessionCacheAttributes) {
    super(scope, id);
    // Defaults first, so that the checks see the values the cache will use.
    this.port = attrs.port ?? 6379;
    this.transitEncryption = attrs.transitEncryption ?? true;
    this.nodes = attrs.nodes ?? 2;
    const problems = new ProblemList();
    checkPort(problems, this.port);
    problems.wholeNumber('nodes', this.nodes, { min: 1, max: 6 });
    problems.check(attrs.securityGroups.length === 0,
      () => 'securityGroups: needs the replication group\'s security groups, got none; fleets are let in through them');
    problems.check(attrs.authTokenSecret !== undefined && !this.transitEncryption,
      () => 'authTokenSecret: ElastiCache accepts an AUTH token only with transit encryption, got transitEncryption false; pass transitEncryption true or no token');
    problems.throwIfAny(this);
    this.replicationGroupId = attrs.replicationGroupId;
    this.primaryEndpoint = attrs.primaryEndpoint;
    this.authTokenSecret = attrs.authTokenSecret;
    this.vpc = attrs.vpc;
    this.sessionIdKey = attrs.sessionIdKey;
    this.connections = new ec2.Connections({ securityGroups: attrs.securityGroups, defaultPort: ec2.Port.tcp(this.port) });
  }
}

/**
 * Stores with what API-1.0 gives every session store (`ISessionStore.vpc`,
 * and `sessionIdKey` created by the store's construct), which the stores of
 * this branch do not have yet: the strategies read both where a store has
 * them. Remove these once the stores carry them (Lane A), and use the stores.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RedisSessionCache, RedisSessionCacheProps, SessionDatabase, SessionDatabaseProps, SessionFileSystem, SessionFileSystemProps } from '../../lib';
import { createSessionIdKey } from '../../lib/private/session-keys';

/** A RedisSessionCache that says its VPC and has its session-id key. */
export class KeyedCache extends RedisSessionCache {
  public readonly vpc: ec2.IVpc;
  public readonly sessionIdKey: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: RedisSessionCacheProps) {
    super(scope, id, props);
    this.vpc = props.vpc;
    this.sessionIdKey = createSessionIdKey(this, 'SessionIdKey', 'redis');
  }
}

/** A SessionFileSystem that says its VPC and has its session-id key. */
export class KeyedFileSystem extends SessionFileSystem {
  public readonly vpc: ec2.IVpc;
  public readonly sessionIdKey: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: SessionFileSystemProps) {
    super(scope, id, props);
    this.vpc = props.vpc;
    this.sessionIdKey = createSessionIdKey(this, 'SessionIdKey', 'file');
  }
}

/** A SessionDatabase that says its VPC (its key it has already). */
export class DatabaseInVpc extends SessionDatabase {
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: SessionDatabaseProps) {
    super(scope, id, props);
    this.vpc = props.vpc;
  }
}

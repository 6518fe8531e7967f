import { Stack } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DatabaseEngine, ISessionCache, ISessionDatabase, ISessionFileSystem, RedisSessionCache, SessionDatabase, SessionFileSystem } from '../../lib';

/** The ARNs and ids of the existing stores the tests import. */
export const EXISTING = {
  cacheSecurityGroup: 'sg-0cace00000000000a',
  cacheAuthToken: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:existing/cache-token-AbCdEf',
  fileSystemId: 'fs-0123456789abcdef0',
  fileSystemSecurityGroup: 'sg-0eff000000000000b',
  accessPointId: 'fsap-0123456789abcdef0',
  databaseSecurityGroup: 'sg-0db0000000000000c',
  replicaSecurityGroup: 'sg-0dbe00000000000d',
  databaseCredentials: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:existing/db-app-AbCdEf',
  databaseSessionIdKey: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:existing/db-session-id-key-AbCdEf',
} as const;

/** A cache, a file system and a database that already exist, imported as users import theirs. */
export function importedStores(stack: Stack): { cache: ISessionCache; fileSystem: ISessionFileSystem; database: ISessionDatabase } {
  const sg = (id: string, groupId: string) => ec2.SecurityGroup.fromSecurityGroupId(stack, id, groupId, { allowAllOutbound: false });
  const cache = RedisSessionCache.fromRedisSessionCacheAttributes(stack, 'ExistingCache', {
    replicationGroupId: 'sessions',
    primaryEndpoint: 'sessions.abc123.ng.0001.euw1.cache.amazonaws.com',
    port: 6379,
    securityGroups: [sg('CacheSg', EXISTING.cacheSecurityGroup)],
    authTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'CacheToken', EXISTING.cacheAuthToken),
  });
  const fileSystem = SessionFileSystem.fromSessionFileSystemAttributes(stack, 'ExistingFiles', {
    fileSystem: efs.FileSystem.fromFileSystemAttributes(stack, 'Fs', {
      fileSystemId: EXISTING.fileSystemId,
      securityGroup: sg('FsSg', EXISTING.fileSystemSecurityGroup),
    }),
    accessPoint: efs.AccessPoint.fromAccessPointAttributes(stack, 'Ap', {
      accessPointId: EXISTING.accessPointId,
      fileSystem: efs.FileSystem.fromFileSystemAttributes(stack, 'FsOfAp', { fileSystemId: EXISTING.fileSystemId, securityGroup: sg('FsSg2', EXISTING.fileSystemSecurityGroup) }),
    }),
  });
  const instance = (id: string, host: string, groupId: string) => rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, id, {
    instanceIdentifier: id.toLowerCase(),
    instanceEndpointAddress: host,
    port: 5432,
    securityGroups: [sg(`${id}Sg`, groupId)],
  });
  const database = SessionDatabase.fromSessionDatabaseAttributes(stack, 'ExistingDatabase', {
    engine: DatabaseEngine.POSTGRES,
    instance: instance('Primary', 'primary.abc123.eu-west-1.rds.amazonaws.com', EXISTING.databaseSecurityGroup),
    readReplicas: [instance('Replica1', 'replica1.abc123.eu-west-1.rds.amazonaws.com', EXISTING.replicaSecurityGroup)],
    credentials: secretsmanager.Secret.fromSecretCompleteArn(stack, 'DbCredentials', EXISTING.databaseCredentials),
    sessionIdKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'DbSessionIdKey', EXISTING.databaseSessionIdKey),
  });
  return { cache, fileSystem, database };
}

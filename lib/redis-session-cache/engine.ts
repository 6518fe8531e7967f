/** The engines an ElastiCache replication group runs. */
export enum CacheEngine {
  /** Valkey, the open-source fork of Redis OSS that ElastiCache prices lower. */
  VALKEY = 'valkey',
  /** Redis OSS. */
  REDIS = 'redis',
}

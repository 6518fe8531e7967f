// The public names of the session cache; the files behind them stay private.
export { CacheEngine } from './engine';
export type { CacheMetricOptions, ISessionCache } from './interface';
export type { RedisSessionCacheAttributes, RedisSessionCacheOptions, RedisSessionCacheProps } from './props';
export { RedisSessionCache } from './redis-session-cache';

import type { ISessionCache } from '../redis-session-cache';
import { OneStoreStrategy } from './one-store';
import { ISessionStrategyTarget, SessionStoreKind, SessionStores, SessionStrategyBinding } from './strategy';
import { addStoreEnvironment, connectCache, requireStore, signIdsWithStoreKey } from './wiring';

/** Sessions in an ElastiCache replication group, ids signed with the cache's key. */
export class RedisStrategy extends OneStoreStrategy {
  public readonly name = 'redis';
  public readonly survivesInstanceLoss = true;

  constructor(stores: SessionStores) {
    super(SessionStoreKind.CACHE, stores, (other) => new RedisStrategy(other));
  }

  public bind(fleet: ISessionStrategyTarget): SessionStrategyBinding {
    const cache: ISessionCache = requireStore(fleet, this.stores.cache, 'SessionStrategy.redis()', 'cache',
      'SessionStrategy.redis(cache) with a RedisSessionCache or RedisSessionCache.fromRedisSessionCacheAttributes(...)');
    addStoreEnvironment(fleet, { strategy: 'redis', redis: connectCache(fleet, cache) });
    return { sessionIdKey: signIdsWithStoreKey(fleet, cache) };
  }
}

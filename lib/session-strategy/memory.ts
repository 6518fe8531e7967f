import { APP_ENV } from '../contract/app-env';
import { createSessionIdKey } from '../private/session-keys';
import { OneStoreStrategy } from './one-store';
import { ISessionStrategyTarget, SessionStoreKind, SessionStores, SessionStrategyBinding } from './strategy';
import { KeyOfFirstFleet, addStoreEnvironment } from './wiring';

/**
 * Sessions in the app process's memory: no store, and only stickiness brings
 * a user back to the instance that holds the session. Its ids are signed
 * with one key for every fleet it binds (its own, or the one `SessionTier`
 * gives both colors), so the app counts a user who lost the instance as a
 * lost session, not as a forged id.
 */
export class MemoryStrategy extends OneStoreStrategy {
  public readonly name = 'memory';
  public readonly survivesInstanceLoss = false;
  private readonly ownKey = new KeyOfFirstFleet('SessionIdKey', (scope, id) => createSessionIdKey(scope, id, 'memory'));

  constructor(stores: SessionStores) {
    super(SessionStoreKind.SESSION_ID_KEY, stores, (other) => new MemoryStrategy(other));
  }

  public bind(fleet: ISessionStrategyTarget): SessionStrategyBinding {
    const sessionIdKey = this.stores.sessionIdKey ?? this.ownKey.for(fleet);
    addStoreEnvironment(fleet, { strategy: 'memory' });
    fleet.addSecretEnvironment(APP_ENV.ID_KEYS, sessionIdKey);
    return { sessionIdKey };
  }
}

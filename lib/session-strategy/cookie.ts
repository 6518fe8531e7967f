import { APP_ENV } from '../contract/app-env';
import { createCookieSecret } from '../private/session-keys';
import { OneStoreStrategy } from './one-store';
import { ISessionStrategyTarget, SessionStoreKind, SessionStores, SessionStrategyBinding } from './strategy';
import { KeyOfFirstFleet, addStoreEnvironment } from './wiring';

/**
 * The whole session sealed into the cookie, under one key for every fleet it
 * binds: the one it was given, the one `SessionTier` gives both colors, or
 * one it creates when it binds its first fleet.
 */
export class CookieStrategy extends OneStoreStrategy {
  public readonly name = 'cookie';
  public readonly survivesInstanceLoss = true;
  private readonly ownKey = new KeyOfFirstFleet('CookieSecret', createCookieSecret);

  constructor(stores: SessionStores) {
    super(SessionStoreKind.COOKIE_SECRET, stores, (other) => new CookieStrategy(other));
  }

  public bind(fleet: ISessionStrategyTarget): SessionStrategyBinding {
    const cookieSecret = this.stores.cookieSecret ?? this.ownKey.for(fleet);
    addStoreEnvironment(fleet, { strategy: 'cookie' });
    fleet.addSecretEnvironment(APP_ENV.COOKIE_SECRETS, cookieSecret);
    return { cookieSecret };
  }
}

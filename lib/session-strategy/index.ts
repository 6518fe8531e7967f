/**
 * Session strategies: the abstract {@link SessionStrategy} (strategy.ts) and
 * one private subclass per strategy, each in its own file, owning what it
 * needs (`missingStores`), how it takes what the tier supplies
 * (`withStores`) and how it wires a fleet (`bind`); wiring.ts holds what
 * they share when they bind, one-store.ts the base of those that need one
 * thing.
 *
 * A new strategy is:
 * 1. its entry in the environment contract (lib/contract/app-env.ts), which
 *    the app reads: its name in `SESSION_STRATEGIES`, its settings in
 *    `StoreSettings` and its variables in `STORE_VARIABLES`;
 * 2. its file here: a class that extends `SessionStrategy` (or
 *    `OneStoreStrategy`, when it needs one thing) with its `name`,
 *    `survivesInstanceLoss`, `missingStores`, `withStores` and `bind` (which
 *    checks with `requireStore` that it has its store and that the store is
 *    in the fleet's VPC, and gives the fleet a session-id key for a
 *    server-side store);
 * 3. its line in the table below, which the compiler asks for once its name
 *    is in the contract; and a static factory on `SessionStrategy` if users
 *    pick it by more than its name.
 *
 * The table is here, not in strategy.ts, because each class extends
 * `SessionStrategy`: strategy.ts cannot import them without a cycle.
 */
import { CookieStrategy } from './cookie';
import { DatabaseStrategy } from './database';
import { FileStrategy } from './file';
import { MemoryStrategy } from './memory';
import { RedisStrategy } from './redis';
import { provideStrategyKinds } from './strategy';

provideStrategyKinds({
  memory: (stores) => new MemoryStrategy(stores),
  cookie: (stores) => new CookieStrategy(stores),
  redis: (stores) => new RedisStrategy(stores),
  file: (stores) => new FileStrategy(stores),
  database: (stores) => new DatabaseStrategy(stores),
});

export { SessionStoreKind, SessionStrategy } from './strategy';
export type { CookieStrategyOptions, DatabaseStrategyOptions, ISessionStrategyTarget, SessionStores, SessionStrategyBinding } from './strategy';

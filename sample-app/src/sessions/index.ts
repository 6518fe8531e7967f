import { AppConfig } from '../config';
import { Metrics } from '../metrics';
import { CookieSessions, ServerSideSessions, SessionManager } from './manager';
import { FileStore } from './file';
import { MeasuredStore } from './measured';
import { MemoryStore } from './memory';
import { Sealer } from './seal';
import { RedisStore } from './redis';
import { SessionIds } from './session-id';
import { SessionStore } from './store';

/** Builds the store of a server-side strategy. */
export async function createStore(config: AppConfig): Promise<SessionStore> {
  switch (config.strategy) {
    case 'memory':
      return new MemoryStore();
    case 'redis':
      return RedisStore.connect(config.redis!);
    case 'file':
      return FileStore.open(config.fileDir!);
    case 'database': {
      // Loaded only here: its two database drivers are most of the bundle, and start-up of the other strategies skips them.
      const { DatabaseStore } = await import('./database/store.js');
      return DatabaseStore.open(config.database!);
    }
    default:
      throw new Error(`SESSION_STRATEGY: no server-side store for ${config.strategy}`);
  }
}

/** The session manager of the configured strategy; the routes never know which it is. */
export async function createSessions(config: AppConfig, metrics: Metrics): Promise<SessionManager> {
  const cookie = { name: config.cookieName, secure: config.secureCookie, ttlSeconds: config.ttlSeconds };
  if (config.strategy === 'cookie') {
    return new CookieSessions(await Sealer.create(config.cookieSecrets), cookie, metrics);
  }
  // A memory store is this process's own: remembering its saves again would gain nothing.
  return new ServerSideSessions(new MeasuredStore(await createStore(config), metrics), cookie, metrics, {
    recentSaves: config.strategy === 'memory' ? 0 : undefined,
    ids: new SessionIds(config.idKeys),
  });
}

export { SessionTierErrors } from './errors';
export * from './stickiness';
export * from './session-strategy';
export * from './fleet-application';
export * from './app-fleet';
export * from './shift-plan';
export * from './blue-green-routing';
export * from './redis-session-cache';
export * from './session-file-system';
export * from './session-database';
export * from './session-tier';
export * from './session-dashboard';
export type { ISessionStore } from './session-store';
export {
  APP_ENV, APP_METRICS_NAMESPACE, SESSION_STRATEGIES, HEALTH_CHECK_PATH, DEFAULT_APP_PORT, DEFAULT_COOKIE_NAME, FLEET_COLORS, storeEnvironment,
} from './contract/app-env';
export type { SessionStrategyName, FleetColor, StoreSettings, RedisSettings, DatabaseSettings } from './contract/app-env';

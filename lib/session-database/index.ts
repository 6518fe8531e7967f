// The public names of the session database; the step files behind them stay private.
export { DatabaseEngine } from './engine';
export type { DatabaseEndpoint, DatabaseMetricOptions, ISessionDatabase } from './interface';
export type { SessionDatabaseAttributes, SessionDatabaseOptions, SessionDatabaseProps } from './props';
export { SessionDatabase } from './session-database';

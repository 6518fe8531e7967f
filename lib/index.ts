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
// The rest of the contract (APP_ENV, storeEnvironment, ...) is the code's, not the package's: constants,
// functions and unions that no jsii language could use. README.md lists the variables an application reads.
export { FleetColor } from './contract/app-env';
export type { ISessionStore } from './session-store';

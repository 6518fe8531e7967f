export * from './props';
export { SessionDashboard } from './session-dashboard';

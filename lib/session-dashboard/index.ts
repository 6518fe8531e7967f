// The public names of the dashboard; the parts' building blocks stay private.
export type { DashboardPartBindOptions, DashboardPartConfig, IDashboardPart } from './part';
export type { SessionDashboardProps } from './props';
export { SessionDashboard } from './session-dashboard';
export type { SessionAlarmThresholds } from './thresholds';

import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { IDashboardPart } from './session-dashboard/part';

/** A session store a strategy uses and the dashboard shows. */
export interface ISessionStore extends ec2.IConnectable {
  /** This store's part of a SessionDashboard: its graphs and alarms. */
  dashboardPart(): IDashboardPart;
}

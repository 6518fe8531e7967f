import { IResource } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IDashboardPart } from './session-dashboard/part';

/** A session store a strategy uses and the dashboard shows. */
export interface ISessionStore extends IResource, ec2.IConnectable {
  /** The VPC the store is in, when known (an import may not know it): a fleet in another VPC cannot reach it. */
  readonly vpc?: ec2.IVpc;
  /**
   * The key that signs session ids of this store (HMAC, `SESSION_ID_KEYS`), shared by
   * every fleet on the store, so a user keeps the session moving between them and the
   * app can tell a lost session (an id it signed that the store no longer has) from a
   * forged one. Created by the store's construct in its constructor; an import takes it
   * as an attribute (optional; required by the database with read replicas).
   */
  readonly sessionIdKey?: secretsmanager.ISecret;
  /** This store's part of a SessionDashboard: its graphs and alarms. */
  dashboardPart(): IDashboardPart;
}

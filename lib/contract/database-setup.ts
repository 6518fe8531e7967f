/**
 * The contract between `SessionDatabase` and its one-time setup Lambda
 * (lambda/database-setup): the custom resource's property names and the
 * names it creates. Both sides import this module; it depends on nothing.
 */

/** Names of the setup custom resource's properties, as CloudFormation passes them. */
export const SETUP_PROPS = {
  /** `postgres` or `mysql`. */
  ENGINE: 'Engine',
  /** The primary's address: the setup signs in as the master user, never through the proxy. */
  HOST: 'Host',
  PORT: 'Port',
  /** The database (schema) that holds the sessions table. */
  DATABASE: 'Database',
  /** The master user's secret (JSON with `username` and `password`). */
  MASTER_SECRET_ARN: 'MasterSecretArn',
  /** The application user's secret (JSON with `username` and `password`): the user the setup creates or updates. */
  APP_SECRET_ARN: 'AppSecretArn',
  /**
   * The hash of the handler's code asset. The setup reads nothing from it: it
   * is there so that a release whose setup does something new (new
   * statements, a new handler) changes the resource, and CloudFormation sends
   * an Update that runs the setup again on a stack that already has it. A
   * stack made before it has none, so the handler must not require it.
   */
  CODE_HASH: 'CodeHash',
} as const;

/** The application user's name, written into its generated secret. */
export const APP_DATABASE_USER = 'sessions_app';

/** Where the setup fetches the certificate authorities of RDS for every region (it verifies the primary's certificate against them). */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';

/** Names the setup accepts for the database and the user: what `SessionDatabase` checks, and all it ever quotes. */
export const SQL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

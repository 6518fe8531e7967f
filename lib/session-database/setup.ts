import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IDependable } from 'constructs';
import { APP_DATABASE_USER } from '../contract/database-setup';
import { acknowledgeNag } from '../private/acknowledgements';
import { DatabaseSetup } from '../private/database-setup';
import { DEFAULT_LOG_RETENTION, logsKey } from '../private/keys';
import { DatabaseEngine } from './engine';
import { ResolvedDatabaseProps } from './resolve-props';

/** The application user, as the setup leaves it. */
export interface AppUser {
  /** The application user's credentials: a JSON secret with `username` and `password`. */
  readonly credentials: secretsmanager.ISecret;
  /** The setup that creates the sessions table and the application user; clients wait for it. */
  readonly readyForClients: IDependable;
}

/**
 * The application user's secret and the setup that signs in to `primary` as
 * the master user and creates the sessions table and that user.
 */
export function addAppUser(scope: Construct, r: ResolvedDatabaseProps, primary: rds.DatabaseInstance): AppUser {
  const appSecret = new secretsmanager.Secret(scope, 'AppCredentials', {
    description: 'The session database user the app signs in as: the sessions table only',
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username: APP_DATABASE_USER }),
      generateStringKey: 'password',
      passwordLength: 32,
      excludePunctuation: true,
    },
  });
  const setup = new DatabaseSetup(scope, 'Setup', {
    vpc: r.vpc,
    vpcSubnets: r.vpcSubnets,
    instance: primary,
    engine: r.engine === DatabaseEngine.POSTGRES ? 'postgres' : 'mysql',
    port: r.port,
    databaseName: r.databaseName,
    masterSecret: primary.secret!,
    appSecret,
    logEncryptionKey: r.logEncryptionKey ?? logsKey(scope, 'LogsKey', 'Encrypts the session database setup\'s log groups'),
    logRetention: DEFAULT_LOG_RETENTION,
  });
  const rotation = 'The instances read the password at boot; single-user rotation would lock every running app process out until it is replaced. Rotate by rotating the secret and then running an instance refresh of both fleets.';
  // The generated secret is the instance's child; acknowledged on the instance, which makes it.
  acknowledgeNag(primary, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled', `${rotation} Only the setup function reads the master secret.`);
  acknowledgeNag(appSecret, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled', `${rotation} The setup sets the user's password from this secret on every run.`);
  return { credentials: appSecret, readyForClients: setup.resource };
}

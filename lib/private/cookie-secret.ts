import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from './acknowledgements';

/** A generated key for sealing cookie sessions: 64 letters and digits. */
export function createCookieSecret(scope: Construct, id: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: 'Seals cookie sessions of the session tier (encryption and integrity key)',
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
  });
  acknowledgeNag(secret, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled',
    'This key seals live session cookies: an automatic rotation would log every user out. Rotate it by hand by prepending a new key (the app seals with the first and opens with all), then remove the old one after the session lifetime.');
  return secret;
}

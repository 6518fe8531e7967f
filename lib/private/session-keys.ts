import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledgeNag } from './acknowledgements';

/** A generated key of 64 letters and digits that live sessions depend on, so it is rotated by hand, never automatically. */
function sessionKey(scope: Construct, id: string, description: string, rotation: string): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description,
    generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
  });
  acknowledgeNag(secret, 'AwsSolutions-SMG4', 'SecretsManagerRotationEnabled', rotation);
  return secret;
}

/** The key that seals `cookie` sessions. */
export function createCookieSecret(scope: Construct, id: string): secretsmanager.Secret {
  return sessionKey(scope, id, 'Seals cookie sessions of the session tier (encryption and integrity key)',
    'This key seals live session cookies: an automatic rotation would log every user out. Rotate it by hand by prepending a new key (the app seals with the first and opens with all), then remove the old one after the session lifetime.');
}

/**
 * The key that signs the session ids of a store's sessions, so the app tells
 * a lost session from a forged id, and a forged id costs no store read.
 * @param strategy the strategy whose ids it signs, as its description says
 */
export function createSessionIdKey(scope: Construct, id: string, strategy = 'database'): secretsmanager.Secret {
  return sessionKey(scope, id, `Signs the session ids of the session tier's ${strategy} strategy (HMAC key)`,
    'Every live session id is signed with this key: an automatic rotation would log every user out. Rotate it by hand by prepending a new key (the app signs with the first and verifies with all), then remove the old one after the session lifetime.');
}

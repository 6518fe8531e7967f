/**
 * What the setup reads: the two secrets (Secrets Manager) and the RDS
 * certificate bundle (HTTPS). The only calls it makes.
 */
import * as https from 'https';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A secret of RDS's shape: at least a user name and a password. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const secrets = new SecretsManagerClient({});

/** The `username` and `password` fields of a JSON secret; fails naming the secret, never showing its value. */
export async function readCredentials(secretArn: string, client: SecretsManagerClient = secrets): Promise<Credentials> {
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let parsed: Partial<Credentials>;
  try {
    parsed = JSON.parse(SecretString ?? '') as Partial<Credentials>;
  } catch {
    throw new Error(`secret ${secretArn}: not JSON`);
  }
  if (typeof parsed.username !== 'string' || parsed.username === '' || typeof parsed.password !== 'string' || parsed.password === '') {
    throw new Error(`secret ${secretArn}: needs non-empty username and password fields`);
  }
  return { username: parsed.username, password: parsed.password };
}

/** The PEM bundle at `url`; fails on anything but a 200 holding certificates. */
export function fetchPem(url: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode !== 200 || !body.includes('-----BEGIN CERTIFICATE-----')) {
          reject(new Error(`${url}: got HTTP ${response.statusCode} without certificates`));
        } else {
          resolve(body);
        }
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * An SNS topic encrypted at rest and reachable only over TLS.
 *
 * It uses the AWS managed key `alias/aws/sns`: Amazon EC2 Auto Scaling publishes
 * through its service-linked role, a principal of the account that this key's
 * policy admits, whereas a customer managed key would need a key policy naming
 * that role before it exists in a new account.
 */
export function encryptedTopic(scope: Construct, id: string, displayName: string): sns.Topic {
  const topic = new sns.Topic(scope, id, {
    displayName,
    enforceSSL: true,
    masterKey: kms.Alias.fromAliasName(scope, `${id}Key`, 'alias/aws/sns'),
  });
  return topic;
}

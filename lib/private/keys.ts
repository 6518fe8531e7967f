import { Stack } from 'aws-cdk-lib/core';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * A customer managed key, rotated yearly, whose policy refuses grants to
 * anyone but AWS services acting for a resource (Control Tower CT.KMS.PR.3):
 * a grant is how a principal lends the key on, and only services (RDS, EBS,
 * Secrets Manager) need to. The account's root statement that aws-cdk writes
 * stays, so IAM policies decide who else may use it.
 */
export function customerManagedKey(scope: Construct, id: string, description: string): kms.Key {
  const key = new kms.Key(scope, id, { description, enableKeyRotation: true });
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'GrantsOnlyForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
  return key;
}

/**
 * A key for log groups: CloudWatch Logs in this region may use it only for
 * log groups of this account and region (the encryption-context condition
 * AWS documents for log group keys).
 */
export function logsKey(scope: Construct, id: string, description: string): kms.Key {
  const key = customerManagedKey(scope, id, description);
  const stack = Stack.of(scope);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'LogGroupsOfThisAccountOnly',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
    },
  }));
  return key;
}

/** A log group encrypted with `key`, kept for `retention`. */
export function encryptedLogGroup(scope: Construct, id: string, key: kms.IKey, retention: logs.RetentionDays): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention, encryptionKey: key });
}

/**
 * How long our log groups keep events by default: a year, the least Control
 * Tower accepts (CT.CLOUDWATCH.PR.2).
 */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

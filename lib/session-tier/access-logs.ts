import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib/core';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeControl } from '../private/control-tower';
import { customerManagedKey } from '../private/keys';

/** Where the load balancer log bucket's own access logs go in the second bucket. */
const SERVER_ACCESS_LOGS_PREFIX = 'load-balancer-logs/';

/**
 * The load balancer's log bucket, and a second bucket for the first one's
 * own access logs. Both versioned (old versions kept 30 days), TLS only,
 * private, with EventBridge notifications; retained, unless `removalPolicy`
 * is DESTROY (then emptied and deleted with the stack).
 */
export function createAccessLogsBucket(scope: Construct, removalPolicy?: RemovalPolicy): s3.Bucket {
  // Destroyed with the stack only once emptied: aws-cdk-lib's auto-delete-objects function does that on deletion.
  const destroy = removalPolicy === RemovalPolicy.DESTROY;
  const common = {
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    removalPolicy: destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    ...destroy ? { autoDeleteObjects: true } : {},
    lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(30) }],
  };
  const serverLogsKey = customerManagedKey(scope, 'AccessLogsKey', 'Encrypts the access logs of the load balancer log bucket');
  const serverLogs = new s3.Bucket(scope, 'AccessLogsAccessLogs', {
    ...common,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: serverLogsKey,
    bucketKeyEnabled: true,
  });
  const bucket = new s3.Bucket(scope, 'AccessLogs', {
    ...common,
    // ALB log delivery writes only to SSE-S3 buckets.
    encryption: s3.BucketEncryption.S3_MANAGED,
    // Named, not handed over: given the bucket itself, aws-cdk would grant S3 log delivery the key with no condition.
    serverAccessLogsBucket: s3.Bucket.fromBucketAttributes(scope, 'AccessLogsDestination', { bucketArn: serverLogs.bucketArn, bucketName: serverLogs.bucketName }),
    serverAccessLogsPrefix: SERVER_ACCESS_LOGS_PREFIX,
  });
  for (const b of [bucket, serverLogs]) {
    // Events to EventBridge (Control Tower CT.S3.PR.4), set on the bucket itself: aws-cdk's eventBridgeEnabled
    // sets it through a custom resource, a Lambda function outside any VPC.
    (b.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
  }
  const stack = Stack.of(scope);
  // S3 log delivery writes the log bucket's access logs, and nothing else, into the second bucket ...
  serverLogs.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ServerAccessLogsOfTheLogBucket',
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [serverLogs.arnForObjects(`${SERVER_ACCESS_LOGS_PREFIX}*`)],
    conditions: { StringEquals: { 'aws:SourceAccount': stack.account }, ArnLike: { 'aws:SourceArn': bucket.bucketArn } },
  }));
  // ... encrypting them with the key, for buckets of this account (naming the log bucket here would be a
  // cycle: it names the destination, which names this key).
  serverLogsKey.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'ServerAccessLogDeliveryOfThisAccount',
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
  }));
  Validations.of(bucket).acknowledge({
    id: '@aws-cdk/aws-s3:accessLogsPolicyNotAdded',
    reason: 'The destination is named rather than handed over on purpose; its bucket policy (S3 log delivery, for this bucket only) is written beside it.',
  });
  const sseS3Only = 'Elastic Load Balancing delivers access logs only to buckets encrypted with SSE-S3 (Amazon S3 managed keys); with a KMS key the logs are not written.';
  acknowledgeControl(bucket, 'CT.S3.PR.10', sseS3Only);
  Validations.of(bucket).acknowledge({ id: 'NIST.800.53.R5-S3DefaultEncryptionKMS', reason: sseS3Only });
  acknowledgeControl(bucket, 'CT.S3.PR.9',
    'Object Lock requires a Content-MD5 or checksum header on every upload that takes the default retention, and ELB log delivery is not documented to send one; a refused delivery loses logs silently. Versioning keeps overwritten or deleted logs for 30 days.');
  Validations.of(serverLogs).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This bucket holds the server access logs of the load balancer log bucket; logging access to it as well would need another bucket, and that one another. Only S3 log delivery writes to it; reads are by account principals under IAM.',
  });
  acknowledgeControl(serverLogs, 'CT.S3.PR.2',
    'This is the end of the log chain: it holds the server access logs of the load balancer log bucket, and logging access to it would need another bucket, and that one another. Only S3 log delivery writes to it.');
  acknowledgeControl(serverLogs, 'CT.S3.PR.9',
    'Amazon S3 does not deliver server access logs to a bucket with Object Lock enabled. Versioning keeps overwritten or deleted logs for 30 days.');
  return bucket;
}

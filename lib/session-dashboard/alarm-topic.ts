import { Stack } from 'aws-cdk-lib/core';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { customerManagedKey } from '../private/keys';

/**
 * The alarm topic and its key, in `scope`. CloudWatch may use the key and
 * publish to the topic only for alarms of this account and region: the
 * topic's policy (which aws-cdk writes for `enforceSSL`) replaces SNS's
 * default one, so without this Allow no alarm could publish.
 */
export function createAlarmTopic(scope: Construct): sns.Topic {
  const stack = Stack.of(scope);
  const fromAlarmsOfThisAccount = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
  };
  const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  const key = customerManagedKey(scope, 'AlarmTopicKey', 'Encrypts the session tier alarm topic; CloudWatch may use it to publish alarms');
  // CloudWatch alarms can publish only to topics whose key lets CloudWatch use it (the AWS managed key does not).
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchAlarmsOfThisAccount',
    principals: [cloudWatch],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: fromAlarmsOfThisAccount,
  }));
  const topic = new sns.Topic(scope, 'AlarmTopic', { displayName: 'Session tier alarms', masterKey: key, enforceSSL: true });
  topic.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'CloudWatchAlarmsOfThisAccountPublish',
    principals: [cloudWatch],
    actions: ['sns:Publish'],
    resources: [topic.topicArn],
    conditions: fromAlarmsOfThisAccount,
  }));
  return topic;
}

import { CfnResource, Stack, Validations } from 'aws-cdk-lib/core';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgeVpcAccess } from '../private/acknowledgements';

/**
 * The cdk-nag findings on a shifter function's role that least privilege
 * cannot avoid: describe calls on "*" (`starReason` names them) and the
 * listener's rule prefix, as cdk-nag renders it (`renderedRules`).
 */
export function acknowledgeShifterRole(role: Construct, starReason: string, renderedRules: string): void {
  Validations.of(role).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: starReason });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${renderedRules}]`,
    reason: 'The rules of this one listener only: the rule the shifter owns gets its ARN at deploy time, so the policy names the listener\'s rule prefix, never another listener\'s.',
  });
}

/** The provider framework's own functions: acknowledged where its design leaves no choice. */
export function acknowledgeProvider(provider: cr.Provider, handlers: lambda.IFunction[]): void {
  const stack = Stack.of(provider);
  for (const fn of [...handlers, ...provider.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function)]) {
    Validations.of(provider).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnResource)}.Arn>:*]`,
      reason: 'The provider framework invokes its handlers and its own functions by ARN including their versions (<arn>:*), as CDK grants lambda:InvokeFunction; no other function.',
    });
  }
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Step Functions log delivery (logs:CreateLogDelivery, PutResourcePolicy and the like) and X-Ray (PutTraceSegments, GetSamplingRules and the like) support no resource-level permissions; the waiter state machine needs them to log to its log group and to send its traces.',
  });
  acknowledgeVpcAccess(provider);
  Validations.of(provider).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The CDK provider framework\'s own functions use the AWS-maintained basic execution role to write their logs; it grants nothing else.',
  });
}

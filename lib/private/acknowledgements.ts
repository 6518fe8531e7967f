import { Validations } from 'aws-cdk-lib/core';
import { IConstruct } from 'constructs';

/** What aws-cdk attaches to the role of every function it puts in a VPC, acknowledged for cdk-nag on `scope` and below. */
export function acknowledgeVpcAccess(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason: 'AWSLambdaVPCAccessExecutionRole is the AWS-maintained minimum for a function in a VPC: it creates, describes and deletes the function\'s network interfaces (EC2 takes no resource for these); aws-cdk attaches it to every function given a VPC.',
  });
}

/**
 * Acknowledges a finding that cdk-nag's AwsSolutions pack and its NIST 800-53
 * rev 5 pack both report, under each pack's id, with the one reason.
 */
export function acknowledgeNag(scope: IConstruct, awsSolutionsId: string, nistRule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: awsSolutionsId, reason }, { id: `NIST.800.53.R5-${nistRule}`, reason });
}

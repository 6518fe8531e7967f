import { Validations } from 'aws-cdk-lib/core';
import { IConstruct } from 'constructs';

/** What aws-cdk attaches to the role of every function it puts in a VPC, acknowledged for cdk-nag on `scope` and below. */
export function acknowledgeVpcAccess(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason: 'AWSLambdaVPCAccessExecutionRole is the AWS-maintained minimum for a function in a VPC: it creates, describes and deletes the function\'s network interfaces (EC2 takes no resource for these); aws-cdk attaches it to every function given a VPC.',
  });
}

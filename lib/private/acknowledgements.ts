import { Validations } from 'aws-cdk-lib/core';
import { IConstruct } from 'constructs';

/**
 * AWSLambdaVPCAccessExecutionRole on the role of a function in a VPC (aws-cdk
 * attaches it to the roles it creates, function-role.ts to ours), acknowledged
 * for cdk-nag on `scope` and below. What it allows:
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
 */
export function acknowledgeVpcAccess(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
    reason: 'Lambda refuses to create a function in a VPC whose role does not allow the network-interface actions it uses for the function '
      + '(ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets, DeleteNetworkInterface, AssignPrivateIpAddresses, UnassignPrivateIpAddresses); '
      + 'AWSLambdaVPCAccessExecutionRole is the AWS-maintained policy for them, which aws-cdk attaches to the roles it creates for functions in a VPC. '
      + 'It allows them on "*" (Lambda names the interfaces, and DescribeNetworkInterfaces works only on "*"), and also logs:CreateLogGroup, CreateLogStream and PutLogEvents on "*".',
  });
}

/**
 * Acknowledges a finding that cdk-nag's AwsSolutions pack and its NIST 800-53
 * rev 5 pack both report, under each pack's id, with the one reason.
 */
export function acknowledgeNag(scope: IConstruct, awsSolutionsId: string, nistRule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: awsSolutionsId, reason }, { id: `NIST.800.53.R5-${nistRule}`, reason });
}

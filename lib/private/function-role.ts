import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeVpcAccess } from './acknowledgements';

/** The AWS managed policy Lambda's VPC documentation names for a function's network interfaces. */
export const VPC_ACCESS_POLICY = 'service-role/AWSLambdaVPCAccessExecutionRole';

/**
 * The role of one of our own Lambda functions. In a VPC it carries
 * AWSLambdaVPCAccessExecutionRole: Lambda creates the function's network
 * interfaces with its role, checks that the role allows it when it creates
 * the function, and refuses the function otherwise
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions),
 * and aws-cdk attaches that policy only to the roles it creates itself
 * (aws/aws-cdk#23589). A managed policy of the role is there when the role
 * is, before the function; it keeps the role's own policy to what the
 * handler itself calls, and AWS updates it when Lambda's needs change.
 */
export function functionRole(scope: Construct, id: string, description: string, inVpc: boolean): iam.Role {
  const role = new iam.Role(scope, id, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description,
    managedPolicies: inVpc ? [iam.ManagedPolicy.fromAwsManagedPolicyName(VPC_ACCESS_POLICY)] : [],
  });
  if (inVpc) {
    acknowledgeVpcAccess(role);
  }
  return role;
}

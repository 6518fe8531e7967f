import { CfnResource, Stack } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeVpcAccess } from '../private/acknowledgements';
import { VPC_ACCESS_POLICY } from '../private/function-role';

/**
 * The VPC the tier creates when given none: two Availability Zones, public
 * and private subnets, `natGateways` NAT gateways, flow logs encrypted with
 * `logKey`, and an S3 gateway endpoint.
 */
export function createVpc(scope: Construct, natGateways: number, logKey: kms.IKey): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways,
    subnetConfiguration: [
      // Nothing here needs an address of its own: the NAT gateways have Elastic IPs and the load balancer
      // its own addresses (Control Tower CT.EC2.PR.11).
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
  });
  const flowLog = vpc.addFlowLog('FlowLogs', { trafficType: ec2.FlowLogTrafficType.ALL });
  // The log group the flow log creates, encrypted with the tier's log key (kept as aws-cdk keeps flow logs, two years); set on it so that its logical id stays.
  const flowLogGroup = flowLog.logGroup?.node.defaultChild as logs.CfnLogGroup | undefined;
  if (flowLogGroup) {
    flowLogGroup.kmsKeyId = logKey.keyArn;
  }
  placeStackProviderInVpc(scope, vpc, 'Custom::VpcRestrictDefaultSGCustomResourceProvider', 'DefaultGroupCleanerSecurityGroup',
    'The aws-cdk function that strips the default security group: out to the EC2 API over HTTPS only', 'HTTPS: the EC2 API');
  // Instances fetch the app bundle from S3 without crossing the NAT gateways.
  vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
  return vpc;
}

/**
 * aws-cdk's stack-wide custom-resource providers have no VPC option: the one
 * that strips the default security group's rules
 * (`@aws-cdk/aws-ec2:restrictDefaultSecurityGroup`, it calls the EC2 API), and
 * the one that empties a bucket before its deletion (`autoDeleteObjects`, the
 * S3 API). Control Tower (CT.LAMBDA.PR.3) refuses functions outside a VPC, so
 * the provider `providerId`, when the stack has it, is placed in the private
 * subnets, let out on HTTPS only, and waits for their routes out.
 */
export function placeStackProviderInVpc(scope: Construct, vpc: ec2.IVpc, providerId: string, securityGroupId: string, description: string, egress: string): void {
  const provider = Stack.of(scope).node.tryFindChild(providerId);
  const handler = provider?.node.tryFindChild('Handler');
  const role = provider?.node.tryFindChild('Role');
  if (!provider || !(handler instanceof CfnResource) || !(role instanceof CfnResource)) {
    return;
  }
  const securityGroup = new ec2.SecurityGroup(scope, securityGroupId, { vpc, description, allowAllOutbound: false });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), egress);
  const subnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  handler.addPropertyOverride('VpcConfig', { SubnetIds: subnets.subnetIds, SecurityGroupIds: [securityGroup.securityGroupId] });
  handler.node.addDependency(subnets.internetConnectivityEstablished);
  const partition = Stack.of(scope).partition;
  role.addPropertyOverride('ManagedPolicyArns', ['service-role/AWSLambdaBasicExecutionRole', VPC_ACCESS_POLICY]
    .map((name) => `arn:${partition}:iam::aws:policy/${name}`));
  acknowledgeVpcAccess(provider);
}

import { Validations } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { FleetApplicationConfig } from '../fleet-application';
import { ResolvedFleetProps } from './resolve-props';

/** The fleet's instances as its launch template describes them. */
export interface FleetInstances {
  /** Their role: Session Manager, the application's download, and what the strategy and the app add. */
  readonly role: iam.Role;
  /** The launch template, whose user data gets the boot script. */
  readonly launchTemplate: ec2.LaunchTemplate;
}

/** The role, the security group and the launch template of the fleet's instances (the group's connections are theirs). */
export function createInstances(fleet: Construct, r: ResolvedFleetProps, application: FleetApplicationConfig): FleetInstances {
  const role = createInstanceRole(fleet, r.color);
  allowAppDownload(role, application);
  const securityGroup = createInstanceSecurityGroup(fleet, r.vpc, r.color);
  const launchTemplate = createLaunchTemplate(fleet, r, application, { role, securityGroup });
  return { role, launchTemplate };
}

/** The instances' role: Session Manager access; the app's own permissions are added to it. */
function createInstanceRole(fleet: Construct, color: FleetColor): iam.Role {
  const role = new iam.Role(fleet, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: `Instances of the ${color} fleet: Session Manager access and what the session app needs`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
    reason: 'AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, which replaces SSH (no key pair, no port 22); AWS keeps it current as the agent changes.',
  });
  return role;
}

/** HTTPS out (AWS APIs, packages, S3); the store's port is added when the strategy binds. */
function createInstanceSecurityGroup(fleet: Construct, vpc: ec2.IVpc, color: FleetColor): ec2.SecurityGroup {
  const securityGroup = new ec2.SecurityGroup(fleet, 'SecurityGroup', {
    vpc,
    description: `${color} fleet: app port from the load balancer only; out: HTTPS and its session store`,
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: AWS APIs, packages and S3');
  return securityGroup;
}

/** What a launch template of the fleet needs besides the resolved props. */
interface LaunchTemplateOptions {
  readonly role: iam.IRole;
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * Amazon Linux 2023 for the first type's architecture (unless the application
 * brings its image), IMDSv2 only, detailed monitoring and an encrypted gp3
 * root volume; the user data starts empty and gets the boot script.
 */
function createLaunchTemplate(fleet: Construct, r: ResolvedFleetProps, application: FleetApplicationConfig, options: LaunchTemplateOptions): ec2.LaunchTemplate {
  const instanceType = r.instanceTypes[0];
  return new ec2.LaunchTemplate(fleet, 'LaunchTemplate', {
    machineImage: application.machineImage ?? ec2.MachineImage.latestAmazonLinux2023({
      kernel: ec2.AmazonLinux2023Kernel.DEFAULT,
      cpuType: instanceType.architecture === ec2.InstanceArchitecture.ARM_64
        ? ec2.AmazonLinuxCpuType.ARM_64 : ec2.AmazonLinuxCpuType.X86_64,
    }),
    instanceType,
    role: options.role,
    securityGroup: options.securityGroup,
    userData: ec2.UserData.forLinux(),
    requireImdsv2: true,
    httpPutResponseHopLimit: 1,
    detailedMonitoring: true,
    blockDevices: [{
      deviceName: '/dev/xvda',
      volume: ec2.BlockDeviceVolume.ebs(r.rootVolumeSize, {
        encrypted: true,
        volumeType: ec2.EbsDeviceVolumeType.GP3,
        deleteOnTermination: true,
      }),
    }],
  });
}

/** Lets the instances download the application's asset, when it has one. */
function allowAppDownload(role: iam.IRole, application: FleetApplicationConfig): void {
  if (application.asset) {
    // Exactly the one object, not the asset bucket.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [application.asset.bucket.arnForObjects(application.asset.s3ObjectKey)],
    }));
  }
}

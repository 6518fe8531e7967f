import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { Stickiness } from '../stickiness';
import { AppFleetAttributes, IAppFleet } from './props';

/** A group and target group of a user's own, seen as a fleet; it creates nothing. */
export class ImportedAppFleet extends Construct implements IAppFleet {
  /** The user's target group. */
  public readonly targetGroup: elbv2.IApplicationTargetGroup;
  /** The user's Auto Scaling group, whose instances are the target group's targets. */
  public readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** The group's minimum capacity, as the user gave it. */
  public readonly minCapacity: number;
  /** The stickiness the user set on the target group; none unless given. */
  public readonly stickiness: Stickiness;
  /** Whether the user's application publishes the sample app's metrics; not unless given. */
  public readonly publishesAppMetrics: boolean;
  /** Whether the user's application's cookies carry `Secure`; not known unless given. */
  public readonly secureCookies?: boolean;
  /** The VPC of the user's group; not known unless given. */
  public readonly vpc?: ec2.IVpc;

  constructor(scope: Construct, id: string, attrs: AppFleetAttributes) {
    super(scope, id);
    const problems = new ProblemList();
    problems.wholeNumber('minCapacity', attrs.minCapacity, { min: 0 });
    problems.throwIfAny(this);
    this.targetGroup = attrs.targetGroup;
    this.autoScalingGroup = attrs.autoScalingGroup;
    this.minCapacity = attrs.minCapacity;
    this.stickiness = attrs.stickiness ?? Stickiness.none();
    this.publishesAppMetrics = attrs.publishesAppMetrics ?? false;
    this.secureCookies = attrs.secureCookies;
    this.vpc = attrs.vpc;
  }
}

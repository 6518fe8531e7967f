import { Token } from 'aws-cdk-lib/core';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';
import { ProblemList } from '../private/problems';
import { Stickiness } from '../stickiness';
import { AppFleetAttributes, IAppFleet } from './props';

/** A group and target group of a user's own, seen as a fleet. */
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

  constructor(scope: Construct, id: string, attrs: AppFleetAttributes) {
    super(scope, id);
    const problems = new ProblemList();
    problems.check(!Token.isUnresolved(attrs.minCapacity) && (!Number.isInteger(attrs.minCapacity) || attrs.minCapacity < 0),
      () => `minCapacity: must be a whole number of at least 0, got ${attrs.minCapacity}`);
    problems.throwIfAny(this);
    this.targetGroup = attrs.targetGroup;
    this.autoScalingGroup = attrs.autoScalingGroup;
    this.minCapacity = attrs.minCapacity;
    this.stickiness = attrs.stickiness ?? Stickiness.none();
    this.publishesAppMetrics = attrs.publishesAppMetrics ?? false;
  }
}

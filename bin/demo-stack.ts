import { CfnOutput, Stack, StackProps, Validations } from 'aws-cdk-lib/core';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../lib/private/acknowledgements';
import { acknowledgeControl } from '../lib/private/control-tower';
import { SessionDatabase } from '../lib/session-database';
import { SessionTier, SessionTierProps } from '../lib/session-tier';

/** Properties of the {@link DemoStack}. */
export interface DemoStackProps extends StackProps {
  /** The tier to build, usually from `tierPropsFromContext`. */
  readonly tier: SessionTierProps;
}

/** The demo: one `SessionTier`, and its URL as an output. */
export class DemoStack extends Stack {
  /** The tier. */
  public readonly tier: SessionTier;

  constructor(scope: Construct, id: string, props: DemoStackProps) {
    super(scope, id, props);
    this.tier = new SessionTier(this, 'Tier', props.tier);
    const destroyable = 'The demo is meant to be removed with cdk destroy, and its sessions are disposable';
    const db = this.tier.sessionDatabase;
    if (db instanceof SessionDatabase && props.tier.databaseProps?.deletionProtection === false) {
      const reason = `${destroyable}; a final snapshot is still taken. SessionDatabase keeps deletion protection on by default for real stacks.`;
      acknowledgeNag(db.instance, 'AwsSolutions-RDS10', 'RDSInstanceDeletionProtectionEnabled', reason);
      acknowledgeControl(db.instance, 'CT.RDS.PR.13', reason);
    }
    if (props.tier.loadBalancerDeletionProtection === false) {
      const reason = `${destroyable}. SessionTier keeps the load balancer's deletion protection on by default for real stacks.`;
      acknowledgeControl(this.tier.loadBalancer, 'CT.ELASTICLOADBALANCING.PR.5', reason);
      Validations.of(this.tier.loadBalancer).acknowledge({ id: 'NIST.800.53.R5-ELBDeletionProtectionEnabled', reason });
    }
    if (props.tier.certificateArn === undefined) {
      const reason = 'The demo without -c certificateArn serves plain HTTP on port 80, so that it runs in an account with no domain or certificate (synth warns about it); with a certificate the tier serves HTTPS and port 80 only redirects, which passes this control. Use a certificate for anything but a look at the demo.';
      acknowledgeControl(this.tier.listener, 'CT.ELASTICLOADBALANCING.PR.1', reason);
      Validations.of(this.tier.loadBalancer).acknowledge(
        { id: 'NIST.800.53.R5-ALBHttpToHttpsRedirection', reason },
        { id: 'NIST.800.53.R5-ELBv2ACMCertificateRequired', reason },
      );
    }
    new CfnOutput(this, 'Url', { value: this.tier.url, description: 'Open this to see your session' });
    new CfnOutput(this, 'BlueTargetGroup', { value: this.tier.blue.targetGroup.targetGroupArn });
    if (this.tier.green) {
      new CfnOutput(this, 'GreenTargetGroup', { value: this.tier.green.targetGroup.targetGroupArn });
      new CfnOutput(this, 'BlueWeight', { value: this.tier.routing.blueWeight, description: 'Blue\'s live weight after the last deploy' });
      new CfnOutput(this, 'GreenWeight', { value: this.tier.routing.greenWeight, description: 'Green\'s live weight after the last deploy' });
      new CfnOutput(this, 'DrainedAt', {
        value: this.tier.routing.drainedAt,
        description: 'When the color that lost traffic holds no more sticky users (last shift + target-group stickiness)',
      });
    }
  }
}

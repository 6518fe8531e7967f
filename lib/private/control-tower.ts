import { Validations } from 'aws-cdk-lib/core';
import { IConstruct } from 'constructs';

/**
 * The AWS Control Tower proactive controls this library acknowledges, by
 * control id, with the name of the cfn-guard rule that implements each (what
 * a policy-validation report names, as `@cdklabs/cdk-validator-cfnguard`
 * runs the rules AWS publishes).
 */
export const CONTROL_TOWER_RULES = {
  'CT.AUTOSCALING.PR.11': 'autoscaling_group_nitro_encryption_in_transit_override_check',
  'CT.ELASTICLOADBALANCING.PR.1': 'alb_http_to_https_redirection_check',
  'CT.ELASTICLOADBALANCING.PR.5': 'elbv2_deletion_protection_enabled_check',
  'CT.RDS.PR.13': 'rds_instance_deletion_protection_enabled_check',
  'CT.S3.PR.2': 's3_bucket_logging_enabled_check',
  'CT.S3.PR.9': 's3_bucket_object_lock_enabled_check',
  'CT.S3.PR.10': 's3_bucket_default_encryption_kms_check',
} as const;

/** A control this library acknowledges. */
export type ControlTowerControl = keyof typeof CONTROL_TOWER_RULES;

/** The name the cfn-guard validation plugin reports its violations under. */
export const CFN_GUARD_PLUGIN = 'cdk-validator-cfnguard';

/**
 * Acknowledges a Control Tower control on `scope` and what it contains, with
 * the reason a reviewer reads: an account that turns the control on refuses
 * this resource, so the reason says why it cannot, or should not, comply.
 */
export function acknowledgeControl(scope: IConstruct, control: ControlTowerControl, reason: string): void {
  Validations.of(scope).acknowledge({ id: `${CFN_GUARD_PLUGIN}::${CONTROL_TOWER_RULES[control]}`, reason: `${control}: ${reason}` });
}

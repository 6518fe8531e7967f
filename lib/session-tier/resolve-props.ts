import { Construct } from 'constructs';
import { FleetColor } from '../contract/app-env';
import { ProblemList } from '../private/problems';
import { AppFleetOptions } from '../app-fleet';
import { SessionStrategy } from '../session-strategy';
import { SessionTierProps } from './props';

/** The props of a {@link SessionTier} with its defaults filled in and its rules checked. */
export interface ResolvedTierProps {
  /** NAT gateways of the VPC the tier creates. */
  readonly natGateways: number;
  /** HTTPS on 443 (a certificate is given), else HTTP on 80. */
  readonly https: boolean;
  readonly loadBalancerDeletionProtection: boolean;
  readonly blue: AppFleetOptions;
  readonly targetColor: FleetColor;
  /** Each color's strategy; no green one without a green fleet. */
  readonly strategies: { readonly blue: SessionStrategy; readonly green?: SessionStrategy };
  readonly dashboard: boolean;
}

/**
 * Defaults, then the rules that concern the tier's own props (each part
 * checks its own props when it is built). Collects every problem and throws once.
 */
export function resolveTierProps(scope: Construct, props: SessionTierProps): ResolvedTierProps {
  const problems = new ProblemList();
  problems.check(props.vpc !== undefined && props.natGateways !== undefined,
    () => `natGateways: only applies to the VPC the tier creates, got ${props.natGateways} with a given vpc; remove natGateways`);
  problems.check(props.natGateways !== undefined && (!Number.isInteger(props.natGateways) || props.natGateways < 1),
    () => `natGateways: must be a whole number of at least 1 (the fleets install packages through it), got ${props.natGateways}`);
  // Existing or new, never both silently.
  for (const [existing, overrides] of [['sessionCache', 'cacheProps'], ['sessionFileSystem', 'fileSystemProps'], ['sessionDatabase', 'databaseProps']] as const) {
    problems.check(props[existing] !== undefined && props[overrides] !== undefined,
      () => `${overrides}: only apply to the store the tier creates, got both ${existing} and ${overrides}; pass either your ${existing} or ${overrides} for a new one`);
  }
  problems.throwIfAny(scope);

  const blue = props.blue ?? {};
  return {
    natGateways: props.natGateways ?? 2,
    https: props.certificateArn !== undefined,
    loadBalancerDeletionProtection: props.loadBalancerDeletionProtection ?? true,
    blue,
    targetColor: props.targetColor ?? FleetColor.BLUE,
    strategies: {
      blue: blue.strategy ?? SessionStrategy.memory(),
      green: props.green ? props.green.strategy ?? SessionStrategy.memory() : undefined,
    },
    dashboard: props.dashboard !== false,
  };
}

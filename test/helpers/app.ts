import { App, Stack } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as cxapi from 'aws-cdk-lib/cx-api';

/**
 * An app with the feature flags `cdk init` writes into cdk.json today (a test
 * checks cdk.json carries the same), so tests see the templates users deploy.
 */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({
    context: {
      ...cxapi.CURRENTLY_RECOMMENDED_FLAGS,
      // Seeded so the fixed test environment never needs a lookup.
      'availability-zones:account=123456789012:region=eu-west-1': ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      ...context,
    },
  });
}

/** A stack in a fixed environment: stable templates, known Availability Zones. */
export function testStack(app: App = testApp(), id = 'Test'): Stack {
  return new Stack(app, id, { env: { account: '123456789012', region: 'eu-west-1' } });
}

/** A VPC over two AZs with public and private subnets, like the one `SessionTier` creates. */
export function testVpc(stack: Stack): ec2.Vpc {
  return new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
}

#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { demoRegion, tierPropsFromContext } from './demo-context';
import { DemoStack } from './demo-stack';

const app = new App();
// Any unacknowledged AwsSolutions finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
new DemoStack(app, 'SessionTierDemo', {
  description: 'cdk-session-tier demo: a web tier on EC2 that keeps its users sessions through scaling and blue/green releases',
  // The region is fixed (ALB access logs need it); the account is left open so synth needs no credentials.
  env: { region: demoRegion(app.node) },
  tier: tierPropsFromContext(app.node),
});

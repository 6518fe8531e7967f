#!/usr/bin/env node
import { App, IPolicyValidationPlugin, Validations } from 'aws-cdk-lib/core';
import { IConstruct } from 'constructs';
import { demoRegion, tierPropsFromContext } from './demo-context';
import { DemoStack } from './demo-stack';

// cdk-nag's type declarations import all of aws-cdk-lib: checking this file
// with them would parse every service's declarations before every synth. The
// one class used here is typed by hand; the tests import cdk-nag with its own
// types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AwsSolutionsChecks } = require('cdk-nag') as { AwsSolutionsChecks: new (scope: IConstruct) => IPolicyValidationPlugin };

/**
 * A bad context value or prop is a message to read, not a program's crash:
 * print it once, without a stack trace (set CDK_DEBUG=true, as `cdk --debug`
 * does, to see where it came from), and fail the synth.
 */
function fail(error: unknown): never {
  const debug = /^(1|true|yes|on)$/i.test(process.env.CDK_DEBUG ?? '');
  console.error(debug && error instanceof Error ? error.stack : error instanceof Error ? error.message : String(error));
  process.exit(1);
}

try {
  const app = new App();
  // Any unacknowledged AwsSolutions finding fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  new DemoStack(app, 'SessionTierDemo', {
    description: 'cdk-session-tier demo: a web tier on EC2 that keeps its users sessions through scaling and blue/green releases',
    // The region is fixed (ALB access logs need it); the account is left open so synth needs no credentials.
    env: { region: demoRegion(app.node) },
    tier: tierPropsFromContext(app.node),
  });
  app.synth();
} catch (error) {
  fail(error);
}

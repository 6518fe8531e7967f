/**
 * Integration test: the demo's first variant, blue alone with memory sessions
 * kept by load-balancer-cookie stickiness (two to four t4g.small instances),
 * deployed for real by integ-runner. See the README's "Integration tests" for
 * how to run it, what it costs, and how its snapshot is checked by npm test.
 *
 * After the deploy, the assertion stack checks what a user would see:
 * - the URL answers GET /api/session with 200 from the sample app, on blue, v1,
 *   memory sessions;
 * - the target group's attributes, read back with
 *   DescribeTargetGroupAttributes, say lb_cookie stickiness for 1 day;
 * - a session survives the next requests: after a login, three requests
 *   carrying the login's cookies (the app's, AWSALB and AWSALBCORS, as a
 *   browser sends them back) are each answered by the instance that answered
 *   the login, with the same user and a visit count going up.
 *   Memory sessions live in one instance's RAM, so a request the load balancer
 *   sent to the other instance would come back as a new session (user null,
 *   another instance id) and fail the check; with two instances and no
 *   stickiness, three requests all reach the right one 1 time in 8.
 */
import { Duration } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { DemoStack } from '../bin/demo-stack';
import { SessionStrategy } from '../lib/session-strategy';
import { Stickiness } from '../lib/stickiness';
import { ELBV2, INTEG_REGION, removeWithStack, assertionStack, checkWithNag, cookiePair, integApp } from './helpers/integ-app';

const app = integApp();
const stack = new DemoStack(app, 'SessionTierIntegBlueMemory', {
  env: { region: INTEG_REGION },
  description: 'cdk-session-tier integration test: blue alone, memory sessions with load-balancer-cookie stickiness',
  tier: {
    blue: {
      strategy: SessionStrategy.memory(),
      stickiness: Stickiness.loadBalancerCookie(Duration.days(1)),
      version: 'v1',
      instanceType: new ec2.InstanceType('t4g.small'),
      minCapacity: 2,
      maxCapacity: 4,
    },
    // integ-runner destroys the stack after the run.
    loadBalancerDeletionProtection: false,
  },
});
removeWithStack(stack);
checkWithNag(app, [stack]);

const integ = new IntegTest(app, 'BlueMemory', {
  testCases: [stack],
  assertionStack: assertionStack(app, 'SessionTierIntegBlueMemoryAssertions'),
  regions: [INTEG_REGION],
  // The update workflow would deploy the committed snapshot first, which then
  // has to carry every asset (the sample app and the Lambda bundles); these
  // assertions check one deploy, so the snapshot holds templates only.
  stackUpdateWorkflow: false,
});
const url = stack.tier.url;
const user = 'integ-sticky';

// Right after the deploy the load balancer may still be running its first health checks (503): wait for 200.
const served = integ.assertions.httpApiCall(`${url}/api/session`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { color: 'blue', version: 'v1', strategy: 'memory', user: null, visits: 1 } }))
  .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15), backoffRate: 1 });

// One call per attribute: arrayWith matches its elements in order, and ELB's order of attributes is not documented.
for (const [Key, Value] of [['stickiness.enabled', 'true'], ['stickiness.type', 'lb_cookie'], ['stickiness.lb_cookie.duration_seconds', '86400']]) {
  integ.assertions.awsApiCall(ELBV2, 'describeTargetGroupAttributes', { TargetGroupArn: stack.tier.blue.targetGroup.targetGroupArn })
    .expect(ExpectedResult.objectLike({ Attributes: Match.arrayWith([{ Key, Value }]) }));
}

const login = served.next(integ.assertions.httpApiCall(`${url}/api/login`, {
  method: 'POST',
  body: JSON.stringify({ user }),
  headers: { 'content-type': 'application/json' },
}));
// Three Set-Cookie headers: the app's session cookie, the load balancer's AWSALB and AWSALBCORS, in the order it chose.
const cookie = [0, 1, 2].map((i) => cookiePair(login.getAttString(`headers.set-cookie.${i}`))).join('; ');
const instance = login.getAttString('body.instance');
let previous = login;
for (const visits of [1, 2, 3]) {
  previous = previous.next(integ.assertions.httpApiCall(`${url}/api/session`, { headers: { cookie } })
    .expect(ExpectedResult.objectLike({ status: 200, body: { user, instance, visits } })));
}

/**
 * Integration test: the demo's blue/green variant with a shared store. Blue
 * (v1) and green (v2) both keep sessions in one ElastiCache Redis replication
 * group, without target-group stickiness; the deploy targets green with a
 * canary plan (10 %, then the rest after 60 s), so the traffic shifter moves
 * the users in health-checked steps. See the README's "Integration tests".
 *
 * A session made before the shift must survive it. integ-runner runs
 * assertions only after the whole deploy, and its update workflow (deploy the
 * committed snapshot, then the new template) would shift only when the
 * snapshot targets the other color, and would need every asset in the
 * snapshot. So the ordering lives in this stack, where CloudFormation enforces
 * it, as in a real release:
 *   1. the fleets signal that the app answers; the listener's default action
 *      forwards to blue (the shifter's rule does not exist yet);
 *   2. a probe (integ-tests' HttpApiCall, in this stack) waits until the URL
 *      answers from blue, then logs in and keeps the app's session cookie;
 *   3. the traffic shift depends on the probe, so it starts only then: the
 *      rule starts where the traffic is and the canary moves it to green;
 *   4. after the deploy, the assertion stack presents that cookie alone (no
 *      AWSALBTG, so the weights decide: all to green) and expects green to
 *      answer with the user and the createdAt of the session blue made.
 * A lost session gives a different answer from the app: a new session
 * (user null, a new createdAt), so the check can fail; it fails, for one, if
 * green's strategy is changed to memory.
 *
 * The other assertions: a new visitor gets 200 from green, v2, redis; the
 * shifter's rule, read back with DescribeRules, forwards blue 0 / green 100
 * with target-group stickiness for 1 day; and the traffic shift's attributes
 * report the same weights and the outcome `shifted`.
 */
import { Duration, Stack } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ActualResult, ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { DemoStack } from '../bin/demo-stack';
import { FleetColor } from '../lib/contract/app-env';
import { SHIFT_ATTRIBUTES } from '../lib/contract/traffic-shift';
import { ShiftPlan } from '../lib/shift-plan';
import { SessionStrategy } from '../lib/session-strategy';
import { Stickiness } from '../lib/stickiness';
import { ELBV2, INTEG_REGION, removeWithStack, SessionProbe, assertionStack, checkWithNag, cookiePair, integApp } from './helpers/integ-app';

const app = integApp();
const fleet = {
  strategy: SessionStrategy.redis(),
  stickiness: Stickiness.none(),
  instanceType: new ec2.InstanceType('t4g.small'),
  minCapacity: 2,
  maxCapacity: 4,
};
const stack = new DemoStack(app, 'SessionTierIntegBlueGreenRedis', {
  env: { region: INTEG_REGION },
  description: 'cdk-session-tier integration test: blue and green on a shared Redis, a canary release to green',
  tier: {
    blue: { ...fleet, version: 'v1' },
    green: { ...fleet, version: 'v2' },
    targetColor: FleetColor.GREEN,
    shiftPlan: ShiftPlan.canary(10, Duration.seconds(60)),
    groupStickiness: Stickiness.loadBalancerCookie(Duration.days(1)),
    // integ-runner destroys the stack after the run.
    loadBalancerDeletionProtection: false,
  },
});
const routing = stack.tier.routing;
const trafficShift = routing.trafficShift!;
const user = 'integ-before-shift';
const probe = new SessionProbe(stack, 'SessionBeforeShift', {
  url: stack.tier.url,
  color: 'blue',
  user,
  after: [stack.tier.blue.autoScalingGroup, stack.tier.listener],
});
trafficShift.node.addDependency(probe.login);
removeWithStack(stack);
checkWithNag(app, [stack]);

const integ = new IntegTest(app, 'BlueGreenRedis', {
  testCases: [stack],
  assertionStack: assertionStack(app, 'SessionTierIntegBlueGreenRedisAssertions'),
  regions: [INTEG_REGION],
  // See the header: one deploy exercises the shift; the snapshot holds templates only.
  stackUpdateWorkflow: false,
});
const url = stack.tier.url;

// A new visitor: the rule sends everyone without an AWSALBTG cookie by its weights, all to green.
// Waited for (2 minutes at most) in case the rule's last change is still reaching the load balancer's nodes.
integ.assertions.httpApiCall(`${url}/api/session`)
  .expect(ExpectedResult.objectLike({ status: 200, body: { color: 'green', version: 'v2', strategy: 'redis', user: null } }))
  .waitForAssertions({ totalTimeout: Duration.minutes(2), interval: Duration.seconds(10), backoffRate: 1 })
  // The session blue made before the shift, presented alone: green must answer with it, not with a new one.
  .next(integ.assertions.httpApiCall(`${url}/api/session`, { headers: { cookie: cookiePair(probe.setCookie) } })
    .expect(ExpectedResult.objectLike({ status: 200, body: { color: 'green', user, createdAt: probe.createdAt } })));

integ.assertions.awsApiCall(ELBV2, 'describeRules', { RuleArns: [trafficShift.getAttString(SHIFT_ATTRIBUTES.RULE_ARN)] })
  .expect(ExpectedResult.objectLike({
    Rules: [{
      Actions: [{
        Type: 'forward',
        ForwardConfig: {
          // In the order the shifter writes them (lambda/traffic-shifter/elb.ts forwardAction).
          TargetGroups: [
            { TargetGroupArn: stack.tier.blue.targetGroup.targetGroupArn, Weight: 0 },
            { TargetGroupArn: stack.tier.green!.targetGroup.targetGroupArn, Weight: 100 },
          ],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 86400 },
        },
      }],
    }],
  }));

// The attributes are strings to CloudFormation; one JSON object keeps them strings for the comparison.
integ.assertions.expect('TrafficShiftAttributes',
  ExpectedResult.objectLike({ blueWeight: '0', greenWeight: '100', outcome: 'shifted' }),
  { result: Stack.of(trafficShift).toJsonString({ blueWeight: routing.blueWeight, greenWeight: routing.greenWeight, outcome: routing.outcome }) } as ActualResult);

/**
 * CloudFormation waits at most 3600 s for a custom resource (ServiceTimeout);
 * every plan the library accepts must finish, polls and margins included,
 * inside that wait, and anything longer is refused at synth.
 */
import { Duration } from 'aws-cdk-lib/core';
import { Match } from 'aws-cdk-lib/assertions';
import {
  CUSTOM_RESOURCE_TIMEOUT_SECONDS, MAX_PLAN_SECONDS, MAX_WAIT_SECONDS, PENDING_ALLOWANCE_SECONDS, PROVIDER_MARGIN_SECONDS, parsePlan, releaseSeconds, waiterSeconds,
} from '../../lib/contract/traffic-shift';
import { ShiftPlan } from '../../lib';
import { routingStack } from './routing-stack';

test('the budget adds up to CloudFormation\'s limit: 40 minutes of plan, 10 for first health checks, 10 for the provider', () => {
  expect(CUSTOM_RESOURCE_TIMEOUT_SECONDS).toBe(3600);
  expect(MAX_PLAN_SECONDS + PENDING_ALLOWANCE_SECONDS + PROVIDER_MARGIN_SECONDS).toBe(CUSTOM_RESOURCE_TIMEOUT_SECONDS);
  expect(MAX_WAIT_SECONDS).toBe(3000);
});

describe('ShiftPlan refuses plans CloudFormation cannot wait for', () => {
  test.each([
    ['canary, 40 minutes', () => ShiftPlan.canary(10, Duration.minutes(40)), 2400],
    ['linear, 4 steps of 10 minutes (the last after 30)', () => ShiftPlan.linear(25, Duration.minutes(10)), 1800],
    ['from the demo context, 40 minutes', () => ShiftPlan.fromString('canary:5:40m'), 2400],
  ])('accepts %s', (_what, make, seconds) => {
    expect(make().duration.toSeconds()).toBe(seconds);
  });

  test.each([
    ['canary for 41 minutes', () => ShiftPlan.canary(10, Duration.minutes(41)), '41 minutes'],
    ['canary for 40 minutes and a second', () => ShiftPlan.canary(10, Duration.seconds(2401)), '40 minutes 1 second'],
    ['linear 1 % a minute', () => ShiftPlan.linear(1, Duration.minutes(1)), '1 hour 39 minutes'],
    ['an hour from the demo context', () => ShiftPlan.fromString('canary:10:1h'), '1 hour'],
  ])('fails when the plan is %s, naming the limit and why', (_what, make, got) => {
    expect(make).toThrow(`shiftPlan: must take at most 40 minutes from first to last step, got ${got}; use fewer or shorter steps. ` +
      'CloudFormation waits at most 60 minutes for a custom resource (its ServiceTimeout), ' +
      'and the shifter keeps 10 of them for the provider and 10 for targets still in their first health checks');
  });

  test('the contract refuses the same plans from the resource\'s properties', () => {
    expect(() => parsePlan('canary:10:2400')).not.toThrow();
    expect(() => parsePlan('canary:10:2401')).toThrow('plan: must wait at least 1 s per step and at most 2400 s in all, got 2401 s in "canary:10:2401"; ' +
      'use fewer or shorter steps. CloudFormation waits at most 60 minutes');
  });
});

describe('the waiter as the provider polls it', () => {
  test.each([
    // plan, check interval, polled plan, total
    ['all-at-once', 30, 0, 600],
    ['canary:10:300', 30, 300, 900],
    ['canary:10:300', 45, 315, 900], // 7 checks of 45 s before the second step; 13 checks of pending allowance
    ['linear:25:60', 300, 900, 1500], // each step waits for the next check, 5 minutes after the last
    ['canary:10:2400', 300, 2400, 3000],
  ])('%s checked every %i s polls %i s for the plan and %i s in all', (plan, interval, polled, total) => {
    expect(waiterSeconds(parsePlan(plan), interval)).toEqual({ plan: polled, total });
    expect(total % interval).toBe(0); // the provider needs a whole number of attempts
    expect(total).toBeLessThanOrEqual(MAX_WAIT_SECONDS);
  });
});

describe('BlueGreenRouting', () => {
  test('sets the custom resource\'s ServiceTimeout to CloudFormation\'s limit and the waiter inside it', () => {
    const { template } = routingStack({ shiftPlan: ShiftPlan.canary(10, Duration.minutes(40)), checkInterval: Duration.seconds(60) });
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', { ServiceTimeout: '3600' });
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0].Properties;
    // (2400 s of plan + 600 s for first health checks) / 60 s = 50 polls: 50 minutes, 10 less than CloudFormation waits
    expect(JSON.stringify(machine.DefinitionString)).toMatch(/\\"IntervalSeconds\\":60,\\"MaxAttempts\\":50,\\"BackoffRate\\":1/);
  });

  test('fails when the plan, as the shifter checks it, takes longer than CloudFormation leaves for it', () => {
    // 14 steps of 170 s are 2380 s, but checked every minute each step waits 3 minutes: 2520 s
    expect(() => routingStack({ shiftPlan: ShiftPlan.linear(7, Duration.seconds(170)), checkInterval: Duration.minutes(1) })).toThrow(
      'shiftPlan: a release must take at most 40 minutes from first step to end as the shifter checks it, got 42 minutes for linear:7:170, checked every 1 minute ' +
      '(each wait takes a whole number of checks); use a checkInterval that divides the waits, or fewer or shorter steps, a shorter bakeTime or hookTimeout. ' +
      'CloudFormation waits at most 60 minutes',
    );
  });

  test('counts the bake and every hook stage\'s timeout in the release, and refuses one that does not fit', () => {
    // canary: 20 minutes of plan, 10 of bake, and 4 hook stages (before, after each of 2 steps, after the bake) of 2 minutes: 38 minutes
    const { template } = routingStack({ shiftPlan: ShiftPlan.canary(10, Duration.minutes(20)), bakeTime: Duration.minutes(10) }, [], true);
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', { BakeSeconds: '600', HookTimeoutSeconds: '120' });
    expect(() => routingStack({ shiftPlan: ShiftPlan.canary(10, Duration.minutes(20)), bakeTime: Duration.minutes(15) }, [], true)).toThrow(
      'shiftPlan: a release must take at most 40 minutes from first step to end as the shifter checks it, got 43 minutes for canary:10:1200, ' +
      'a bake of 15 minutes, 4 hook stages of up to 2 minutes, checked every 30 seconds');
  });

  test.each([
    ['canary:10:300', 30, { bakeSeconds: 600, hookTimeoutSeconds: 0 }, 900, 1500],
    ['canary:10:300', 30, { bakeSeconds: 0, hookTimeoutSeconds: 120 }, 780, 1380],
    ['all-at-once', 45, { bakeSeconds: 100, hookTimeoutSeconds: 50 }, 135 + 3 * 90, 135 + 3 * 90 + 585],
  ])('%s checked every %i s with %j polls %i s for the release and %i s in all', (plan, interval, extras, polled, total) => {
    expect(waiterSeconds(parsePlan(plan), interval, extras)).toEqual({ plan: polled, total });
    expect(releaseSeconds(parsePlan(plan), extras)).toBeLessThanOrEqual(polled);
  });

  test('accepts the same plan with a check interval that divides its steps', () => {
    const { template } = routingStack({ shiftPlan: ShiftPlan.linear(7, Duration.seconds(170)), checkInterval: Duration.seconds(10) });
    template.hasResourceProperties('Custom::BlueGreenTrafficShift', { Plan: 'linear:7:170', ServiceTimeout: Match.anyValue() });
  });
});

import { Duration } from 'aws-cdk-lib/core';
import { ShiftPlan } from '../lib';

describe('ShiftPlan', () => {
  test.each([
    ['all at once', ShiftPlan.allAtOnce(), [100], 0, 'all-at-once'],
    ['a 10 % canary for 5 minutes', ShiftPlan.canary(10, Duration.minutes(5)), [10, 100], 300, 'canary:10:300'],
    ['linear, 25 % every 2 minutes', ShiftPlan.linear(25, Duration.minutes(2)), [25, 50, 75, 100], 120, 'linear:25:120'],
    ['linear, 30 % every minute (the last step takes the rest)', ShiftPlan.linear(30, Duration.minutes(1)), [30, 60, 90, 100], 60, 'linear:30:60'],
    ['from the demo context', ShiftPlan.fromString('canary:5:45s'), [5, 100], 45, 'canary:5:45'],
  ])('%s: its steps, the wait between them, and the shifter\'s form', (_, plan, steps, delay, text) => {
    expect(plan.steps).toEqual(steps);
    expect(plan.stepDelay.toSeconds()).toBe(delay);
    expect(plan.duration.toSeconds()).toBe(delay * (steps.length - 1));
    expect(plan.toString()).toBe(text);
  });

  test.each([
    [() => ShiftPlan.canary(0, Duration.minutes(1)), 'shiftPlan: the step must be a whole percentage from 1 to 99, got 0'],
    [() => ShiftPlan.canary(100, Duration.minutes(1)), 'shiftPlan: the step must be a whole percentage from 1 to 99, got 100'],
    [() => ShiftPlan.linear(10.5, Duration.minutes(1)), 'shiftPlan: the step must be a whole percentage from 1 to 99, got 10.5'],
    [() => ShiftPlan.canary(10, Duration.millis(1500)), 'shiftPlan: the wait must be whole seconds of at least 1 s, got 1 second 500 millis'],
    [() => ShiftPlan.fromString('canary:10'), 'shiftPlan: must be all-at-once, canary:<percent>:<duration> or linear:<percent>:<duration>'],
  ])('fails when given a bad step or wait (%#)', (make, message) => {
    expect(make).toThrow(message);
  });
});

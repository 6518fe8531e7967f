import { formatPlan, parsePlan, planSeconds, plannedShares } from '../../../lib/contract/traffic-shift';
import { cutOff, formatState, gateVerdict, groupStickinessOn, nextStep, outcomeOf, parseState, sameState } from '../../../lambda/traffic-shifter/plan';
import { loadModel } from '../../../local/aws-model';

const T0 = Date.parse('2026-11-24T12:00:00Z');

describe('plans', () => {
  test.each([
    ['all-at-once', [100], 0],
    ['canary:10:300', [10, 100], 300],
    ['linear:25:60', [25, 50, 75, 100], 180],
    ['linear:30:60', [30, 60, 90, 100], 180],
  ])('%s steps through %j in %i s', (text, shares, seconds) => {
    const plan = parsePlan(text);
    expect(plannedShares(plan)).toEqual(shares);
    expect(planSeconds(plan)).toBe(seconds);
    expect(formatPlan(plan)).toBe(text);
  });

  test.each([
    ['blue-green', /must be all-at-once, canary:<percent>:<seconds> or linear:<percent>:<seconds>, got "blue-green"/],
    ['canary:0:60', /the step must be a whole percentage from 1 to 99, got 0/],
    ['canary:100:60', /from 1 to 99, got 100/],
    ['linear:10:0', /must wait at least 1 s per step and at most 2400 s in all, got 0 s/],
    ['linear:1:60', /at most 2400 s in all, got 5940 s/],
    ['canary:5:2401', /got 2401 s in "canary:5:2401"; use fewer or shorter steps. CloudFormation waits at most 60 minutes/],
  ])('fails on %s', (text, message) => {
    expect(() => parsePlan(text)).toThrow(message);
  });
});

describe('nextStep', () => {
  const canary = parsePlan('canary:10:300');
  const linear = parsePlan('linear:25:60');
  const blueFull = { blue: 100, green: 0 };

  test('the first step of a deploy goes at once', () => {
    expect(nextStep({ target: 'green', plan: canary, start: blueFull, live: blueFull, lastShiftAt: T0 - 1000, now: T0 }))
      .toEqual({ action: 'shift', to: { blue: 90, green: 10 }, final: false });
  });

  test('a later step waits for the bake time after the previous shift, then completes the canary', () => {
    const state = { target: 'green' as const, plan: canary, start: blueFull, live: { blue: 90, green: 10 }, lastShiftAt: T0 };
    expect(nextStep({ ...state, now: T0 + 299_000 })).toEqual({ action: 'wait', until: T0 + 300_000 });
    expect(nextStep({ ...state, now: T0 + 300_000 })).toEqual({ action: 'shift', to: { blue: 0, green: 100 }, final: true });
  });

  test('linear goes one interval at a time and resumes from where the weights stand', () => {
    const state = { target: 'green' as const, plan: linear, start: blueFull, lastShiftAt: T0, now: T0 + 60_000 };
    expect(nextStep({ ...state, live: { blue: 75, green: 25 } })).toEqual({ action: 'shift', to: { blue: 50, green: 50 }, final: false });
    expect(nextStep({ ...state, live: { blue: 40, green: 60 } })).toEqual({ action: 'shift', to: { blue: 25, green: 75 }, final: false });
    expect(nextStep({ ...state, live: { blue: 25, green: 75 } })).toEqual({ action: 'shift', to: { blue: 0, green: 100 }, final: true });
  });

  test('all at once shifts everything in one step', () => {
    expect(nextStep({ target: 'blue', plan: parsePlan('all-at-once'), start: { blue: 0, green: 100 }, live: { blue: 0, green: 100 }, now: T0 }))
      .toEqual({ action: 'shift', to: { blue: 100, green: 0 }, final: true });
  });

  test('nothing to do when the target already has all the traffic', () => {
    expect(nextStep({ target: 'blue', plan: canary, start: blueFull, live: blueFull, now: T0 })).toEqual({ action: 'done' });
  });

  test('nothing to do calls no hook and bakes nothing: a deploy that changes nothing of the release', () => {
    expect(nextStep({ target: 'blue', plan: canary, start: blueFull, live: blueFull, now: T0, hooks: true, bakeSeconds: 600 })).toEqual({ action: 'done' });
  });
});

describe('nextStep with a bake and a hook', () => {
  const canary = parsePlan('canary:10:300');
  const blueFull = { blue: 100, green: 0 };
  const release = { target: 'green' as const, plan: canary, start: blueFull, bakeSeconds: 600, hooks: true };

  test('the hook\'s before-first-step comes first; once it passed, the first step goes at once', () => {
    expect(nextStep({ ...release, live: blueFull, now: T0 })).toEqual({ action: 'hook', stage: 'before-first-step' });
    expect(nextStep({ ...release, live: blueFull, now: T0, hookPassed: 'before-first-step' }))
      .toEqual({ action: 'shift', to: { blue: 90, green: 10 }, final: false });
  });

  test('after a step, its after-step hook, then the wait for the next step', () => {
    const after = { ...release, live: { blue: 90, green: 10 }, lastShiftAt: T0 };
    expect(nextStep({ ...after, now: T0, hookPassed: 'before-first-step' })).toEqual({ action: 'hook', stage: 'after-step', share: 10 });
    expect(nextStep({ ...after, now: T0 + 1000, hookPassed: 'after-step:10' })).toEqual({ action: 'wait', until: T0 + 300_000 });
    expect(nextStep({ ...after, now: T0 + 300_000, hookPassed: 'after-step:10' })).toEqual({ action: 'shift', to: { blue: 0, green: 100 }, final: true });
  });

  test('after the last step, its hook, then the bake until bakeSeconds after it, then the after-bake hook, then done', () => {
    const last = { ...release, live: { blue: 0, green: 100 }, lastShiftAt: T0 };
    expect(nextStep({ ...last, now: T0, hookPassed: 'after-step:10' })).toEqual({ action: 'hook', stage: 'after-step', share: 100 });
    expect(nextStep({ ...last, now: T0 + 599_000, hookPassed: 'after-step:100' })).toEqual({ action: 'bake', until: T0 + 600_000 });
    expect(nextStep({ ...last, now: T0 + 600_000, hookPassed: 'after-step:100' })).toEqual({ action: 'hook', stage: 'after-bake' });
    expect(nextStep({ ...last, now: T0 + 600_000, hookPassed: 'after-bake' })).toEqual({ action: 'done' });
  });

  test('without a hook: the bake alone, then done', () => {
    const last = { ...release, hooks: false, live: { blue: 0, green: 100 }, lastShiftAt: T0 };
    expect(nextStep({ ...last, now: T0 + 1000 })).toEqual({ action: 'bake', until: T0 + 600_000 });
    expect(nextStep({ ...last, now: T0 + 600_000 })).toEqual({ action: 'done' });
  });

  test('a hook that passed in an earlier stage does not count for a later one', () => {
    expect(nextStep({ ...release, live: { blue: 90, green: 10 }, lastShiftAt: T0, now: T0 + 300_000, hookPassed: 'before-first-step' }))
      .toEqual({ action: 'hook', stage: 'after-step', share: 10 });
  });
});

describe('gateVerdict', () => {
  const base = { color: 'green' as const, minHealthy: 2, alarmNames: [], alarmStates: {} };
  const gates = { alarmNames: ['green-5xx', 'green-latency'] };

  test('passes with enough healthy targets and no alarm', () => {
    expect(gateVerdict({ ...base, targetStates: { healthy: 2, draining: 1 } })).toEqual({ verdict: 'pass' });
  });

  test('fails on any alarm in ALARM and names it', () => {
    expect(gateVerdict({ ...base, ...gates, targetStates: { healthy: 5 }, alarmStates: { 'green-5xx': 'ALARM', 'green-latency': 'ALARM' } }))
      .toEqual({ verdict: 'fail', reason: 'alarm gate failed: green-5xx, green-latency in ALARM' });
  });

  test('passes alarms that are OK or lack data', () => {
    expect(gateVerdict({ ...base, ...gates, targetStates: { healthy: 2 }, alarmStates: { 'green-5xx': 'OK', 'green-latency': 'INSUFFICIENT_DATA' } }))
      .toEqual({ verdict: 'pass' });
  });

  test('fails on an alarm it could not read instead of passing it unseen', () => {
    expect(gateVerdict({ ...base, ...gates, targetStates: { healthy: 2 }, alarmStates: { 'green-5xx': 'OK' } })).toEqual({
      verdict: 'fail',
      reason: expect.stringMatching(/^alarm gate failed: green-latency not found, so not checked; a deleted alarm, or a composite alarm the shifter may not read/),
    });
  });

  test('waits while targets are still in their initial health checks', () => {
    expect(gateVerdict({ ...base, targetStates: { healthy: 1, initial: 1 } }))
      .toEqual({ verdict: 'pending', reason: 'health gate waiting: green has 1 healthy target, needs at least 2 (healthy 1, initial 1)' });
  });

  test('fails with what it saw when too few targets are healthy', () => {
    expect(gateVerdict({ ...base, targetStates: { healthy: 1, unhealthy: 3 } }))
      .toEqual({ verdict: 'fail', reason: 'health gate failed: green has 1 healthy target, needs at least 2 (healthy 1, unhealthy 3)' });
    expect(gateVerdict({ ...base, targetStates: {} }))
      .toEqual({ verdict: 'fail', reason: 'health gate failed: green has 0 healthy targets, needs at least 2 (no targets)' });
  });

  test('fails on unused targets, saying what ELB means by it', () => {
    expect(gateVerdict({ ...base, targetStates: { unused: 2 } })).toEqual({
      verdict: 'fail',
      reason: 'health gate failed: green has 0 healthy targets, needs at least 2 (unused 2); unused targets are in an Availability Zone ' +
        'the load balancer does not serve, or their group is named by no action (Target.NotInUse)',
    });
  });
});

describe('the rule\'s tag', () => {
  const tagValue = loadModel('elbv2').shapes.TagValue;

  test.each([
    [{ weights: { blue: 100, green: 0 } }, 'blue=100/green=0'],
    [{ weights: { blue: 90, green: 10 } }, 'blue=90/green=10'],
    [{ weights: { blue: 1, green: 99 } }, 'blue=1/green=99'],
    [{ weights: { blue: 0, green: 100 } }, 'blue=0/green=100'],
    [{ weights: { blue: 100, green: 0 }, cut: 'green' as const }, 'blue=100/green=0/cut=green'],
    [{ weights: { blue: 0, green: 100 }, cut: 'blue' as const }, 'blue=0/green=100/cut=blue'],
  ])('%j is written %s, round-trips, and is a value ELBv2 accepts', (state, text) => {
    expect(formatState(state)).toBe(text);
    expect(parseState(text)).toEqual(state);
    expect(text).toMatch(new RegExp(tagValue.pattern!, 'u'));
    expect(text.length).toBeLessThanOrEqual(tagValue.max!);
  });

  test.each([
    'blue=90,green=10', 'green=10/blue=90', 'blue=90/green=10 ', 'blue=1000/green=0', 'blue=90/', 'red=100', '',
    // The form of 0.1.0's cut-off (one group in the action), and a cut color that still has a weight.
    'blue=100', 'blue=90/green=10/cut=green', 'blue=100/green=0/cut=red',
  ])('reads %j as nothing', (text) => {
    expect(parseState(text)).toBeUndefined();
  });

  test('reads a missing tag as nothing', () => {
    expect(parseState(undefined)).toBeUndefined();
  });
});

describe('a failed gate', () => {
  test('cuts the failed color off: weight 0, no group stickiness, the other at full weight', () => {
    expect(cutOff('green')).toEqual({ weights: { blue: 100, green: 0 }, cut: 'green' });
    expect(cutOff('blue')).toEqual({ weights: { blue: 0, green: 100 }, cut: 'blue' });
    expect(groupStickinessOn(cutOff('green'), 86400)).toBe(false);
    expect(groupStickinessOn({ weights: { blue: 100, green: 0 } }, 86400)).toBe(true);
    expect(groupStickinessOn({ weights: { blue: 100, green: 0 } }, 0)).toBe(false);
  });

  test('is reported as rolled back; both colors in the rule, as shifted', () => {
    expect(outcomeOf(cutOff('green'))).toBe('rolled-back');
    expect(outcomeOf({ weights: { blue: 100, green: 0 } })).toBe('shifted');
  });

  test('leaves a state that differs from the same weights with both colors, so the tag tells them apart', () => {
    expect(sameState(cutOff('green'), { weights: { blue: 100, green: 0 } })).toBe(false);
    expect(sameState(cutOff('green'), cutOff('green'))).toBe(true);
  });
});

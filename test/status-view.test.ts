/**
 * The status command's reading of a release, without AWS: what it shows for
 * each stage the shifter can be in (the shifter's own tags, parsed by the
 * shifter's own functions), and its command line. The command against the
 * lab's endpoint is test/status-cli.test.ts.
 */
import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { UsageError, parseArgs } from '../cli/args';
import { GateConfig } from '../cli/aws';
import { Snapshot, changeKey, formatDuration, isSessionsLostAlarm, render, ruleGroups, viewOf } from '../cli/view';
import { TAG_SHIFTED_AT, TAG_WEIGHTS, RELEASE_TAGS, formatHookProgress, formatRelease } from '../lambda/traffic-shifter/release';

const RULE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/73e2d6bc24d8a067';
const GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/2453ed029918f21f';
const T0 = Date.parse('2026-11-24T12:00:00.000Z');
const GATE: GateConfig = { alarmNames: ['demo-GreenSessionsLost-1'], minHealthyTargets: 2, unresolved: [] };

/** The rule's forward action as the shifter sets it: blue's group first, green's second. */
function rule(blue: number, green: number, stickiness = 86400): Rule {
  return {
    RuleArn: RULE, Priority: '50000',
    Actions: [{
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [{ TargetGroupArn: BLUE, Weight: blue }, { TargetGroupArn: GREEN, Weight: green }],
        TargetGroupStickinessConfig: stickiness > 0 ? { Enabled: true, DurationSeconds: stickiness } : { Enabled: false },
      },
    }],
  };
}

/** A read of a release to green begun at T0 with `plan`, its rule at `weights`, last changed at `shiftedAt`, read at `now`. */
function snapshot(o: {
  plan?: string; bake?: number; hooks?: boolean; weights: [number, number]; cut?: 'green'; shiftedAt: number; now: number;
  start?: [number, number]; hookTag?: string; stackStatus?: string; action?: [number, number];
}): Snapshot {
  const [blue, green] = o.weights;
  const start = o.start ?? [100, 0];
  const [liveBlue, liveGreen] = o.action ?? o.weights;
  return {
    ruleArn: RULE,
    rule: rule(liveBlue, liveGreen, o.cut ? 0 : 86400),
    tags: {
      [TAG_WEIGHTS]: `blue=${blue}/green=${green}${o.cut ? `/cut=${o.cut}` : ''}`,
      [TAG_SHIFTED_AT]: new Date(o.shiftedAt).toISOString(),
      [RELEASE_TAGS.RELEASE]: formatRelease({
        at: T0, target: 'green', plan: o.plan ?? 'linear:25:120', bakeSeconds: o.bake ?? 0, start: { blue: start[0], green: start[1] }, hooks: o.hooks ?? false,
      }),
      ...o.hookTag ? { [RELEASE_TAGS.HOOK]: o.hookTag } : {},
    },
    targets: {
      blue: [{ id: 'i-b1', state: 'healthy' }, { id: 'i-b2', state: 'draining', reason: 'Target.DeregistrationInProgress' }],
      green: [{ id: 'i-g1', state: 'healthy' }, { id: 'i-g2', state: 'healthy' }, { id: 'i-g3', state: 'initial', reason: 'Elb.InitialHealthChecking' }],
    },
    alarms: [{ name: 'demo-GreenSessionsLost-1', state: 'OK' }],
    testRules: [],
    gate: GATE,
    ...o.stackStatus ? { stack: { stackName: 'demo', logicalId: 'RoutingTrafficShift', resourceStatus: o.stackStatus } } : {},
    now: o.now,
  };
}

test('between two steps of a linear plan: the step reached, the time to the next, each color\'s targets by state', () => {
  const view = viewOf(snapshot({ weights: [50, 50], start: [100, 0], shiftedAt: T0 + 120_000, now: T0 + 150_000 }));
  expect(view).toMatchObject({
    progress: { step: 2, of: 4, share: 50 },
    next: { action: 'wait', text: 'step to green 75 % in 1m30s, once the gates pass', at: new Date(T0 + 240_000).toISOString(), inSeconds: 90 },
    outcome: 'shifting', ended: false,
    gates: {
      color: 'green', minHealthyTargets: 2, verdict: { verdict: 'pass' },
      health: { blue: { healthy: 1, total: 2, states: { healthy: 1, draining: 1 } }, green: { healthy: 2, total: 3, states: { healthy: 2, initial: 1 } } },
    },
  });
  const text = render(view);
  expect(text).toContain('\n  blue       1/2 healthy (1 draining); draining: Target.DeregistrationInProgress\n');
  expect(text).toContain('\n  green      2/3 healthy (1 initial); initial: Elb.InitialHealthChecking\n');
  expect(text).toContain('\n  alarm      demo-GreenSessionsLost-1: OK (sessions lost)\n');
  expect(text).toContain('\nplan         linear:25:120: green 25 % -> 50 % -> 75 % -> 100 %, 2m00s between steps; bake none; hooks no\n');
});

test('after the last step with a bake: baking, with the time left; done once the bake is over', () => {
  const baking = viewOf(snapshot({ plan: 'canary:10:300', bake: 600, weights: [0, 100], shiftedAt: T0 + 300_000, now: T0 + 360_000 }));
  expect(baking).toMatchObject({ outcome: 'baking', ended: false, bake: { seconds: 600, remainingSeconds: 540 }, next: { action: 'bake', inSeconds: 540 } });
  expect(render(baking)).toMatch(/^bake {9}9m00s left of 10m00s$/m);
  expect(viewOf(snapshot({ plan: 'canary:10:300', bake: 600, weights: [0, 100], shiftedAt: T0 + 300_000, now: T0 + 900_000 })))
    .toMatchObject({ outcome: 'done', ended: true, next: { action: 'done' } });
});

test('a hook: asked before the first step, IN_PROGRESS; progress an earlier release left does not count', () => {
  const asking = formatHookProgress({ releaseAt: T0, stage: 'before-first-step', status: 'asking', since: T0 + 1000, attempts: 3 });
  const view = viewOf(snapshot({ hooks: true, weights: [100, 0], shiftedAt: T0 - 86_400_000, now: T0 + 61_000, hookTag: asking }));
  expect(view).toMatchObject({
    next: { action: 'hook', text: 'the hook at before-first-step, at the shifter\'s next poll; then the release goes on once it answers SUCCEEDED' },
    hook: { text: 'before-first-step answers IN_PROGRESS, asked 3 times since 1m00s ago' },
    outcome: 'shifting', ended: false,
  });
  const earlier = formatHookProgress({ releaseAt: T0 - 1000, stage: 'after-bake', status: 'passed', since: T0 - 1000, attempts: 1 });
  expect(viewOf(snapshot({ hooks: true, weights: [100, 0], shiftedAt: T0 - 86_400_000, now: T0 + 1000, hookTag: earlier })).hook)
    .toEqual({ text: 'not asked yet in this release' });
});

test('a cut in this release ends it (exit 3); a cut before the release began does not: the release shifts from it', () => {
  const cut = viewOf(snapshot({ weights: [100, 0], cut: 'green', shiftedAt: T0 + 5000, now: T0 + 6000 }));
  expect(cut).toMatchObject({ outcome: 'cut off', ended: true, cut: 'green' });
  expect(render(cut)).toMatch(/^weights {6}blue 100 \/ green 0, green cut off \(no group stickiness\)$/m);
  const before = viewOf(snapshot({ weights: [100, 0], cut: 'green', shiftedAt: T0 - 5000, now: T0 + 6000 }));
  expect(before).toMatchObject({ outcome: 'shifting', ended: false, next: { action: 'shift' } });
});

test('a step long overdue says so; a stack that no longer waits on the shift ends the watch', () => {
  const overdue = viewOf(snapshot({ weights: [75, 25], shiftedAt: T0, now: T0 + 420_000 }));
  expect(overdue.next.text).toBe('step to green 50 % at the shifter\'s next poll, once the gates pass (due 5m00s ago)');
  expect(viewOf(snapshot({ weights: [75, 25], shiftedAt: T0, now: T0 + 130_000 })).next.text).toBe('step to green 50 % at the shifter\'s next poll, once the gates pass');
  const failed = viewOf(snapshot({ weights: [75, 25], shiftedAt: T0, now: T0 + 420_000, stackStatus: 'UPDATE_FAILED' }));
  expect(failed).toMatchObject({ outcome: 'shifting', ended: true });
  expect(failed.notes).toEqual(['CloudFormation no longer waits on the traffic shift (UPDATE_FAILED): the rule stays as it is until the next deploy']);
  expect(viewOf(snapshot({ weights: [75, 25], shiftedAt: T0, now: T0 + 60_000, stackStatus: 'UPDATE_IN_PROGRESS' })).ended).toBe(false);
});

test('the colors of the action\'s two groups: blue first as the shifter lists them, unless the recorded weights say the other way round', () => {
  const reversed: Rule = { ...rule(75, 25), Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: GREEN, Weight: 25 }, { TargetGroupArn: BLUE, Weight: 75 }] } }] };
  expect(ruleGroups(reversed, { [TAG_WEIGHTS]: 'blue=75/green=25' })).toMatchObject({ groups: { blue: BLUE, green: GREEN }, weights: { blue: 75, green: 25 } });
  expect(ruleGroups(rule(75, 25), { [TAG_WEIGHTS]: 'blue=75/green=25' })).toMatchObject({ groups: { blue: BLUE, green: GREEN }, weights: { blue: 75, green: 25 } });
  // Equal weights say nothing: the shifter's order.
  expect(ruleGroups(rule(50, 50), { [TAG_WEIGHTS]: 'blue=50/green=50' })).toMatchObject({ groups: { blue: BLUE, green: GREEN } });
});

test('a rule changed outside the shifter, and a rule with no release, are said to be', () => {
  const changed = viewOf(snapshot({ weights: [75, 25], action: [50, 50], shiftedAt: T0, now: T0 + 1000 }));
  expect(changed.notes).toEqual(['the rule\'s action has blue=50/green=50 but the shifter last set blue=75/green=25: someone changed it, and the shifter\'s next deploy will stop on it']);
  const bare = snapshot({ weights: [100, 0], shiftedAt: T0, now: T0 + 1000 });
  const none = viewOf({ ...bare, tags: { [TAG_WEIGHTS]: 'blue=100/green=0' } });
  expect(none).toMatchObject({ outcome: 'unknown', ended: true, next: { action: 'none' } });
  expect(none.notes).toEqual([`the rule has no ${RELEASE_TAGS.RELEASE} tag the shifter wrote: no release to follow`]);
  const odd = viewOf({ ...bare, tags: { ...bare.tags, [RELEASE_TAGS.RELEASE]: bare.tags[RELEASE_TAGS.RELEASE].replace('plan=linear:25:120', 'plan=exponential:2') } });
  expect(odd).toMatchObject({ outcome: 'unknown', ended: true });
  expect(odd.notes).toEqual([expect.stringMatching(/^the release's plan cannot be read \(plan: must be all-at-once, canary:<percent>:<seconds> or linear:<percent>:<seconds>, got "exponential:2"\)/)]);
});

test('a new summary is printed for a change, not for the countdown', () => {
  const at = (now: number, weights: [number, number]) => changeKey(viewOf(snapshot({ weights, shiftedAt: T0, now })));
  expect(at(T0 + 10_000, [75, 25])).toBe(at(T0 + 20_000, [75, 25]));
  expect(at(T0 + 10_000, [75, 25])).not.toBe(at(T0 + 10_000, [50, 50]));
});

test('the sessions-lost alarm by the id the dashboard gives it; durations', () => {
  expect(['demo-GreenSessionsLostA1B2-XYZ', 'demo-GreenHttp5xxRate-XYZ'].map(isSessionsLostAlarm)).toEqual([true, false]);
  expect([0, 45, 60, 245, 3600, 3725].map(formatDuration)).toEqual(['0s', '45s', '1m00s', '4m05s', '1h00m', '1h02m']);
});

describe('the command line', () => {
  test('the region from the ARN unless given; --flag=value; switches', () => {
    expect(parseArgs(['status', '--rule-arn', RULE, '--once'])).toEqual({
      locator: { kind: 'rule', ruleArn: RULE }, region: 'eu-west-1', once: true, intervalSeconds: 10, json: false, alarmNames: [], minHealthyTargets: undefined,
    });
    expect(parseArgs(['status', `--rule-arn=${RULE}`, '--region=us-east-2', '--json', '--alarm', 'a', '--alarm', 'b', '--min-healthy', '2', '--interval', '2.5']))
      .toMatchObject({ region: 'us-east-2', json: true, alarmNames: ['a', 'b'], minHealthyTargets: 2, intervalSeconds: 2.5 });
    expect(parseArgs(['status', '--stack', 'demo', '--logical-id', 'RoutingTrafficShift'])).toMatchObject({
      locator: { kind: 'stack', stackName: 'demo', logicalId: 'RoutingTrafficShift' }, region: undefined,
    });
  });

  test('usage errors name the flag, the value and what is allowed', () => {
    const error = (argv: string[]) => {
      try {
        parseArgs(argv);
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    };
    expect(error(['deploy'])).toBe('UsageError: unknown command "deploy"; the command is status');
    expect(error(['status', '--rule-arn'])).toBe('UsageError: --rule-arn: needs a value');
    expect(error(['status', '--rule-arn', RULE, '--rule-arn', RULE])).toBe('UsageError: --rule-arn: given 2 times, once at most');
    expect(error(['status', '--rule-arn', RULE, '--logical-id', 'X'])).toBe('UsageError: --logical-id: only with --stack');
    expect(error(['status', '--rule-arn', RULE, '--min-healthy', 'two'])).toBe('UsageError: --min-healthy: must be a whole number, got "two"');
    expect(error(['status', '--rule-arn', RULE, '--region', 'Ireland'])).toBe('UsageError: --region: must be a region name such as eu-west-1, got "Ireland"');
    expect(error(['status', '--listener-arn', RULE])).toMatch(/^UsageError: --listener-arn: must be an ELBv2 listener ARN/);
    expect(() => parseArgs([])).toThrow(UsageError);
  });
});

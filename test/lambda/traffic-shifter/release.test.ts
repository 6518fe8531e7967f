import { formatHookProgress, formatRelease, parseHookProgress, parseRelease, passedStage } from '../../../lambda/traffic-shifter/release';
import { loadModel } from '../../../local/aws-model';

const T0 = Date.parse('2026-11-24T12:00:00.000Z');
const tagValue = loadModel('elbv2').shapes.TagValue;
const release = { at: T0, target: 'green' as const, plan: 'linear:10:60', bakeSeconds: 600, start: { blue: 100, green: 0 }, hooks: true };

describe('what the shifter records about a release on its rule', () => {
  test('the release round-trips, and is a tag value ELBv2 accepts', () => {
    const text = formatRelease(release);
    expect(text).toBe('at=2026-11-24T12:00:00.000Z target=green plan=linear:10:60 bake=600 start=blue=100/green=0 hooks=yes');
    expect(parseRelease(text)).toEqual(release);
    expect(text).toMatch(new RegExp(tagValue.pattern!, 'u'));
    expect(text.length).toBeLessThanOrEqual(tagValue.max!);
  });

  test('the hook\'s progress round-trips, and is a tag value ELBv2 accepts', () => {
    const progress = { releaseAt: T0, stage: 'after-step:10', status: 'asking' as const, since: T0 + 5000, attempts: 3 };
    const text = formatHookProgress(progress);
    expect(parseHookProgress(text)).toEqual(progress);
    expect(text).toMatch(new RegExp(tagValue.pattern!, 'u'));
    expect(text.length).toBeLessThanOrEqual(tagValue.max!);
  });

  test.each(['', 'at=yesterday target=green plan=x bake=0 start=blue=100/green=0 hooks=no', 'at=2026-11-24T12:00:00.000Z target=red plan=x bake=0 start=blue=100/green=0 hooks=no'])(
    'reads %j as no release', (text) => {
      expect(parseRelease(text)).toBeUndefined();
    });

  test('a stage counts as passed only for the release it was recorded in, and only when it passed', () => {
    const passed = { releaseAt: T0, stage: 'before-first-step', status: 'passed' as const, since: T0, attempts: 1 };
    expect(passedStage(release, passed)).toBe('before-first-step');
    expect(passedStage({ ...release, at: T0 + 1 }, passed)).toBeUndefined();
    expect(passedStage(release, { ...passed, status: 'asking' })).toBeUndefined();
    expect(passedStage(undefined, passed)).toBeUndefined();
  });
});

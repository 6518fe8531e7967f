/**
 * Issue 26's gates in the lab, through the real shifter: a release to a
 * green whose store is wrong stopped at its canary by the session-continuity
 * alarm the apps' own metrics raise (k), and a tester on green through the
 * test traffic rules before the first step while users stay on blue (l).
 * The alarm's evaluation itself: the deployed expression, CloudWatch's
 * missing data and initial state.
 */
import { once } from 'events';
import { connect } from 'net';
import { ContinuityAlarm, EmfCollector, evaluateMetricMath } from '../../lab/elb/cloudwatch';
import { TEST_TRAFFIC, gateSequence, wrongStoreRelease } from '../../lab/release-gates';
import { ReleaseStep } from '../../lab/releases';
import { SESSION_CONTINUITY_DEFAULTS, continuityExpression, lostShare } from '../../lib/contract/session-continuity';
import { waitFor } from '../../local/ports';

jest.setTimeout(180_000);

describe('the session-continuity alarm as the lab evaluates it', () => {
  const expression = continuityExpression(SESSION_CONTINUITY_DEFAULTS.minimumLost);

  test('the deployed expression gives what lostShare gives, FILL standing in for a missing metric', () => {
    for (const [lost, loaded] of [[0, 0], [2, 0], [3, 0], [3, 57], [10, 90], [1, 1000], [50, 0]]) {
      expect(evaluateMetricMath(expression, { lost, loaded })).toBeCloseTo(lostShare(lost, loaded, SESSION_CONTINUITY_DEFAULTS.minimumLost));
    }
    expect(evaluateMetricMath(expression, { lost: 4, loaded: undefined })).toBe(100);
    expect(evaluateMetricMath(expression, { lost: undefined, loaded: 20 })).toBe(0);
    // A function the lab does not evaluate, or a metric the expression does not have, is refused by name, not read wrong.
    expect(() => evaluateMetricMath('RATE(lost)', { lost: 1 })).toThrow(/not RATE/);
    expect(() => evaluateMetricMath(expression, { lost: 1 })).toThrow(/names loaded/);
  });

  test('INSUFFICIENT_DATA until a period has passed since its creation, OK on a period without data (notBreaching), ALARM above the threshold once the minimum is lost', () => {
    const points: Array<{ at: number; lost: number; loaded: number }> = [];
    const collector = { sum: (metric: string, _color: string, from: number, to: number) => {
      const inWindow = points.filter((p) => p.at >= from && p.at < to);
      return inWindow.length === 0 ? undefined : inWindow.reduce((a, p) => a + (metric === 'SessionsLost' ? p.lost : p.loaded), 0);
    } } as unknown as EmfCollector;
    const alarm = new ContinuityAlarm(collector, 'green', { periodMs: 1000 }, 10_500);
    expect(alarm.read(11_200).state).toBe('INSUFFICIENT_DATA'); // the last complete period began before the alarm existed
    expect(alarm.read(12_100).state).toBe('OK'); // [11000, 12000): no datapoint, treated as not breaching
    points.push({ at: 12_100, lost: 2, loaded: 0 }, { at: 12_600, lost: 1, loaded: 50 });
    expect(alarm.read(13_000)).toMatchObject({ state: 'ALARM' }); // 3 lost of 53: 5.7 % > 5 %
    expect(alarm.read(13_000).value).toBeCloseTo(300 / 53);
    points.push({ at: 13_100, lost: 2, loaded: 0 });
    expect(alarm.read(14_000)).toMatchObject({ state: 'OK', value: 0 }); // 2 lost: under the minimum
    points.push({ at: 14_100, lost: 5, loaded: 95 });
    expect(alarm.read(15_000)).toMatchObject({ state: 'OK', value: 5 }); // GreaterThanThreshold: 5 % is not above 5 %
  });

  test('the collector takes EMF documents as the agent does, per color and period, and refuses what is not EMF', async () => {
    const collector = await EmfCollector.start();
    try {
      const port = Number(collector.endpoint.split(':').pop());
      const doc = (color: string, lost: number, at: number) => JSON.stringify({
        _aws: { Timestamp: at, CloudWatchMetrics: [{ Namespace: 'SessionTier/App', Dimensions: [['Color'], ['Color', 'Strategy', 'Version']], Metrics: [{ Name: 'SessionsLost', Unit: 'Count' }] }] },
        Color: color, Strategy: 'memory', Version: 'v2', SessionsLost: lost,
      });
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.end([doc('green', 4, 1000), doc('green', 1, 1500), doc('blue', 7, 1200), 'not json', '{"no":"_aws"}', ''].join('\n'));
      await waitFor('five lines', async () => collector.documents + collector.rejected === 5);
      expect([collector.sum('SessionsLost', 'green', 1000, 2000), collector.sum('SessionsLost', 'blue', 1000, 2000), collector.sum('SessionsLost', 'green', 2000, 3000)])
        .toEqual([5, 7, undefined]);
      expect(collector.rejected).toBe(2);
    } finally {
      await collector.stop();
    }
  });
});

describe('(k) a release to a green whose store is wrong, with the session-continuity gate', () => {
  let k: ReleaseStep;
  beforeAll(async () => {
    // No window beyond the deploy: the test needs the cut-off, not the comparison with (j).
    [k] = await wrongStoreRelease(true, { users: 8, rounds: 4 }, 0);
  });

  test('stopped at the canary by the alarm the apps\' own SessionsLost raised: green cut off, the stack rolled back', () => {
    expect(k.stack).toMatch(/^UPDATE_ROLLBACK_COMPLETE \(Update, rollback Update\)/);
    expect(k.note).toMatch(/CloudFormation: alarm gate failed: GreenSessionsLost in ALARM; between steps/);
    expect(k.note).toMatch(/rule blue=100\/green=0, no group stickiness/);
    expect(k.figures?.usersOnGreen).toBeGreaterThan(0);
    // Nobody is sent to green once it is cut off, and only users who reached green lost their session.
    expect(k.sentToFailed).toMatchObject({ afterChange: 0 });
    expect(k.lost).toBeGreaterThan(0);
    expect(k.lost).toBeLessThanOrEqual(k.figures!.usersOnGreen);
  });
});

describe('(l) a tester on green before the first step', () => {
  let l: ReleaseStep;
  beforeAll(async () => {
    [l] = await gateSequence({ users: 8, rounds: 4 }, ['l']);
  });

  test('the header and the cookie reach green through the test rules while every user request goes to blue; then the release goes on', () => {
    const f = l.figures!;
    expect(f.headerRequests).toBeGreaterThanOrEqual(10);
    expect(f.cookieRequests).toBeGreaterThanOrEqual(10);
    expect({ header: f.headerOnGreen, cookie: f.cookieOnGreen }).toEqual({ header: f.headerRequests, cookie: f.cookieRequests });
    expect(f.userRequests).toBeGreaterThan(0);
    expect(f.userRequestsOnGreen).toBe(0);
    expect(f.testerLost).toBe(0);
    expect(l.stack).toMatch(/^UPDATE_COMPLETE/);
    expect(l.note).toMatch(/hook: before-first-step IN_PROGRESS(×\d+)?, before-first-step SUCCEEDED, after-step:25 SUCCEEDED/);
    expect(l.note).toContain('rule blue=0/green=100');
    expect(TEST_TRAFFIC.rulePriority).toBeLessThan(50_000);
  });
});

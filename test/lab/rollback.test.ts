/**
 * The lab's model of a failed canary's rollback: the rule states the shifter
 * sets, as HAProxy takes them; users pinned by AWSALBTG as the ALB pins them;
 * and a short run of the failed canary, rolled back as the shifter does it
 * and as the rollback before it did.
 */
import { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { checkRule, ruleMap, targetStateOf } from '../../lab/haproxy';
import { Lab } from '../../lab/lab';
import { RollbackResult, failedCanary, rollbackProblems } from '../../lab/rollback';
import { chartSvg, markdownTable } from '../../lab/run-scenarios';
import { LB_DAY } from '../../lab/scenarios';
import { shiftInLab } from '../../lab/shifter';
import { parsePlan } from '../../lib/contract/traffic-shift';
import { forwardAction } from '../../lambda/traffic-shifter/elb';
import { RuleState, cutOff, gateVerdict } from '../../lambda/traffic-shifter/plan';
import { Client } from '../../local/http-client';

jest.setTimeout(120_000);

const GROUPS = { blue: 'arn:blue', green: 'arn:green' };

/** What the ALB does with the action the shifter sends, in the lab map's terms. */
function fromAction(action: Action): Record<string, number> {
  const targets = action.ForwardConfig!.TargetGroups!;
  const weight = (arn: string) => targets.find((t) => t.TargetGroupArn === arn)?.Weight ?? 0;
  const sticky = action.ForwardConfig!.TargetGroupStickinessConfig!;
  return {
    'weight.blue': weight(GROUPS.blue),
    'weight.green': weight(GROUPS.green),
    total: weight(GROUPS.blue) + weight(GROUPS.green),
    'in.blue': targets.some((t) => t.TargetGroupArn === GROUPS.blue) ? 1 : 0,
    'in.green': targets.some((t) => t.TargetGroupArn === GROUPS.green) ? 1 : 0,
    'group.seconds': sticky.Enabled ? sticky.DurationSeconds! : 0,
  };
}

describe('the rule states, as HAProxy takes them', () => {
  const states: Array<[string, RuleState]> = [
    ['both colors', { weights: { blue: 90, green: 10 } }],
    ['green at weight 0', { weights: { blue: 100, green: 0 } }],
    ['cut off to blue', cutOff('green')],
    ['cut off to green', cutOff('blue')],
  ];

  test.each(states.flatMap(([name, state]) => [[name, 86400, state], [name, 0, state]] as const))(
    '%s, group stickiness %d s: the lab forwards where the shifter\'s action forwards', (_, seconds, state) => {
      expect(ruleMap(state, seconds)).toEqual(fromAction(forwardAction(GROUPS, state, seconds)));
    });

  test('the comparison catches a lab that would ignore the cut-off (group stickiness kept for the failed color)', () => {
    const cut = cutOff('green');
    expect(ruleMap({ weights: cut.weights }, 86400)).not.toEqual(fromAction(forwardAction(GROUPS, cut, 86400)));
    expect(ruleMap(cut, 86400)).toMatchObject({ 'weight.green': 0, 'group.seconds': 0 });
  });

  test('fails when a rule sends users to a color the lab does not run, or to nobody', () => {
    expect(() => checkRule(cutOff('blue'), false)).toThrow('rule: blue=0/green=100/cut=blue sends users to green, but the lab runs blue alone');
    expect(() => checkRule({ weights: { blue: 0, green: 0 } }, true)).toThrow('weights: blue and green must not both be 0');
    expect(() => checkRule(cutOff('green'), false)).not.toThrow();
  });

  test.each([
    ['UP', 'healthy'], ['UP 1/2', 'healthy'], ['DOWN', 'unhealthy'], ['DOWN 1/2', 'unhealthy'],
    ['MAINT', 'unused'], ['DRAIN', 'draining'], ['NOLB', 'draining'], ['no check', 'unavailable'],
  ])('HAProxy\'s %s is the ALB\'s %s', (status, state) => {
    expect(targetStateOf(status)).toBe(state);
  });
});

test('HAProxy keeps a user pinned to green at weight 0 and with no healthy target, as the ALB does; the cut-off rule sends them to blue', async () => {
  const lab = await Lab.start({
    blue: { strategy: 'memory', instances: 1, stickiness: LB_DAY },
    green: { strategy: 'memory', instances: 1, stickiness: LB_DAY },
    weights: { blue: 100, green: 0 },
  });
  try {
    // The shifter's decisions pass a healthy green through the whole canary.
    const shifted = await shiftInLab(lab, { target: 'green', plan: parsePlan('canary:25:1'), minHealthy: 1 });
    expect(shifted).toMatchObject({ outcome: 'shifted', steps: [{ blue: 75, green: 25 }, { blue: 0, green: 100 }] });

    const pinned = new Client(lab.url);
    const click = async (user: Client) => {
      const res = await user.post('/api/counter');
      return { status: res.status, color: res.headers.get('x-lab-color'), counter: res.json?.counter, tg: user.lastSetCookie.some((c) => c.startsWith('AWSALBTG=')) };
    };
    expect(await click(pinned)).toEqual({ status: 200, color: 'green', counter: 1, tg: true });

    await lab.setWeights(100, 0);
    expect(await click(pinned)).toEqual({ status: 200, color: 'green', counter: 2, tg: false });
    expect(await click(new Client(lab.url))).toMatchObject({ color: 'blue' });

    const toGreen = await lab.haproxy!.requestsTo('green');
    await lab.setRule(cutOff('green'));
    // Memory: the session stayed on green; blue starts a new one, and no AWSALBTG pins anyone.
    expect(await click(pinned)).toEqual({ status: 200, color: 'blue', counter: 1, tg: false });
    expect(await click(new Client(lab.url))).toEqual({ status: 200, color: 'blue', counter: 1, tg: false });
    expect(await lab.haproxy!.requestsTo('green')).toBe(toGreen);

    // The next shift names both groups again: the old AWSALBTG, not yet expired, counts again.
    await lab.setWeights(50, 50);
    expect(await click(pinned)).toMatchObject({ status: 200, color: 'green' });

    await lab.kill('green-1');
    await lab.waitUntilDown('green-1');
    expect(gateVerdict({ color: 'green', targetStates: await lab.haproxy!.targetStates('green'), minHealthy: 1, alarmNames: [], alarmStates: {} }))
      .toEqual({ verdict: 'fail', reason: 'health gate failed: green has 0 healthy targets, needs at least 1 (unhealthy 1)' });
    // No healthy target, still pinned: a 503 from green, not a new choice.
    expect(await click(pinned)).toMatchObject({ status: 503, color: 'green' });
  } finally {
    await lab.stop();
  }
});

describe('a failed canary rolled back (short run)', () => {
  const SIZE = { users: 12, rounds: 6 };
  const results: RollbackResult[] = [];
  afterAll(() => {
    // The same renderers as npm run lab:scenarios: the row, and the chart's panel of users still sent to green.
    expect(markdownTable(results)).toContain('| failed canary | redis on both colors');
    expect(chartSvg(results)).toContain('Failed canary: users on green still sent there after the rule change');
  });

  test('redis: the shifter\'s cut-off sends nobody to green after the rule change and loses no session', async () => {
    const r = await failedCanary('redis', 'cut off', SIZE);
    results.push(r);
    expect(r.onGreen).toBeGreaterThan(0); // the canary did put users on green
    expect(r.ruleAfter).toBe('blue=100/green=0/cut=green');
    expect(rollbackProblems(r)).toEqual([]);
    expect({ bounced: r.bounced, stuck: r.stuckOnGreen, lost: r.sessionsLost }).toEqual({ bounced: r.onGreen, stuck: 0, lost: 0 });
    // The check catches what it is for.
    expect(rollbackProblems({ ...r, sessionsLost: 1 })).toEqual(['1 sessions lost with redis, a shared store; none may be']);
    expect(rollbackProblems({ ...r, lostOnBlue: 1 })).toEqual(['1 users not on green lost their session']);
  });

  test('memory: the cut-off sends nobody to green; exactly the users on green lose their session', async () => {
    const r = await failedCanary('memory', 'cut off', SIZE);
    results.push(r);
    expect(r.onGreen).toBeGreaterThan(0);
    expect(rollbackProblems(r)).toEqual([]);
    expect({ lostOnGreen: r.lostOnGreen, lostOnBlue: r.lostOnBlue }).toEqual({ lostOnGreen: r.onGreen, lostOnBlue: 0 });
  });

  test('the rollback before it (weights back, group stickiness kept) leaves every user on green pinned there, and the check says so', async () => {
    const r = await failedCanary('redis', 'weights back', SIZE);
    results.push(r);
    expect(r.onGreen).toBeGreaterThan(0);
    expect(r.ruleAfter).toBe('blue=100/green=0');
    expect({ stuck: r.stuckOnGreen, sent: r.usersSentToGreenAfter }).toEqual({ stuck: r.onGreen, sent: r.onGreen });
    expect(r.haproxyToGreenAfter).toBeGreaterThan(0); // HAProxy's own count agrees that green was reached
    const problems = rollbackProblems(r);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^\d+ requests from \d+ users \(HAProxy counted \d+\) were sent to green after the rule change; none may be$/);
    expect(problems[1]).toMatch(/^\d+ requests failed after the rule change; blue must answer every one$/);
  });
});

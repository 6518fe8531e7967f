/**
 * The lab's model of a failed canary's rollback: the actions the shifter
 * sends, as the lab's endpoint routes them; users pinned by AWSALBTG as the
 * ALB pins them; and a short run of the failed canary through the real
 * shifter and CloudFormation's rollback.
 */
import { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LoadBalancer } from '../../lab/elb/load-balancer';
import { Lab } from '../../lab/lab';
import { RollbackResult, failedCanary, rollbackProblems } from '../../lab/rollback';
import { chartSvg, markdownTable } from '../../lab/run-scenarios';
import { LB_DAY } from '../../lab/scenarios';
import { forwardAction } from '../../lambda/traffic-shifter/elb';
import { RuleState, cutOff, gateVerdict } from '../../lambda/traffic-shifter/plan';
import { Client } from '../../local/http-client';

jest.setTimeout(120_000);

describe('the shifter\'s actions, as the lab routes them', () => {
  const lb = new LoadBalancer({ targetGroups: ['blue', 'green'], defaultAction: { targets: [{ group: 'blue', weight: 1 }], stickySeconds: 0 } });
  const groups = { blue: lb.groupArn('blue'), green: lb.groupArn('green') };
  const states: Array<[string, RuleState]> = [
    ['both colors', { weights: { blue: 90, green: 10 } }],
    ['green at weight 0', { weights: { blue: 100, green: 0 } }],
    ['cut off to blue', cutOff('green')],
    ['cut off to green', cutOff('blue')],
  ];
  /** What the action means for a request, in the ALB's terms: the groups it names with their weights, and the group stickiness. */
  const meaning = (action: Action) => ({
    targets: action.ForwardConfig!.TargetGroups!.map((t) => ({ group: t.TargetGroupArn === groups.blue ? 'blue' : 'green', weight: t.Weight })),
    stickySeconds: action.ForwardConfig!.TargetGroupStickinessConfig!.Enabled ? action.ForwardConfig!.TargetGroupStickinessConfig!.DurationSeconds : 0,
  });

  test.each(states.flatMap(([name, state]) => [[name, 86400, state], [name, 0, state]] as const))(
    '%s, group stickiness %d s: HAProxy is told to forward where the shifter\'s action forwards', (_, seconds, state) => {
      const action = forwardAction(groups, state, seconds);
      const [rule] = lb.createRule({
        ListenerArn: lb.listenerArn, Priority: 100, Conditions: [{ Field: 'path-pattern', Values: ['/*'] }], Actions: [action],
      }).Rules;
      try {
        const { targets, stickySeconds } = lb.routing().find((r) => r.id === '100')!;
        expect({ targets, stickySeconds }).toEqual(meaning(action));
      } finally {
        lb.deleteRule({ RuleArn: rule.RuleArn });
      }
    });
});

test('HAProxy keeps a user pinned to green at weight 0 and with no healthy target, as the ALB does; the cut-off rule sends them to blue', async () => {
  const lab = await Lab.start({
    blue: { strategy: 'memory', instances: 1, stickiness: LB_DAY },
    green: { strategy: 'memory', instances: 1, stickiness: LB_DAY },
  });
  try {
    const lb = lab.loadBalancer;
    const groups = { blue: lb.groupArn('blue'), green: lb.groupArn('green') };
    const day = LB_DAY.duration!.toSeconds();
    const set = async (state: RuleState) => {
      lb.modifyRule({ RuleArn: ruleArn, Actions: [forwardAction(groups, state, day)] });
      await lab.haproxy!.setRules(lb.routing());
    };
    const ruleArn = lb.createRule({
      ListenerArn: lb.listenerArn, Priority: 100, Conditions: [{ Field: 'path-pattern', Values: ['/*'] }],
      Actions: [forwardAction(groups, { weights: { blue: 0, green: 100 } }, day)],
    }).Rules[0].RuleArn!;
    await lab.haproxy!.setRules(lb.routing());
    lab.endpoint!.targets.used(new Set(['blue', 'green']));
    await lab.untilHealthy(['green-1']);

    const pinned = new Client(lab.url);
    const click = async (user: Client) => {
      const res = await user.post('/api/counter');
      return { status: res.status, color: res.headers.get('x-lab-color'), counter: res.json?.counter, tg: user.lastSetCookie.some((c) => c.startsWith('AWSALBTG=')) };
    };
    expect(await click(pinned)).toEqual({ status: 200, color: 'green', counter: 1, tg: true });

    await set({ weights: { blue: 100, green: 0 } });
    expect(await click(pinned)).toEqual({ status: 200, color: 'green', counter: 2, tg: false });
    expect(await click(new Client(lab.url))).toMatchObject({ color: 'blue' });

    const toGreen = await lab.haproxy!.requestsTo('green');
    await set(cutOff('green'));
    // Memory: the session stayed on green; blue starts a new one, and no AWSALBTG pins anyone.
    expect(await click(pinned)).toEqual({ status: 200, color: 'blue', counter: 1, tg: false });
    expect(await click(new Client(lab.url))).toEqual({ status: 200, color: 'blue', counter: 1, tg: false });
    expect(await lab.haproxy!.requestsTo('green')).toBe(toGreen);

    // The next shift names both groups again: the old AWSALBTG, not yet expired, counts again.
    await set({ weights: { blue: 50, green: 50 } });
    expect(await click(pinned)).toMatchObject({ status: 200, color: 'green' });

    await lab.kill('green-1');
    await lab.waitUntilDown('green-1');
    const green = await lab.endpoint!.targets.describe('green');
    const targetStates: Record<string, number> = {};
    green.forEach((d) => (targetStates[d.TargetHealth!.State!] = (targetStates[d.TargetHealth!.State!] ?? 0) + 1));
    expect(gateVerdict({ color: 'green', targetStates, minHealthy: 1, alarmNames: [], alarmStates: {} }))
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

  test('redis: the shifter\'s rule change sends nobody to green and loses no session; CloudFormation rolls the stack back', async () => {
    const r = await failedCanary('redis', SIZE);
    results.push(r);
    expect(r.onGreen).toBeGreaterThan(0); // the canary did put users on green
    expect(r.stackStatus).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(rollbackProblems(r)).toEqual([]);
    expect({ bounced: r.bounced, stuck: r.stuckOnGreen, lost: r.sessionsLost }).toEqual({ bounced: r.onGreen, stuck: 0, lost: 0 });
    // The check catches what it is for.
    expect(rollbackProblems({ ...r, sessionsLost: 1 })).toEqual(['1 sessions lost with redis, a shared store; none may be']);
    expect(rollbackProblems({ ...r, lostOnBlue: 1 })).toEqual(['1 users not on green lost their session']);
    expect(rollbackProblems({ ...r, sentToGreenAfter: 3, usersSentToGreenAfter: 2, haproxyToGreenAfter: 3 }))
      .toEqual(['3 requests from 2 users (HAProxy counted 3) were sent to green after the rule change; none may be']);
  });

  test('memory: the rule change sends nobody to green; exactly the users on green lose their session', async () => {
    const r = await failedCanary('memory', SIZE);
    results.push(r);
    expect(r.onGreen).toBeGreaterThan(0);
    expect(rollbackProblems(r)).toEqual([]);
    expect({ lostOnGreen: r.lostOnGreen, lostOnBlue: r.lostOnBlue }).toEqual({ lostOnGreen: r.onGreen, lostOnBlue: 0 });
  });
});

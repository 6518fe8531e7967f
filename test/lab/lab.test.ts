/**
 * A short run of the lab's scenarios: the real app behind a real HAProxy,
 * with instances killed and traffic shifted, and what must hold.
 */
import { Duration } from 'aws-cdk-lib';
import { checkWeights, renderHaproxyConfig } from '../../lab/haproxy';
import { chartSvg, markdownTable } from '../../lab/run-scenarios';
import { LB_DAY, ScenarioResult, shift, steadyAndKill } from '../../lab/scenarios';
import { Stickiness } from '../../lib/stickiness';

jest.setTimeout(120_000);
const SIZE = { users: 12, rounds: 6 };

describe('HAProxy configuration from the constructs\' settings', () => {
  const base = {
    port: 8000, dir: '/tmp/lab', groupStickiness: Stickiness.loadBalancerCookie(Duration.hours(2)), weights: { blue: 90, green: 10 },
    blue: { servers: [{ name: 'blue-1', port: 9001 }], stickiness: Stickiness.loadBalancerCookie(Duration.minutes(30)) },
    green: { servers: [{ name: 'green-1', port: 9002 }], stickiness: Stickiness.applicationCookie('sid', Duration.hours(1)) },
  };
  const config = renderHaproxyConfig(base);

  test('the load-balancer cookie is AWSALB naming the server, for the duration', () => {
    expect(config).toContain('cookie AWSALB insert indirect nocache httponly maxlife 1800s');
    expect(config).toContain('server blue-1 127.0.0.1:9001 check inter 500 fall 2 rise 1 cookie blue-1');
  });

  test('the application cookie keys a stick table on the app\'s cookie, learnt from its response', () => {
    expect(config).toContain('stick-table type string len 64 size 100k expire 3600s');
    expect(config).toContain('stick on req.cook(sid)');
    expect(config).toContain('stick store-response res.cook(sid)');
  });

  test('target-group stickiness: AWSALBTG with the group duration, set on the weighted first choice only', () => {
    expect(config).toContain('http-response add-header Set-Cookie "AWSALBTG=%[var(txn.color)]; Max-Age=7200; Path=/" if { var(txn.fresh) -m bool }');
    expect(renderHaproxyConfig({ ...base, groupStickiness: Stickiness.none() })).not.toContain('AWSALBTG=');
  });

  test('weights as the ALB takes them: whole numbers 0 to 999, not both 0', () => {
    expect(() => checkWeights({ blue: 1000, green: 0 })).toThrow('weights.blue: must be a whole number from 0 to 999, got 1000');
    expect(() => checkWeights({ blue: 0, green: 0 })).toThrow('weights: blue and green must not both be 0');
    expect(() => checkWeights({ blue: 0, green: 999 })).not.toThrow();
  });
});

describe('lab scenarios (short run)', () => {
  const results: ScenarioResult[] = [];
  afterAll(() => {
    // The same renderers as npm run lab:scenarios, on what this run measured.
    expect(markdownTable(results)).toContain('| instance killed |');
    expect(chartSvg(results)).toMatch(/^<svg /);
  });

  test.each(['cookie', 'redis', 'file', 'database'] as const)('%s: no session lost when an instance is killed', async (strategy) => {
    const [steady, killed] = await steadyAndKill(strategy, Stickiness.none(), SIZE);
    results.push(steady, killed);
    expect(killed.note).not.toMatch(/^0 users/); // someone really was on the killed instance
    expect({ steady: steady.sessionsLost, killed: killed.sessionsLost, errors: killed.errors }).toEqual({ steady: 0, killed: 0, errors: 0 });
  });

  test('memory with LB-cookie stickiness keeps every session while its instance lives, and only those on the killed one are lost', async () => {
    const [steady, killed] = await steadyAndKill('memory', LB_DAY, SIZE);
    results.push(steady, killed);
    expect(steady.sessionsLost).toBe(0);
    expect(killed.lostOnLiveInstances).toBe(0);
    expect(killed.sessionsLost).toBe(Number(/^(\d+) users/.exec(killed.note)![1]));
  });

  test('a blue/green shift in steps bounces no user between colors within the group stickiness, even from memory to redis', async () => {
    const r = await shift('memory', 'redis', LB_DAY, SIZE);
    results.push(r);
    expect(r.bounced).toBe(0);
    expect(r.sessionsLost).toBe(0);
    expect(r.errors).toBe(0);
    expect(r.note).not.toMatch(/^0 of/); // the shift did send new users to green
  });

  test('without group stickiness the same shift bounces users, and memory sessions are lost on the way', async () => {
    const r = await shift('memory', 'redis', Stickiness.none(), SIZE);
    results.push(r);
    expect(r.bounced).toBeGreaterThan(0);
    expect(r.sessionsLost).toBeGreaterThan(0);
  });
});

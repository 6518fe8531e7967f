/**
 * A short run of the lab's scenarios: the real app behind a real HAProxy,
 * with instances killed and traffic shifted, and what must hold.
 */
import { Duration } from 'aws-cdk-lib/core';
import { checkStickiness, renderHaproxyConfig } from '../../lab/haproxy';
import { chartSvg, markdownTable, readmeWithTable } from '../../lab/run-scenarios';
import { cacheFailover, databaseFailover, storeHangs } from '../../lab/drills';
import { APP_DAY, LB_DAY, ScenarioResult, shift, steadyAndKill } from '../../lab/scenarios';
import { Stickiness } from '../../lib/stickiness';

jest.setTimeout(120_000);
const SIZE = { users: 12, rounds: 6 };

describe('HAProxy configuration from the constructs\' settings', () => {
  const base = {
    port: 8000, dir: '/tmp/lab', rules: [],
    backends: {
      blue: { slots: 2, stickiness: Stickiness.loadBalancerCookie(Duration.minutes(30)) },
      green: { slots: 1, stickiness: Stickiness.none() },
    },
  };
  const config = renderHaproxyConfig(base);

  test('the load-balancer cookie is AWSALB naming the server slot, sticky for the duration, kept 7 days by the browser', () => {
    expect(config).toContain('cookie AWSALB insert indirect nocache httponly maxlife 1800s attr "Max-Age=604800"');
    expect(config).toContain('server blue-s2 127.0.0.1:1 disabled check inter 500 fall 2 rise 1 cookie blue-s2');
    expect(config).toContain('server green-s1 127.0.0.1:1 disabled check inter 500 fall 2 rise 1\n');
  });

  test('the application cookie keys a stick table on the app\'s cookie, learnt from its response', () => {
    const alone = renderHaproxyConfig({ ...base, backends: { blue: { slots: 1, stickiness: Stickiness.applicationCookie('sid', Duration.hours(1)) } } });
    expect(alone).toContain('stick-table type string len 64 size 100k expire 3600s');
    expect(alone).toContain('stick on req.cook(sid)');
    expect(alone).toContain('stick store-response res.cook(sid)');
  });

  test('the listener\'s rules pick the group in Lua; AWSALBTG with the rule\'s group duration, set on a weighted choice only', () => {
    expect(config).toContain('http-request lua.elb_route');
    expect(config).toContain('http-response add-header Set-Cookie "AWSALBTG=%[var(txn.color)]; Max-Age=%[var(txn.group_s)]; Path=/" if { var(txn.fresh) -m found }');
  });

  test('health checks on /health, and no retry on another server (the ALB answers 502 instead)', () => {
    expect(config).toContain('option httpchk GET /health');
    expect(config).toContain('retries 0');
    expect(config).not.toContain('redispatch');
  });

  test('fails when a setup is one AWS refuses, as BlueGreenRouting does', () => {
    const lb = Stickiness.loadBalancerCookie(Duration.minutes(30));
    expect(() => checkStickiness(lb, APP_DAY, lb))
      .toThrow('stickiness: the green fleet uses app cookie sid for 1 day, but AWS does not support application-cookie stickiness with weighted blue/green routing');
    expect(() => checkStickiness(lb, Stickiness.none(), Stickiness.none()))
      .toThrow('groupStickiness: must be on while the blue fleet is sticky (lb cookie for 30 minutes), got none');
    expect(() => checkStickiness(lb, undefined, lb))
      .toThrow('groupStickiness: target-group stickiness needs two fleets');
  });

  test('the README\'s table is replaced between its markers, and only there', () => {
    const readme = 'intro\n<!-- results:start -->\nold\n<!-- results:end -->\nend\n';
    expect(readmeWithTable(readme, '| new |')).toBe('intro\n<!-- results:start -->\n| new |\n<!-- results:end -->\nend\n');
    expect(() => readmeWithTable('no markers', '| new |')).toThrow('the markers <!-- results:start --> and <!-- results:end --> are missing');
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
    expect(killed.onKilledInstance).toBeGreaterThan(0); // someone really was on the killed instance
    expect({ steady: steady.sessionsLost, killed: killed.sessionsLost }).toEqual({ steady: 0, killed: 0 });
  });

  test.each([['LB', LB_DAY], ['application', APP_DAY]] as const)(
    'memory with %s-cookie stickiness keeps every session while its instance lives; only those on the killed one are lost', async (_, stickiness) => {
      const [steady, killed] = await steadyAndKill('memory', stickiness, SIZE);
      results.push(steady, killed);
      expect(steady.sessionsLost).toBe(0);
      expect(killed.lostOnLiveInstances).toBe(0);
      expect(killed.onKilledInstance).toBeGreaterThan(0);
      expect(killed.sessionsLost).toBe(killed.onKilledInstance);
    });

  test('a blue/green shift in steps bounces no user between colors within the group stickiness, even from memory to redis', async () => {
    const r = await shift('memory', 'redis', LB_DAY, SIZE);
    results.push(r);
    expect(r.onGreen).toBeGreaterThan(0); // the shift did send new users to green
    expect({ bounced: r.bounced, lost: r.sessionsLost, errors: r.errors }).toEqual({ bounced: 0, lost: 0, errors: 0 });
  });

  test('without stickiness the same shift bounces users, and memory sessions are lost on the way', async () => {
    const r = await shift('memory', 'redis', Stickiness.none(), SIZE);
    results.push(r);
    expect(r.bounced).toBeGreaterThan(0);
    expect(r.lostAtColorChange).toBeGreaterThan(0);
  });
});

describe('store drills (short run)', () => {
  test('a cache failover as ElastiCache makes it loses no save the replica had, and every instance serves again by itself', async () => {
    const r = await cacheFailover('redis', SIZE);
    expect(r.lostBeyondReplication).toBe(0);
    expect(r.hung).toBe(0);
    expect(r.recoveredAfterMs).toBeLessThan(5000);
  });

  test('a database failover as RDS makes it loses no save the replica had, and every instance serves again by itself', async () => {
    const r = await databaseFailover('postgres', SIZE);
    expect(r.lostBeyondReplication).toBe(0);
    expect(r.hung).toBe(0);
    expect(r.recoveredAfterMs).toBeLessThan(10_000);
  });

  test('a file store whose files block on open answers every request within its deadlines, and comes back by itself', async () => {
    const r = await storeHangs('file', SIZE, 1500);
    expect(r.errors).toBeGreaterThan(0); // the hang was felt
    expect({ hung: r.hung, lost: r.sessionsLost }).toEqual({ hung: 0, lost: 0 });
    // The lock wait (3 s) and one filesystem call's deadline (2 s), with room for a busy machine.
    expect(r.slowestMs).toBeLessThan(3000 + 2000 + 1000);
  });
});


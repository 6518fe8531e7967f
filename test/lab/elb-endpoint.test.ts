/**
 * The lab's ELBv2 endpoint driven by the real SDK clients, over a real
 * HAProxy with small HTTP servers as targets: each documented behaviour the
 * endpoint models, each error with the exception the SDK maps its code to,
 * and every request it accepted checked against AWS's own service model.
 */
import { CloudWatchClient, DescribeAlarmsCommand, InvalidNextToken } from '@aws-sdk/client-cloudwatch';
import {
  Action, AddTagsCommand, CreateRuleCommand, DeleteRuleCommand, DescribeRulesCommand, DescribeTagsCommand, DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand, DuplicateTagKeysException, ElasticLoadBalancingV2Client, ModifyRuleCommand, OperationNotPermittedException,
  PriorityInUseException, RuleNotFoundException, TargetGroupNotFoundException, TooManyTagsException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mkdtempSync, rmSync } from 'fs';
import { Server, createServer, request as httpRequest } from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { ElbEndpoint } from '../../lab/elb/endpoint';
import { LoadBalancer, luaPattern } from '../../lab/elb/load-balancer';
import { Haproxy } from '../../lab/haproxy';
import { Stickiness } from '../../lib/stickiness';
import { loadModel, violations } from '../../local/aws-model';
import { freePort, waitFor } from '../../local/ports';

jest.setTimeout(60_000);

const GROUPS = ['blue', 'green', 'g3', 'g4', 'g5', 'g6'];
/** g6's target fails its checks until its test lets them pass, so that no check can race that test's `initial`. */
const g6Health = { ok: false };
let dir: string;
let targets: Server[];
let haproxy: Haproxy;
let endpoint: ElbEndpoint;
let lb: LoadBalancer;
let elb: ElasticLoadBalancingV2Client;
let cloudwatch: CloudWatchClient;
let lambda: LambdaClient;

/** A target that answers with its own name. */
/** A target answering its name; its health check fails while `health.ok` is false. */
async function target(name: string, health = { ok: true }): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.url === '/health' && !health.ok) {
      res.statusCode = 503;
    }
    res.end(name);
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** One request through HAProxy (node's http, which lets a test set the Host header): which group and rule served it, and what the target said. */
function request(path = '/', headers: Record<string, string> = {}): Promise<{ status: number; group?: string; rule?: string; cookie: string | null; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${haproxy.url}${path}`, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({
        status: res.statusCode!,
        group: res.headers['x-lab-color'] as string | undefined,
        rule: res.headers['x-lab-rule'] as string | undefined,
        cookie: res.headers['set-cookie']?.join(', ') ?? null,
        body,
      }));
    });
    req.on('error', reject);
    req.end();
  });
}

const forward = (weights: Record<string, number>, stickySeconds = 0): Action => ({
  Type: 'forward',
  ForwardConfig: {
    TargetGroups: Object.entries(weights).map(([group, Weight]) => ({ TargetGroupArn: lb.groupArn(group), Weight })),
    TargetGroupStickinessConfig: stickySeconds > 0 ? { Enabled: true, DurationSeconds: stickySeconds } : { Enabled: false },
  },
});
const pathRule = (priority: number, path: string, action: Action) => new CreateRuleCommand({
  ListenerArn: lb.listenerArn, Priority: priority, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [path] } }], Actions: [action],
});
/** What the SDK threw, as its exception's name and message. */
const failure = (promise: Promise<unknown>) => promise.then(() => ({ name: 'no error', message: '' }), (e: Error) => ({ name: e.name, message: e.message }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'elb-endpoint-'));
  lb = new LoadBalancer({ targetGroups: GROUPS, defaultAction: { targets: [{ group: 'blue', weight: 1 }], stickySeconds: 0 } });
  haproxy = await Haproxy.start({
    port: await freePort(), dir, rules: lb.routing(), checkIntervalMs: 200,
    backends: Object.fromEntries(GROUPS.map((g) => [g, { slots: 3, stickiness: Stickiness.none() }])),
  });
  endpoint = await ElbEndpoint.start(lb, haproxy, { deregistrationDelayMs: 800 });
  const servers = await Promise.all(GROUPS.map((g) => target(`${g}-1`, g === 'g6' ? g6Health : undefined)));
  targets = servers.map((s) => s.server);
  await Promise.all(GROUPS.map((g, i) => endpoint.targets.register(g, `${g}-1`, servers[i].port)));
  const env = endpoint.environment();
  const config = { endpoint: endpoint.url, region: env.AWS_REGION, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } };
  elb = new ElasticLoadBalancingV2Client(config);
  cloudwatch = new CloudWatchClient(config);
  lambda = new LambdaClient(config);
  await waitFor('blue healthy', async () => (await request()).status === 200);
});

afterAll(async () => {
  elb?.destroy();
  cloudwatch?.destroy();
  lambda?.destroy();
  await endpoint?.stop();
  await haproxy?.stop();
  targets?.forEach((t) => t.close());
  rmSync(dir, { recursive: true, force: true });
});

/** Deletes every rule but the default, so each test starts from the listener's default action alone. */
afterEach(async () => {
  for (const rule of (await elb.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn }))).Rules ?? []) {
    if (!rule.IsDefault) {
      await elb.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }));
    }
  }
});

test('answers in ELBv2\'s wire protocol: a created rule reads back through DescribeRules and DescribeTags', async () => {
  const created = await elb.send(new CreateRuleCommand({
    ListenerArn: lb.listenerArn, Priority: 7, Conditions: [{ Field: 'path-pattern', Values: ['/app/*'] }],
    Actions: [forward({ blue: 90, green: 10 }, 3600)], Tags: [{ Key: 'owner', Value: 'lab' }],
  }));
  const rule = created.Rules![0];
  expect(rule).toMatchObject({ Priority: '7', IsDefault: false, Conditions: [{ Field: 'path-pattern', Values: ['/app/*'], PathPatternConfig: { Values: ['/app/*'] } }] });
  const [read] = (await elb.send(new DescribeRulesCommand({ RuleArns: [rule.RuleArn!] }))).Rules!;
  expect(read.Actions).toEqual([forward({ blue: 90, green: 10 }, 3600)]);
  expect((await elb.send(new DescribeTagsCommand({ ResourceArns: [rule.RuleArn!] }))).TagDescriptions).toEqual([{ ResourceArn: rule.RuleArn, Tags: [{ Key: 'owner', Value: 'lab' }] }]);
  const groups = (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [lb.groupArn('green')] }))).TargetGroups!;
  expect(groups).toMatchObject([{ TargetGroupName: 'green', TargetGroupArn: lb.groupArn('green'), LoadBalancerArns: [lb.arn] }]);
});

test('rule priorities: unique on the listener (PriorityInUse) and from 1 to 50000 (ValidationError)', async () => {
  await elb.send(pathRule(5, '/a', forward({ blue: 1 })));
  expect(await failure(elb.send(pathRule(5, '/b', forward({ blue: 1 }))))).toEqual({ name: PriorityInUseException.name, message: 'Priority \'5\' is currently in use' });
  expect((await failure(elb.send(pathRule(0, '/b', forward({ blue: 1 }))))).name).toBe('ValidationError');
  expect((await failure(elb.send(pathRule(50_001, '/b', forward({ blue: 1 }))))).name).toBe('ValidationError');
  await expect(elb.send(pathRule(50_000, '/b', forward({ blue: 1 })))).resolves.toBeDefined();
});

test('a forward action: 1 to 5 target groups, weights 0 to 999, group stickiness 1 to 604800 s when enabled, groups that exist', async () => {
  const five = { blue: 1, green: 1, g3: 1, g4: 1, g5: 1 };
  await expect(elb.send(pathRule(1, '/five', forward(five, 604_800)))).resolves.toBeDefined();
  const cases: Array<[string, Action, string]> = [
    ['six groups', forward({ ...five, g6: 1 }), 'A forward action can have at most 5 target groups, got 6'],
    ['weight 1000', forward({ blue: 1000 }), 'Target group weight must be from 0 to 999, got \'1000\''],
    ['stickiness 0 s', forward({ blue: 1 }, 0.5), 'Target group stickiness duration must be from 1 to 604800 seconds, got \'0.5\''],
    ['stickiness 604801 s', forward({ blue: 1 }, 604_801), 'Target group stickiness duration must be from 1 to 604800 seconds, got \'604801\''],
    ['one group twice', { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: lb.groupArn('blue') }, { TargetGroupArn: lb.groupArn('blue') }] } },
      `Target group '${lb.groupArn('blue')}' is specified more than once in the forward action`],
  ];
  for (const [, action, message] of cases) {
    expect(await failure(elb.send(pathRule(2, '/x', action)))).toEqual({ name: 'ValidationError', message });
  }
  const missing = lb.groupArn('blue').replace(/[0-9a-f]{16}$/, '0000000000000000');
  expect(await failure(elb.send(pathRule(2, '/x', { Type: 'forward', TargetGroupArn: missing }))))
    .toEqual({ name: TargetGroupNotFoundException.name, message: `Target groups '${missing}' not found` });
});

test('ModifyRule replaces the whole action and keeps the conditions it is not given; RuleNotFound for a rule that does not exist', async () => {
  const arn = (await elb.send(pathRule(3, '/m', forward({ blue: 50, green: 50 }, 60))))
    .Rules![0].RuleArn!;
  await elb.send(new ModifyRuleCommand({ RuleArn: arn, Actions: [forward({ green: 1 })] }));
  const [rule] = (await elb.send(new DescribeRulesCommand({ RuleArns: [arn] }))).Rules!;
  expect(rule.Actions).toEqual([{ ...forward({ green: 1 }), TargetGroupArn: lb.groupArn('green') }]);
  expect(rule.Conditions).toEqual([{ Field: 'path-pattern', Values: ['/m'], PathPatternConfig: { Values: ['/m'] } }]);
  expect((await failure(elb.send(new ModifyRuleCommand({ RuleArn: `${arn}0`, Actions: [forward({ blue: 1 })] })))).name).toBe(RuleNotFoundException.name);
  expect((await failure(elb.send(new DescribeRulesCommand({ RuleArns: [`${arn}0`] })))).name).toBe(RuleNotFoundException.name);
});

test('DeleteRule: RuleNotFound for a rule that does not exist, OperationNotPermitted for the default rule', async () => {
  const rules = (await elb.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn }))).Rules!;
  const defaultRule = rules.find((r) => r.IsDefault)!;
  expect((await failure(elb.send(new DeleteRuleCommand({ RuleArn: defaultRule.RuleArn })))).name).toBe(OperationNotPermittedException.name);
  const arn = (await elb.send(pathRule(4, '/d', forward({ blue: 1 })))).Rules![0].RuleArn!;
  await elb.send(new DeleteRuleCommand({ RuleArn: arn }));
  expect((await failure(elb.send(new DeleteRuleCommand({ RuleArn: arn })))).name).toBe(RuleNotFoundException.name);
});

test('DescribeRules: by listener in priority order with the default rule last, page by page with Marker; a listener or rules, not both', async () => {
  for (const priority of [30, 10, 20]) {
    await elb.send(pathRule(priority, `/p${priority}`, forward({ blue: 1 })));
  }
  const seen: string[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await elb.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn, PageSize: 2, Marker: marker }));
    seen.push(...page.Rules!.map((r) => r.Priority!));
    marker = page.NextMarker;
    pages++;
  } while (marker);
  expect({ seen, pages }).toEqual({ seen: ['10', '20', '30', 'default'], pages: 2 });
  expect((await failure(elb.send(new DescribeRulesCommand({})))).name).toBe('ValidationError');
  expect((await failure(elb.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn, RuleArns: [lb.listenerArn] })))).name).toBe('ValidationError');
  expect((await failure(elb.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn, PageSize: 401 })))).name).toBe('ValidationError');
});

test('tags: AddTags updates a key\'s value; each key once per request, AWS\'s characters, no aws: prefix, at most 50 per resource', async () => {
  const arn = (await elb.send(pathRule(6, '/t', forward({ blue: 1 })))).Rules![0].RuleArn!;
  await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: [{ Key: 'k', Value: 'one' }] }));
  await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: [{ Key: 'k', Value: 'blue=100/green=0' }] }));
  expect((await elb.send(new DescribeTagsCommand({ ResourceArns: [arn] }))).TagDescriptions![0].Tags).toEqual([{ Key: 'k', Value: 'blue=100/green=0' }]);
  const add = (tags: Array<{ Key: string; Value?: string }>) => failure(elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: tags })));
  expect((await add([{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }])).name).toBe(DuplicateTagKeysException.name);
  expect((await add([{ Key: 'weights', Value: 'blue=100,green=0' }])).name).toBe('ValidationError');
  expect((await add([{ Key: 'aws:owner', Value: 'x' }])).name).toBe('ValidationError');
  expect((await add([{ Key: 'k'.repeat(129), Value: 'x' }])).name).toBe('ValidationError');
  await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: Array.from({ length: 49 }, (_, i) => ({ Key: `t${i}`, Value: '' })) }));
  expect((await add([{ Key: 'one-more', Value: '' }])).name).toBe(TooManyTagsException.name);
  expect((await failure(elb.send(new DescribeTagsCommand({ ResourceArns: [`${arn}0`] })))).name).toBe(RuleNotFoundException.name);
});

describe('routing through HAProxy, as the rules say', () => {
  test('rules in priority order with path-pattern, host-header and http-header (a cookie matched by wildcards); the default action when none matches', async () => {
    await elb.send(new CreateRuleCommand({
      ListenerArn: lb.listenerArn, Priority: 10, Actions: [forward({ g3: 1 })],
      Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'Cookie', Values: ['*testers=1*'] } }],
    }));
    await elb.send(new CreateRuleCommand({
      ListenerArn: lb.listenerArn, Priority: 20, Actions: [forward({ g4: 1 })],
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['*.example.com'] } }, { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } }],
    }));
    await elb.send(pathRule(30, '/api/v?/*', forward({ green: 1 })));
    const routed = async (path: string, headers: Record<string, string> = {}) => {
      const r = await request(path, headers);
      return `${r.rule}:${r.group}:${r.body}`;
    };
    expect(await routed('/api/v1/x', { cookie: 'a=b; testers=1' })).toBe('10:g3:g3-1');
    expect(await routed('/api/v1/x', { host: 'Shop.EXAMPLE.com' })).toBe('20:g4:g4-1');
    expect(await routed('/API/v1/x', { host: 'shop.example.com' })).toBe('default:blue:blue-1'); // paths are case-sensitive
    expect(await routed('/api/v1/x')).toBe('30:green:green-1');
    expect(await routed('/api/v10/x')).toBe('default:blue:blue-1'); // ? is exactly one character
    expect(await routed('/other', { cookie: 'testers=0' })).toBe('default:blue:blue-1');
  });

  test('target-group stickiness outranks the weights; a group at weight 0 without stickiness gets nobody', async () => {
    const arn = (await elb.send(pathRule(10, '/*', forward({ blue: 0, green: 1 }, 3600)))).Rules![0].RuleArn!;
    const fresh = await request();
    expect([fresh.group, fresh.cookie]).toEqual(['green', 'AWSALBTG=green; Max-Age=3600; Path=/']);
    const pinned = await request('/', { cookie: 'AWSALBTG=blue' });
    expect([pinned.group, pinned.cookie]).toEqual(['blue', null]);
    await elb.send(new ModifyRuleCommand({ RuleArn: arn, Actions: [forward({ blue: 0, green: 1 })] }));
    const results = await Promise.all(Array.from({ length: 20 }, () => request('/', { cookie: 'AWSALBTG=blue' })));
    expect(new Set(results.map((r) => `${r.group}:${r.cookie}`))).toEqual(new Set(['green:null']));
    await elb.send(new ModifyRuleCommand({ RuleArn: arn, Actions: [forward({ green: 1 }, 3600)] }));
    expect((await request('/', { cookie: 'AWSALBTG=blue' })).group).toBe('green'); // a group the action does not name: no cookie takes anyone there
  });

  test('the ALB\'s wildcards as Lua patterns: * any characters, ? one, everything else itself', () => {
    expect(luaPattern('/a.b-c*?')).toBe('^/a%.b%-c.*.$');
  });
});

describe('target health from HAProxy\'s checks', () => {
  const states = async (group: string) => (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.groupArn(group) })))
    .TargetHealthDescriptions!.map((d) => `${d.Target!.Id}:${d.TargetHealth!.State}:${d.TargetHealth!.Reason ?? ''}`);

  test('a group no action forwards to is unused (Target.NotInUse); once a rule names it, initial until its checks pass, then healthy', async () => {
    expect(await states('g6')).toEqual([expect.stringMatching(/:unused:Target\.NotInUse$/)]);
    await elb.send(pathRule(10, '/g6', forward({ blue: 1, g6: 0 })));
    expect(await states('g6')).toEqual([expect.stringMatching(/:initial:Elb\.(RegistrationInProgress|InitialHealthChecking)$/)]);
    g6Health.ok = true;
    await waitFor('g6 healthy', async () => (await states('g6'))[0].includes(':healthy:'));
  });

  test('a new target is initial until its first check passes and gets no request before; a target whose checks fail is unhealthy; a deregistered one drains, then is gone', async () => {
    // Its checks fail until the test lets them pass: a check passing early cannot race the requests below.
    const health = { ok: false };
    const server = await target('blue-2', health);
    const id = await endpoint.targets.register('blue', 'blue-2', server.port);
    expect((await states('blue')).find((s) => s.startsWith(id))).toMatch(/:initial:Elb\.RegistrationInProgress$/);
    await new Promise((r) => setTimeout(r, 2 * haproxy.checkIntervalMs));
    expect((await Promise.all(Array.from({ length: 10 }, () => request()))).map((r) => r.body)).not.toContain('blue-2');
    health.ok = true;
    await waitFor('blue-2 healthy', async () => (await states('blue')).some((s) => s === `${id}:healthy:`));
    expect((await Promise.all(Array.from({ length: 10 }, () => request()))).map((r) => r.body)).toContain('blue-2');
    server.server.close();
    server.server.closeAllConnections();
    await waitFor('blue-2 unhealthy', async () => (await states('blue')).some((s) => s === `${id}:unhealthy:Target.FailedHealthChecks`));
    const draining = endpoint.targets.deregister('blue-2');
    await waitFor('blue-2 draining', async () => (await states('blue')).some((s) => s === `${id}:draining:Target.DeregistrationInProgress`));
    await draining;
    expect((await states('blue')).some((s) => s.startsWith(id))).toBe(false);
    expect((await failure(elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${lb.groupArn('blue')}0` })))).name).toBe(TargetGroupNotFoundException.name);
  });
});

test('CloudWatch DescribeAlarms in AWS JSON 1.0: metric alarms unless composite ones are asked for, page by page; InvalidNextToken', async () => {
  endpoint.setAlarm('green-5xx', 'ALARM');
  endpoint.setAlarm('green-latency', 'OK');
  endpoint.setAlarm('green-all', 'OK', 'CompositeAlarm');
  const names = ['green-5xx', 'green-latency', 'green-all'];
  const byDefault = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: names }));
  expect(byDefault.MetricAlarms!.map((a) => `${a.AlarmName}=${a.StateValue}`)).toEqual(['green-5xx=ALARM', 'green-latency=OK']);
  expect(byDefault.CompositeAlarms).toEqual([]);
  expect(byDefault.MetricAlarms![0].StateUpdatedTimestamp).toBeInstanceOf(Date);
  const first = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 2 }));
  const second = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: names, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 2, NextToken: first.NextToken }));
  expect([...first.CompositeAlarms!, ...first.MetricAlarms!, ...second.MetricAlarms!, ...second.CompositeAlarms!].map((a) => a.AlarmName).sort()).toEqual([...names].sort());
  expect(second.NextToken).toBeUndefined();
  expect((await failure(cloudwatch.send(new DescribeAlarmsCommand({ NextToken: 'bm9wZQ' })))).name).toBe(InvalidNextToken.name);
});

test('every request the endpoint accepted passes AWS\'s service model of its operation', async () => {
  const from = endpoint.accepted.length;
  const arn = (await elb.send(pathRule(8, '/model', forward({ blue: 100, green: 0 }, 86_400)))).Rules![0].RuleArn!;
  await elb.send(new ModifyRuleCommand({ RuleArn: arn, Actions: [forward({ blue: 75, green: 25 }, 86_400)] }));
  await elb.send(new AddTagsCommand({ ResourceArns: [arn], Tags: [{ Key: 'cdk-session-tier:weights', Value: 'blue=75/green=25' }] }));
  await elb.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  await elb.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn, PageSize: 1 }));
  await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [lb.groupArn('green')] }));
  await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: lb.groupArn('green') }));
  await elb.send(new DeleteRuleCommand({ RuleArn: arn }));
  await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['green-5xx'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100 }));
  const accepted = endpoint.accepted.slice(from);
  expect(accepted.map((r) => r.operation)).toEqual(['CreateRule', 'ModifyRule', 'AddTags', 'DescribeTags', 'DescribeRules', 'DescribeTargetGroups', 'DescribeTargetHealth', 'DeleteRule', 'DescribeAlarms']);
  const models = { elbv2: loadModel('elbv2'), cloudwatch: loadModel('cloudwatch'), lambda: loadModel('lambda') };
  expect(accepted.flatMap((r) => violations(models[r.service], r.operation, r.input).map((v) => `${r.operation}: ${v}`))).toEqual([]);
  // The check catches a request the model refuses.
  expect(violations(models.elbv2, 'CreateRule', { ...accepted[0].input, Priority: 0 })).toEqual(['Priority: 0 is below the minimum 1']);
});

test('Lambda Invoke, as the hook calls reach a function: RequestResponse answers its return value, a thrown error is FunctionError Unhandled, an unknown function ResourceNotFoundException', async () => {
  endpoint.addFunction('lab-hook', async (event) => {
    const { stage } = event as { stage: string };
    if (stage === 'broken') {
      throw new TypeError('cannot read the release');
    }
    return { hookStatus: 'SUCCEEDED', reason: `saw ${stage}` };
  });
  const from = endpoint.accepted.length;
  const invoke = (FunctionName: string, event: unknown) => lambda.send(new InvokeCommand({
    FunctionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)),
  }));
  const text = (p?: Uint8Array) => JSON.parse(new TextDecoder().decode(p));
  const ok = await invoke('arn:aws:lambda:eu-west-1:123456789012:function:lab-hook', { stage: 'before-first-step' });
  expect({ status: ok.StatusCode, error: ok.FunctionError, version: ok.ExecutedVersion, payload: text(ok.Payload) })
    .toEqual({ status: 200, error: undefined, version: '$LATEST', payload: { hookStatus: 'SUCCEEDED', reason: 'saw before-first-step' } });
  const thrown = await invoke('lab-hook', { stage: 'broken' });
  expect({ status: thrown.StatusCode, error: thrown.FunctionError }).toEqual({ status: 200, error: 'Unhandled' });
  expect(text(thrown.Payload)).toMatchObject({ errorType: 'TypeError', errorMessage: 'cannot read the release' });
  const missing = await failure(invoke('arn:aws:lambda:eu-west-1:123456789012:function:no-such-hook', {}));
  expect(missing.name).toBe(ResourceNotFoundException.name);
  expect(missing.message).toContain('Function not found');
  const accepted = endpoint.accepted.slice(from);
  expect(accepted.map((r) => `${r.service} ${r.operation} ${r.input.InvocationType}`)).toEqual(['lambda Invoke RequestResponse', 'lambda Invoke RequestResponse']);
  expect(accepted.flatMap((r) => violations(loadModel('lambda'), r.operation, r.input))).toEqual([]);
  expect(endpoint.invocations.map((i) => i.functionError ?? 'answered')).toEqual(['answered', 'Unhandled']);
});

test('an operation the endpoint does not answer: InvalidAction for an unknown one, UnsupportedByLab for an ELBv2 operation it does not model', async () => {
  const post = (action: string) => fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=AK/20261206/eu-west-1/elasticloadbalancing/aws4_request' },
    body: `Action=${action}&Version=2015-12-01`,
  }).then(async (r) => `${r.status} ${/<Code>(.*)<\/Code>/.exec(await r.text())?.[1]}`);
  expect(await post('Nonsense')).toBe('400 InvalidAction');
  expect(await post('DeleteLoadBalancer')).toBe('400 UnsupportedByLab');
});

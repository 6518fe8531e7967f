/**
 * The handlers against the real SDK clients, with only their transport
 * stubbed (aws-sdk-client-mock). A small in-memory listener answers the
 * Describe calls from what earlier calls set, and every test asserts the exact
 * requests, in order. Every request a handler sends is also checked against
 * AWS's service model of its operation and against the policy of that
 * handler's role in a synthesized BlueGreenRouting, so a request AWS would
 * refuse or deny fails the test that sent it.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  Action, AddTagsCommand, CreateRuleCommand, DeleteRuleCommand, DescribeRulesCommand, DescribeTagsCommand, DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand, PriorityInUseException, Rule, RuleNotFoundException, SetRulePrioritiesCommand, Tag,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ShiftEvent, isComplete as isCompleteHandler, onEvent as onEventHandler } from '../../../lambda/traffic-shifter';
import { Statement, unauthorized, unusedActions } from '../../contracts/iam-policy';
import { HOOK_NAME, TEST_AWS, defaultShiftSettings, rolePolicy, routingStack } from '../../contracts/routing-stack';
import { RequestLog, SentRequest } from '../../contracts/sent-requests';

const elb = mockClient(ElasticLoadBalancingV2Client);
const cloudwatch = mockClient(CloudWatchClient);
const lambda = mockClient(LambdaClient);
const requests = new RequestLog([{ service: 'elbv2', mock: elb }, { service: 'cloudwatch', mock: cloudwatch }, { service: 'lambda', mock: lambda }]);

type EntryPoint = 'onEvent' | 'isComplete';
/** Each handler role's policy, from a synthesized BlueGreenRouting whose gate alarms are the ones these tests name. */
let policies: Record<EntryPoint, Statement[]>;
/** What each entry point sent in the current test. */
let sentBy: Record<EntryPoint, SentRequest[]>;

/** The entry point, with every request it sent checked against the models and its role's policy when it returns or throws. */
function checked<R>(entry: EntryPoint, handler: (event: ShiftEvent) => Promise<R>): (event: ShiftEvent) => Promise<R> {
  return async (event) => {
    try {
      return await handler(event);
    } finally {
      const fresh = requests.takeNew();
      sentBy[entry].push(...fresh);
      const denied = unauthorized(fresh, policies[entry], TEST_AWS);
      if (denied.length > 0) {
        throw new Error(`the ${entry} role's policy denies: ${denied.join('; ')}`);
      }
    }
  };
}
/** Runs `body` with `statements` as the entry point's role policy. */
async function withPolicy(entry: EntryPoint, statements: Statement[], body: () => Promise<void>): Promise<void> {
  const saved = policies[entry];
  policies[entry] = statements;
  try {
    await body();
  } finally {
    policies[entry] = saved;
  }
}
const onEvent = checked('onEvent', onEventHandler);
const isComplete = checked('isComplete', isCompleteHandler);

const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2';
const RULE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/73e2d6bc24d8a067';
const GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green/2453ed029918f21f';
const T0 = Date.parse('2026-11-24T12:00:00.000Z');
const HANDLER_DIR = join(__dirname, '../../../lambda/traffic-shifter');

const props = (over: Record<string, unknown> = {}) => ({
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
  ListenerArn: LISTENER,
  BlueTargetGroupArn: BLUE,
  GreenTargetGroupArn: GREEN,
  ...defaultShiftSettings(),
  ...over,
});

const action = (blue: number, green: number, stickiness = 86400): Action => ({
  Type: 'forward',
  ForwardConfig: {
    TargetGroups: [{ TargetGroupArn: BLUE, Weight: blue }, { TargetGroupArn: GREEN, Weight: green }],
    TargetGroupStickinessConfig: stickiness > 0 ? { Enabled: true, DurationSeconds: stickiness } : { Enabled: false },
  },
});
/** The action a failed gate leaves: both groups, the failed color at weight 0, without group stickiness. */
const cutAction = (failed: 'blue' | 'green'): Action => (failed === 'green' ? action(100, 0, 0) : action(0, 100, 0));
const cutTags = (failed: 'blue' | 'green', at: number) => [
  { Key: 'cdk-session-tier:weights', Value: `${failed === 'green' ? 'blue=100/green=0' : 'blue=0/green=100'}/cut=${failed}` },
  { Key: 'cdk-session-tier:shifted-at', Value: new Date(at).toISOString() },
];
const tags = (blue: number, green: number, at: number) => [
  { Key: 'cdk-session-tier:weights', Value: `blue=${blue}/green=${green}` },
  { Key: 'cdk-session-tier:shifted-at', Value: new Date(at).toISOString() },
];

/**
 * The listener as AWS would keep it: its default action (forward to blue, as
 * BlueGreenRouting sets it), one optional rule, its tags, the targets' health
 * as the health checks find it, and the alarms.
 */
let world: {
  rule?: Rule; tags: Tag[]; health: Record<string, string[]>; alarms: Record<string, string>;
  /** Other rules on the listener: the test rules, and rules of the team's. */
  others: Rule[];
  /** The hook: what it answers to each request it gets (an Error: the function fails). */
  hook: (request: Record<string, unknown>) => unknown;
  /** The requests the hook got. */
  hookCalls: Record<string, unknown>[];
};

/** The rule as a failed gate left it: `failed` at weight 0, no group stickiness. */
function setCutOff(failed: 'blue' | 'green', at: number) {
  world.rule = { RuleArn: RULE, Priority: '50000', Actions: [cutAction(failed)] };
  world.tags = cutTags(failed, at);
}

/** The ARN ELB gives the rule a listener's CreateRule makes: the listener's, as a listener-rule, with the rule's id. */
function ruleArnOn(listenerArn: string): string {
  return `${listenerArn.replace(':listener/', ':listener-rule/')}/9683b2d02a6cabee`;
}

/** Whether the listener's default action or the rule's names the group: ELB health-checks only such groups. */
function inUse(targetGroupArn: string): boolean {
  const named = (a: Action) => a.TargetGroupArn === targetGroupArn || (a.ForwardConfig?.TargetGroups ?? []).some((t) => t.TargetGroupArn === targetGroupArn);
  return targetGroupArn === BLUE || [world.rule, ...world.others].some((r) => (r?.Actions ?? []).some(named));
}

function setWorld(blue: number, green: number, at = T0 - 3_600_000, tagged = { blue, green }) {
  world.rule = { RuleArn: RULE, Priority: '50000', Actions: [action(blue, green)] };
  world.tags = tags(tagged.blue, tagged.green, at);
}

/** The requests that change where traffic goes: rule changes, and tags that record weights (not a release's record). */
function changes(): [string, unknown][] {
  return sent().filter(([name, input]) => /Modify|Create|Delete/.test(name)
    || (name === 'AddTagsCommand' && (input as { Tags: Tag[] }).Tags.some((t) => t.Key === 'cdk-session-tier:weights')));
}

/** The AddTags onEvent sends for a release: its record on the rule. */
const releaseTags = (at: number, target: string, plan: string, start: { blue: number; green: number }, hooks = 'no', bake = 0) => ['AddTagsCommand', {
  ResourceArns: [RULE],
  Tags: [{ Key: 'cdk-session-tier:release', Value: `at=${new Date(at).toISOString()} target=${target} plan=${plan} bake=${bake} start=blue=${start.blue}/green=${start.green} hooks=${hooks}` }],
}];

/** The requests the handlers sent, as [command, input], in order. */
function sent(): [string, unknown][] {
  const calls = [...elb.calls(), ...cloudwatch.calls(), ...lambda.calls()]
    // sinon numbers every call across all spies, so the two clients' calls interleave as sent.
    .map((c) => ({ order: (c as unknown as { callId: number }).callId, command: c.args[0] as { constructor: { name: string }; input: unknown } }));
  return calls.sort((a, b) => a.order - b.order).map(({ command }) => [command.constructor.name, command.input]);
}

function at(time: number) {
  jest.spyOn(Date, 'now').mockReturnValue(time);
}

beforeAll(() => {
  const { template } = routingStack({}, ['green-5xx', 'green-latency'], true);
  policies = { onEvent: rolePolicy(template, 'RoutingOnEventRole', LISTENER), isComplete: rolePolicy(template, 'RoutingIsCompleteRole', LISTENER) };
});

beforeEach(() => {
  sentBy = { onEvent: [], isComplete: [] };
  elb.reset();
  cloudwatch.reset();
  lambda.reset();
  world = {
    tags: [], health: { [BLUE]: ['healthy', 'healthy'], [GREEN]: ['healthy', 'healthy'] }, alarms: { 'green-5xx': 'OK', 'green-latency': 'OK' },
    others: [], hook: () => ({ hookStatus: 'SUCCEEDED' }), hookCalls: [],
  };
  at(T0);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  elb.on(DescribeTargetGroupsCommand).callsFake((input) => {
    if (!(input.TargetGroupArns[0] in world.health)) {
      throw new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} });
    }
    return { TargetGroups: [{ TargetGroupArn: input.TargetGroupArns[0] }] };
  });
  elb.on(DescribeRulesCommand).callsFake((input) => {
    const all = [...world.rule ? [world.rule] : [], ...world.others];
    if (input.RuleArns) {
      const found = all.find((r) => r.RuleArn === input.RuleArns[0]);
      if (!found) {
        throw new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} });
      }
      return { Rules: [found] };
    }
    const prefix = ruleArnOn(input.ListenerArn).replace(/\/[^/]+$/, '/');
    return { Rules: [{ RuleArn: 'default-rule', Priority: 'default', IsDefault: true }, ...all.filter((r) => r.RuleArn!.startsWith(prefix))] };
  });
  elb.on(DescribeTagsCommand).callsFake(() => ({ TagDescriptions: [{ ResourceArn: RULE, Tags: world.tags }] }));
  elb.on(CreateRuleCommand).callsFake((input) => {
    // ELB refuses a priority another rule of the listener has (PriorityInUse).
    const taken = [world.rule, ...world.others].find((r) => r?.Priority === String(input.Priority) && r.RuleArn!.startsWith(ruleArnOn(input.ListenerArn).replace(/\/[^/]+$/, '/')));
    if (taken) {
      throw new PriorityInUseException({ message: 'Priority in use', $metadata: {} });
    }
    const created: Rule = { Priority: String(input.Priority), Conditions: input.Conditions, Actions: input.Actions, RuleArn: '' };
    if (input.Tags) {
      world.rule = { ...created, RuleArn: ruleArnOn(input.ListenerArn) };
      world.tags = input.Tags;
      return { Rules: [world.rule] };
    }
    // A rule without tags is a test rule; its ARN carries its priority.
    const other = { ...created, RuleArn: ruleArnOn(input.ListenerArn).replace(/[^/]+$/, `test${input.Priority}`) };
    world.others.push(other);
    return { Rules: [other] };
  });
  elb.on(ModifyRuleCommand).callsFake((input) => {
    const change = (r: Rule): Rule => ({ ...r, ...input.Actions ? { Actions: input.Actions } : {}, ...input.Conditions ? { Conditions: input.Conditions } : {} });
    if (world.rule && world.rule.RuleArn === input.RuleArn) {
      world.rule = change(world.rule);
      return { Rules: [world.rule] };
    }
    world.others = world.others.map((r) => (r.RuleArn === input.RuleArn ? change(r) : r));
    return { Rules: world.others.filter((r) => r.RuleArn === input.RuleArn) };
  });
  elb.on(SetRulePrioritiesCommand).callsFake((input) => {
    for (const { RuleArn, Priority } of input.RulePriorities) {
      const inUse = [world.rule, ...world.others].some((r) => r && r.RuleArn !== RuleArn && r.Priority === String(Priority));
      if (inUse) {
        throw new PriorityInUseException({ message: 'Priority in use', $metadata: {} });
      }
      if (world.rule?.RuleArn === RuleArn) {
        world.rule = { ...world.rule, Priority: String(Priority) };
      }
    }
    return { Rules: world.rule ? [world.rule] : [] };
  });
  elb.on(AddTagsCommand).callsFake((input) => {
    world.tags = [...world.tags.filter((t) => !input.Tags.some((n: Tag) => n.Key === t.Key)), ...input.Tags];
    return {};
  });
  elb.on(DeleteRuleCommand).callsFake((input) => {
    if (world.rule?.RuleArn === input.RuleArn) {
      world.rule = undefined;
    } else if (world.others.some((r) => r.RuleArn === input.RuleArn)) {
      world.others = world.others.filter((r) => r.RuleArn !== input.RuleArn);
    } else {
      throw new RuleNotFoundException({ message: 'One or more rules not found', $metadata: {} });
    }
    return {};
  });
  // A group no action names is not health-checked: ELB reports its targets unused, reason Target.NotInUse
  // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
  elb.on(DescribeTargetHealthCommand).callsFake((input) => ({
    TargetHealthDescriptions: world.health[input.TargetGroupArn].map((State, i) => ({
      Target: { Id: `i-${i}` },
      TargetHealth: inUse(input.TargetGroupArn) ? { State } : { State: 'unused', Reason: 'Target.NotInUse' },
    })),
  }));
  lambda.on(InvokeCommand).callsFake((input) => {
    const request = JSON.parse(new TextDecoder().decode(input.Payload));
    world.hookCalls.push(request);
    const answer = world.hook(request);
    // A function that throws: Lambda answers 200 with FunctionError and the error as the payload.
    return answer instanceof Error
      ? { StatusCode: 200, FunctionError: 'Unhandled', Payload: new TextEncoder().encode(JSON.stringify({ errorType: 'Error', errorMessage: answer.message })) }
      : { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(answer)) };
  });
  cloudwatch.on(DescribeAlarmsCommand).callsFake((input) => ({
    MetricAlarms: input.AlarmNames.filter((n: string) => n in world.alarms).map((AlarmName: string) => ({ AlarmName, StateValue: world.alarms[AlarmName] })),
  }));
});

afterEach(() => jest.restoreAllMocks());

const describeCalls = [
  ['DescribeRulesCommand', { RuleArns: [RULE] }],
  ['DescribeTagsCommand', { ResourceArns: [RULE] }],
];
/** The requests of a step whose health gate (and no alarm gate) passes. */
const stepCalls = (color: 'blue' | 'green', blue: number, green: number, time: number) => [
  ...describeCalls,
  ['DescribeTargetHealthCommand', { TargetGroupArn: color === 'blue' ? BLUE : GREEN }],
  ['ModifyRuleCommand', { RuleArn: RULE, Actions: [action(blue, green)] }],
  ['AddTagsCommand', { ResourceArns: [RULE], Tags: tags(blue, green, time) }],
];
/** What isComplete answers when the deploy is done. */
const done = (blue: number, green: number, lastShiftAt: number, drainedAt: number, outcome = 'shifted') => ({
  IsComplete: true,
  Data: {
    BlueWeight: String(blue), GreenWeight: String(green), LastShiftAt: new Date(lastShiftAt).toISOString(),
    DrainedAt: new Date(drainedAt).toISOString(), RuleArn: RULE, Outcome: outcome,
  },
});
const DAY = 86_400_000;
const checkGroups = [
  ['DescribeTargetGroupsCommand', { TargetGroupArns: [BLUE] }],
  ['DescribeTargetGroupsCommand', { TargetGroupArns: [GREEN] }],
];

async function update(from: Record<string, unknown>, to: Record<string, unknown>) {
  const event: ShiftEvent = { RequestType: 'Update', PhysicalResourceId: RULE, ResourceProperties: props(to), OldResourceProperties: props(from) };
  const response = await onEvent(event);
  return { event: { ...event, Data: response.Data }, response };
}

describe('create', () => {
  test('creates the catch-all rule where users are (blue), records it, and completes at once', async () => {
    const response = await onEvent({ RequestType: 'Create', ResourceProperties: props() });
    expect(response).toEqual({ PhysicalResourceId: RULE, Data: { StartBlue: 100, StartGreen: 0 } });
    const completed = await isComplete({ RequestType: 'Create', PhysicalResourceId: RULE, ResourceProperties: props(), Data: response.Data });
    expect(completed).toEqual(done(100, 0, T0, T0 + DAY));
    expect(sent()).toEqual([
      ...checkGroups,
      ['DescribeRulesCommand', { ListenerArn: LISTENER }],
      ['CreateRuleCommand', {
        ListenerArn: LISTENER,
        Priority: 50000,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
        Actions: [action(100, 0)],
        Tags: tags(100, 0, T0),
      }],
      releaseTags(T0, 'blue', 'all-at-once', { blue: 100, green: 0 }),
      ...describeCalls,
    ]);
  });

  test('a retried create adopts the rule the first attempt made instead of making a second', async () => {
    setWorld(100, 0);
    const response = await onEvent({ RequestType: 'Create', ResourceProperties: props() });
    expect(response.PhysicalResourceId).toBe(RULE);
    expect(sent().map(([name]) => name)).toEqual([
      'DescribeTargetGroupsCommand', 'DescribeTargetGroupsCommand', 'DescribeRulesCommand', 'DescribeRulesCommand', 'DescribeTagsCommand', 'AddTagsCommand',
    ]);
    expect(changes()).toEqual([]);
  });

  test('fails when the priority is taken by a rule that forwards elsewhere, and changes nothing', async () => {
    world.rule = {
      RuleArn: `${LISTENER.replace(':listener/', ':listener-rule/')}/other`,
      Priority: '50000',
      Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
    };
    world.tags = [];
    await expect(onEvent({ RequestType: 'Create', ResourceProperties: props() })).rejects.toThrow(
      /RulePriority: priority 50000 is taken on the listener by .*other, which forwards elsewhere; choose a free rulePriority; nothing was changed/,
    );
    expect(changes()).toEqual([]);
  });
});

describe('update', () => {
  test('canary: 10% to green at once, then the rest after the bake time; reports the weights and when blue is drained', async () => {
    setWorld(100, 0);
    const { event, response } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300' });
    expect(response).toEqual({ PhysicalResourceId: RULE, Data: { StartBlue: 100, StartGreen: 0 } });
    expect(sent()).toEqual([...checkGroups, ...describeCalls, releaseTags(T0, 'green', 'canary:10:300', { blue: 100, green: 0 })]);

    elb.resetHistory();
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(sent()).toEqual(stepCalls('green', 90, 10, T0));

    // Between the steps, each poll watches green's gates.
    elb.resetHistory();
    at(T0 + 299_000);
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(sent()).toEqual([...describeCalls, ['DescribeTargetHealthCommand', { TargetGroupArn: GREEN }]]);

    elb.resetHistory();
    at(T0 + 300_000);
    expect(await isComplete(event)).toEqual(done(0, 100, T0 + 300_000, T0 + 300_000 + DAY));
    expect(sent()).toEqual(stepCalls('green', 0, 100, T0 + 300_000));
  });

  test('linear: one step per interval, each gated by health and alarms', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'linear:40:60', AlarmNames: ['green-5xx'] });
    const seen: string[] = [];
    for (const time of [T0, T0 + 30_000, T0 + 60_000, T0 + 120_000]) {
      at(time);
      elb.resetHistory();
      cloudwatch.resetHistory();
      const result = await isComplete(event);
      seen.push(`${result.IsComplete}:${(world.rule!.Actions![0].ForwardConfig!.TargetGroups!).map((t) => t.Weight).join('/')}`);
    }
    expect(seen).toEqual(['false:60/40', 'false:60/40', 'false:20/80', 'true:0/100']);
    expect(sent()).toEqual([
      ...describeCalls,
      ['DescribeTargetHealthCommand', { TargetGroupArn: GREEN }],
      ['DescribeAlarmsCommand', { AlarmNames: ['green-5xx'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100 }],
      ['ModifyRuleCommand', { RuleArn: RULE, Actions: [action(0, 100)] }],
      ['AddTagsCommand', { ResourceArns: [RULE], Tags: tags(0, 100, T0 + 120_000) }],
    ]);
  });

  test('a repeated poll after a step does no harm: it watches the gates and sends no change', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300' });
    await isComplete(event);
    elb.resetHistory();
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    const watch = [...describeCalls, ['DescribeTargetHealthCommand', { TargetGroupArn: GREEN }]];
    expect(sent()).toEqual([...watch, ...watch]);
  });

  test('a canary whose green fails between the steps is cut off at the next poll, not when the next step is due', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300', AlarmNames: ['green-5xx'] });
    await isComplete(event);
    world.health[GREEN] = ['unhealthy', 'unhealthy'];
    at(T0 + 30_000);
    await expect(isComplete(event)).rejects.toThrow(
      'health gate failed: green has 0 healthy targets, needs at least 2 (unhealthy 2); between steps, 270 s before the next. The rule now sends every user to blue');
    expect(world.rule!.Actions).toEqual([cutAction('green')]);
  });

  test('a gate alarm DescribeAlarms does not return fails the gate instead of passing unseen', async () => {
    setWorld(100, 0);
    delete world.alarms['green-latency'];
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once', AlarmNames: ['green-5xx', 'green-latency'] });
    await expect(isComplete(event)).rejects.toThrow(/^alarm gate failed: green-latency not found, so not checked; /);
  });

  test('more than 100 gate alarms are read 100 names a call, page by page', async () => {
    setWorld(100, 0);
    const names = Array.from({ length: 150 }, (_, i) => `gate-${i}`);
    for (const name of names) {
      world.alarms[name] = 'OK';
    }
    cloudwatch.on(DescribeAlarmsCommand).callsFake((input) => {
      // AWS answers at most MaxRecords alarms a page; this one answers 60 and points to the rest.
      const start = Number(input.NextToken ?? 0);
      const page = (input.AlarmNames as string[]).slice(start, start + 60);
      const next = start + 60 < input.AlarmNames.length ? String(start + 60) : undefined;
      return { MetricAlarms: page.map((AlarmName) => ({ AlarmName, StateValue: world.alarms[AlarmName] })), NextToken: next };
    });
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once', AlarmNames: names });
    // BlueGreenRouting grants DescribeAlarms on each gate alarm's ARN; the synthesized stack has two.
    const arns = names.map((name) => `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${name}`);
    await withPolicy('isComplete', [...policies.isComplete, { Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: arns }], async () => {
      expect(await isComplete(event)).toMatchObject({ IsComplete: true });
    });
    expect(sent().filter(([name]) => name === 'DescribeAlarmsCommand').map(([, input]) => {
      const { AlarmNames, NextToken } = input as { AlarmNames: string[]; NextToken?: string };
      return `${AlarmNames[0]}..${AlarmNames[AlarmNames.length - 1]}@${NextToken ?? 0}`;
    })).toEqual(['gate-0..gate-99@0', 'gate-0..gate-99@60', 'gate-100..gate-149@0']);
  });

  test('targets still in their initial health checks make the step wait, then go', async () => {
    setWorld(100, 0);
    world.health[GREEN] = ['healthy', 'initial'];
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once' });
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(world.rule!.Actions).toEqual([action(100, 0)]);
    world.health[GREEN] = ['healthy', 'healthy'];
    expect(await isComplete(event)).toMatchObject({ IsComplete: true, Data: { BlueWeight: '0', GreenWeight: '100' } });
  });

  test('replaced target groups or a new group stickiness are applied at once, carrying the weights over by color', async () => {
    setWorld(70, 30);
    const NEW_GREEN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/green2/aaaaaaaaaaaaaaaa';
    world.health[NEW_GREEN] = ['healthy', 'healthy'];
    world.rule = { ...world.rule!, Actions: [action(70, 30)] };
    await update({}, { GreenTargetGroupArn: NEW_GREEN, GroupStickinessSeconds: '3600' });
    expect(sent().filter(([name]) => name === 'ModifyRuleCommand')).toEqual([['ModifyRuleCommand', {
      RuleArn: RULE,
      Actions: [{
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: BLUE, Weight: 70 }, { TargetGroupArn: NEW_GREEN, Weight: 30 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 3600 },
        },
      }],
    }]]);
  });
});

describe('a failed gate, the rollback, and the next shift', () => {
  test('an alarm in ALARM during a canary cuts green off the rule, so users the canary pinned to green go to blue too, and fails with what it saw', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300', AlarmNames: ['green-5xx', 'green-latency'] });
    await isComplete(event);
    expect(world.rule!.Actions).toEqual([action(90, 10)]);
    world.alarms['green-5xx'] = 'ALARM';
    at(T0 + 300_000);
    elb.resetHistory();
    cloudwatch.resetHistory();
    await expect(isComplete(event)).rejects.toThrow(
      'alarm gate failed: green-5xx in ALARM; before the step to blue=0/green=100. ' +
      'The rule now sends every user to blue, those pinned to green too: green stays in it at weight 0 without group stickiness, ' +
      'so the load balancer keeps checking its health, until a deploy shifts to green again; CloudFormation rolls the stack back',
    );
    expect(sent()).toEqual([
      ...describeCalls,
      ['DescribeTargetHealthCommand', { TargetGroupArn: GREEN }],
      ['DescribeAlarmsCommand', { AlarmNames: ['green-5xx', 'green-latency'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100 }],
      // Green at weight 0 and no group stickiness: no AWSALBTG cookie can take anyone to green any more.
      ['ModifyRuleCommand', { RuleArn: RULE, Actions: [cutAction('green')] }],
      ['AddTagsCommand', { ResourceArns: [RULE], Tags: cutTags('green', T0 + 300_000) }],
    ]);
  });

  test('a failed health gate at the first step cuts green off as well: users an earlier release left pinned to green leave it', async () => {
    setWorld(100, 0);
    world.health[GREEN] = ['healthy', 'unhealthy', 'unhealthy'];
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once' });
    elb.resetHistory();
    await expect(isComplete(event)).rejects.toThrow(
      'health gate failed: green has 1 healthy target, needs at least 2 (healthy 1, unhealthy 2); before the step to blue=0/green=100. The rule now sends every user to blue',
    );
    expect(sent()).toEqual([
      ...describeCalls,
      ['DescribeTargetHealthCommand', { TargetGroupArn: GREEN }],
      ['ModifyRuleCommand', { RuleArn: RULE, Actions: [cutAction('green')] }],
      ['AddTagsCommand', { ResourceArns: [RULE], Tags: cutTags('green', T0) }],
    ]);
  });

  test('a repeated poll after the cut fails again without changing the rule again', async () => {
    setCutOff('green', T0);
    world.health[GREEN] = ['unhealthy', 'unhealthy'];
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once' });
    await expect(isComplete(event)).rejects.toThrow(/^health gate failed: green has 0 healthy targets/);
    expect(changes()).toEqual([]);
  });

  test('then CloudFormation\'s rollback update succeeds, leaving green cut off, and reports it', async () => {
    setCutOff('green', T0 + 300_000);
    at(T0 + 360_000);
    const { event, response } = await update({ TargetColor: 'green', Plan: 'canary:10:300' }, { TargetColor: 'blue', Plan: 'canary:10:300' });
    expect(response.Data).toEqual({ StartBlue: 100, StartGreen: 0 });
    // DrainedAt is the cut itself: from then on nobody reaches green.
    expect(await isComplete(event)).toEqual(done(100, 0, T0 + 300_000, T0 + 300_000, 'rolled-back'));
    expect(changes()).toEqual([]);
    expect(world.rule!.Actions).toEqual([cutAction('green')]);
  });

  test('a later deploy that still targets blue keeps green cut off, so old green cookies cannot take anyone back to it at weight 0', async () => {
    setCutOff('green', T0);
    const { event } = await update({ MinHealthyTargets: '2' }, { MinHealthyTargets: '3' });
    expect(await isComplete(event)).toMatchObject({ IsComplete: true, Data: { Outcome: 'rolled-back' } });
    expect(changes()).toEqual([]);
  });

  test('the next shift to green puts the two-group, sticky action back with its first step', async () => {
    setCutOff('green', T0 - 3_600_000);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300' });
    elb.resetHistory();
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(sent()).toEqual(stepCalls('green', 90, 10, T0));
    at(T0 + 300_000);
    expect(await isComplete(event)).toMatchObject({ IsComplete: true, Data: { BlueWeight: '0', GreenWeight: '100', Outcome: 'shifted' } });
    expect(world.rule!.Actions).toEqual([action(0, 100)]);
  });

  test('replaced target groups while cut off carry the cut over to the new group', async () => {
    setCutOff('green', T0);
    const NEW_BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue2/bbbbbbbbbbbbbbbb';
    world.health[NEW_BLUE] = ['healthy', 'healthy'];
    await update({}, { BlueTargetGroupArn: NEW_BLUE });
    expect(sent().filter(([name]) => name === 'ModifyRuleCommand')).toEqual([['ModifyRuleCommand', {
      RuleArn: RULE,
      Actions: [{
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: NEW_BLUE, Weight: 100 }, { TargetGroupArn: GREEN, Weight: 0 }],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      }],
    }]]);
  });

  test('a cut-off rule someone gave group stickiness back is refused as changed by someone else', async () => {
    setCutOff('green', T0);
    world.rule = { ...world.rule!, Actions: [action(100, 0)] };
    await expect(update({}, { TargetColor: 'green' })).rejects.toThrow(
      `rule ${RULE} was changed by someone else: it has blue=100/green=0 with 86400 s group stickiness, ` +
      'but this stack last set blue=100/green=0 without group stickiness; nothing was changed.',
    );
  });
});

describe('releases across deploys, as ELB reports health', () => {
  test('after a failed gate and the rollback, the next release to green shifts by its plan: green stayed in the rule, so ELB kept checking it', async () => {
    setWorld(100, 0);
    const canary = { TargetColor: 'green', Plan: 'canary:10:300', AlarmNames: ['green-5xx'] };
    const first = await update({}, canary);
    await isComplete(first.event);
    world.alarms['green-5xx'] = 'ALARM';
    at(T0 + 300_000);
    await expect(isComplete(first.event)).rejects.toThrow(/^alarm gate failed: green-5xx in ALARM/);
    const rollback = await update(canary, { ...canary, TargetColor: 'blue' });
    expect(await isComplete(rollback.event)).toMatchObject({ IsComplete: true, Data: { Outcome: 'rolled-back' } });

    // The fault fixed: the alarm is back to OK and green's instances pass their checks.
    world.alarms['green-5xx'] = 'OK';
    at(T0 + 3_600_000);
    const again = await update({ ...canary, TargetColor: 'blue' }, canary);
    expect(await isComplete(again.event)).toEqual({ IsComplete: false });
    expect(world.rule!.Actions).toEqual([action(90, 10)]);
    at(T0 + 3_900_000);
    expect(await isComplete(again.event)).toMatchObject({ IsComplete: true, Data: { BlueWeight: '0', GreenWeight: '100', Outcome: 'shifted' } });
  });

  test('a deploy that creates the rule already targeting green starts where users are, on blue, and moves by the plan and its gates', async () => {
    const created = await onEvent({ RequestType: 'Create', ResourceProperties: props({ TargetColor: 'green', Plan: 'canary:10:300' }) });
    expect(created.Data).toEqual({ StartBlue: 100, StartGreen: 0 });
    expect(sent().find(([name]) => name === 'CreateRuleCommand')).toMatchObject([
      'CreateRuleCommand', { Actions: [action(100, 0)], Tags: tags(100, 0, T0) },
    ]);
    const event: ShiftEvent = {
      RequestType: 'Create', PhysicalResourceId: RULE, ResourceProperties: props({ TargetColor: 'green', Plan: 'canary:10:300' }), Data: created.Data,
    };
    elb.resetHistory();
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(sent()).toEqual(stepCalls('green', 90, 10, T0));
    at(T0 + 300_000);
    expect(await isComplete(event)).toMatchObject({ IsComplete: true, Data: { BlueWeight: '0', GreenWeight: '100' } });
  });

  test('such a create whose green fails its first gate leaves everyone on blue and fails', async () => {
    world.health[GREEN] = ['unhealthy', 'unhealthy'];
    const created = await onEvent({ RequestType: 'Create', ResourceProperties: props({ TargetColor: 'green' }) });
    const event: ShiftEvent = { RequestType: 'Create', PhysicalResourceId: RULE, ResourceProperties: props({ TargetColor: 'green' }), Data: created.Data };
    await expect(isComplete(event)).rejects.toThrow(/^health gate failed: green has 0 healthy targets/);
    expect(world.rule!.Actions).toEqual([cutAction('green')]);
  });

  test('a new listener gets a rule that starts as the replaced rule left the traffic', async () => {
    // A deploy that moves the routing to another listener in the middle of a linear shift to green.
    setWorld(30, 70, T0 - 60_000);
    const NEW_LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/demo/50dc6c495c0c9188/aaaaaaaaaaaaaaaa';
    // The policy BlueGreenRouting writes for the new listener: CreateRule on it, tags on its rules.
    const newListenerPolicy = [...policies.onEvent,
      { Effect: 'Allow', Action: 'elasticloadbalancing:CreateRule', Resource: NEW_LISTENER },
      { Effect: 'Allow', Action: 'elasticloadbalancing:AddTags', Resource: `${NEW_LISTENER.replace(':listener/', ':listener-rule/')}/*` }];
    await withPolicy('onEvent', newListenerPolicy, async () => {
      const { response } = await update({ TargetColor: 'green', Plan: 'linear:10:60' }, { TargetColor: 'green', Plan: 'linear:10:60', ListenerArn: NEW_LISTENER });
      expect(response.Data).toEqual({ StartBlue: 30, StartGreen: 70 });
    });
    expect(sent().find(([name]) => name === 'CreateRuleCommand')).toMatchObject([
      'CreateRuleCommand', { ListenerArn: NEW_LISTENER, Actions: [action(30, 70)] },
    ]);
    expect(world.rule!.RuleArn).toBe(ruleArnOn(NEW_LISTENER));
  });
});

describe('the rule\'s priority', () => {
  test('a deploy that changes rulePriority moves the rule in place, with its weights, before the release', async () => {
    setWorld(30, 70);
    await update({}, { RulePriority: '100' });
    expect(sent().filter(([name]) => name === 'SetRulePrioritiesCommand')).toEqual([['SetRulePrioritiesCommand', { RulePriorities: [{ RuleArn: RULE, Priority: 100 }] }]]);
    expect(changes()).toEqual([]);
    expect(world.rule!.Priority).toBe('100');
    expect(world.rule!.Actions).toEqual([action(30, 70)]);
  });

  test('a priority another rule holds is refused before any change', async () => {
    setWorld(100, 0);
    world.others.push({ RuleArn: `${RULE.replace(/[^/]+$/, '')}teamrule`, Priority: '100', Actions: [] });
    await expect(update({}, { RulePriority: '100', TargetColor: 'green' })).rejects.toThrow(
      /^RulePriority: priority 100 is taken on the listener by .*teamrule; choose a free rulePriority; nothing was changed/);
    expect(sent().filter(([name]) => /Modify|Create|Delete|SetRule/.test(name))).toEqual([]);
    expect(world.rule!.Priority).toBe('50000');
  });

  test('CloudFormation\'s rollback moves it back', async () => {
    setWorld(100, 0);
    world.rule = { ...world.rule!, Priority: '100' };
    await update({ RulePriority: '100' }, {});
    expect(world.rule!.Priority).toBe('50000');
  });
});

/** The hook of the routing the policies come from, as a release names it. */
const HOOK = `arn:aws:lambda:eu-west-1:123456789012:function:${HOOK_NAME}`;
const withHook = { HookFunctionArn: HOOK, HookTimeoutSeconds: '120' };
const testTraffic = { TestHeaderName: 'X-Session-Tier-Preview', TestHeaderValue: 'tester-7f3a', TestCookieName: 'preview', TestCookieValue: 'green-7f3a', TestRulePriority: '49998' };

describe('hooks', () => {
  test('a release asks the hook before the first step, after each step and after the bake, each stage once, with what it is doing', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300', BakeSeconds: '600', ...withHook });
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    // Before the first step, then the step, then its after-step hook, in one poll.
    expect(world.hookCalls.map((c) => `${c.stage}${c.share !== undefined ? `:${c.share}` : ''}`)).toEqual(['before-first-step', 'after-step:10']);
    expect(world.hookCalls[0]).toEqual({
      stage: 'before-first-step', targetColor: 'green', plan: 'canary:10:300', weights: { blue: 100, green: 0 },
      releaseStartedAt: new Date(T0).toISOString(), attempt: 1, listenerArn: LISTENER, ruleArn: RULE, blueTargetGroupArn: BLUE, greenTargetGroupArn: GREEN,
    });
    expect(world.rule!.Actions).toEqual([action(90, 10)]);
    at(T0 + 300_000);
    expect(await isComplete(event)).toEqual({ IsComplete: false }); // the last step and its hook; the bake begins
    at(T0 + 600_000);
    expect(await isComplete(event)).toEqual({ IsComplete: false }); // baking
    at(T0 + 900_000);
    expect(await isComplete(event)).toMatchObject({ IsComplete: true, Data: { GreenWeight: '100', Outcome: 'shifted' } });
    expect(world.hookCalls.map((c) => `${c.stage}${c.share !== undefined ? `:${c.share}` : ''}`))
      .toEqual(['before-first-step', 'after-step:10', 'after-step:100', 'after-bake']);
  });

  test('IN_PROGRESS is asked again at the next poll, and the step waits for SUCCEEDED', async () => {
    setWorld(100, 0);
    let answer = 'IN_PROGRESS';
    world.hook = () => ({ hookStatus: answer });
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once', ...withHook });
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    at(T0 + 30_000);
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(world.rule!.Actions).toEqual([action(100, 0)]);
    expect(world.hookCalls.map((c) => c.attempt)).toEqual([1, 2]);
    answer = 'SUCCEEDED';
    at(T0 + 60_000);
    expect(await isComplete(event)).toMatchObject({ IsComplete: true, Data: { GreenWeight: '100' } });
  });

  test('a hook still IN_PROGRESS after its timeout fails the release and cuts green off', async () => {
    setWorld(100, 0);
    world.hook = () => ({ hookStatus: 'IN_PROGRESS' });
    const { event } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300', ...withHook });
    await isComplete(event); // the before-first-step hook, IN_PROGRESS
    at(T0 + 121_000);
    await expect(isComplete(event)).rejects.toThrow(
      `hook ${HOOK} at before-first-step answered IN_PROGRESS for 121 s, more than its 120 s. The rule now sends every user to blue`);
    expect(world.rule!.Actions).toEqual([cutAction('green')]);
  });

  test.each([
    ['FAILED with its reason', () => ({ hookStatus: 'FAILED', reason: 'smoke test: login returned 500' }), 'failed: smoke test: login returned 500'],
    ['an error of the function', () => new Error('boom'), 'failed: the hook failed (Unhandled): {"errorType":"Error","errorMessage":"boom"}'],
    ['an answer of another shape', () => ({ ok: true }), 'failed: the hook answered "{\\"ok\\":true}"; it must answer { "hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS" }'],
  ])('a hook that answers %s after the canary cuts green off and fails', async (_, hook, message) => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'canary:10:300', ...withHook });
    world.hook = (request) => (request.stage === 'after-step' ? hook() : { hookStatus: 'SUCCEEDED' });
    await expect(isComplete(event)).rejects.toThrow(`hook ${HOOK} at after-step:10 ${message}`);
    expect(world.rule!.Actions).toEqual([cutAction('green')]);
  });

  test('a hook that passed in an earlier release does not pass this one', async () => {
    setWorld(100, 0);
    const first = await update({}, { TargetColor: 'green', Plan: 'all-at-once', ...withHook });
    world.hook = () => ({ hookStatus: 'FAILED', reason: 'no' });
    await expect(isComplete(first.event)).rejects.toThrow(/at before-first-step failed: no/);
    world.hook = () => ({ hookStatus: 'SUCCEEDED' });
    at(T0 + 60_000);
    const again = await update({ TargetColor: 'blue' }, { TargetColor: 'green', Plan: 'all-at-once', ...withHook });
    world.hookCalls = [];
    await isComplete(again.event);
    expect(world.hookCalls.map((c) => c.stage)).toEqual(['before-first-step', 'after-step', 'after-bake']);
  });
});

describe('the bake', () => {
  test('a gate that fails during the bake cuts green off as a failed step does', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once', BakeSeconds: '600', AlarmNames: ['green-5xx'] });
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    expect(world.rule!.Actions).toEqual([action(0, 100)]);
    world.alarms['green-5xx'] = 'ALARM';
    at(T0 + 200_000);
    await expect(isComplete(event)).rejects.toThrow(
      'alarm gate failed: green-5xx in ALARM; during the bake, 400 s before its end. The rule now sends every user to blue');
    expect(world.rule!.Actions).toEqual([cutAction('green')]);
  });

  test('targets still in their first checks during the bake neither fail nor end it', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once', BakeSeconds: '60' });
    await isComplete(event);
    world.health[GREEN] = ['healthy', 'initial', 'initial'];
    at(T0 + 30_000);
    expect(await isComplete(event)).toEqual({ IsComplete: false });
    world.health[GREEN] = ['healthy', 'healthy'];
    at(T0 + 60_000);
    expect(await isComplete(event)).toMatchObject({ IsComplete: true });
  });
});

describe('test traffic', () => {
  const headerRule = `${LISTENER.replace(':listener/', ':listener-rule/')}/test49998`;
  const cookieRule = `${LISTENER.replace(':listener/', ':listener-rule/')}/test49999`;

  test('before any step, a header rule and a cookie rule forward to the release\'s target color, with the routing\'s conditions', async () => {
    setWorld(100, 0);
    const conditions = [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }];
    const { event } = await update({ Conditions: conditions }, { TargetColor: 'green', Plan: 'canary:10:300', Conditions: conditions, ...testTraffic });
    expect(sent().filter(([name]) => name === 'CreateRuleCommand')).toEqual([
      ['CreateRuleCommand', {
        ListenerArn: LISTENER, Priority: 49998,
        Conditions: [...conditions, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Session-Tier-Preview', Values: ['tester-7f3a'] } }],
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: GREEN, Weight: 1 }] } }],
      }],
      ['CreateRuleCommand', {
        ListenerArn: LISTENER, Priority: 49999,
        Conditions: [...conditions, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'Cookie', Values: ['*preview=green-7f3a*'] } }],
        Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: GREEN, Weight: 1 }] } }],
      }],
    ]);
    expect(world.tags).toEqual(expect.arrayContaining([
      { Key: 'cdk-session-tier:test-header-rule', Value: headerRule }, { Key: 'cdk-session-tier:test-cookie-rule', Value: cookieRule },
    ]));
    // Green is in use before any user reaches it: its targets are health-checked.
    expect(world.rule!.Actions).toEqual([action(100, 0)]);
    await isComplete(event);
    expect(world.rule!.Actions).toEqual([action(90, 10)]);
  });

  test('the next release retargets the test rules, and a deploy without test traffic deletes them; the delete takes them too', async () => {
    setWorld(0, 100);
    await update({}, { TargetColor: 'green', ...testTraffic });
    elb.resetHistory();
    await update({ TargetColor: 'green', ...testTraffic }, { TargetColor: 'blue', ...testTraffic });
    expect(sent().filter(([name]) => name === 'ModifyRuleCommand').map(([, input]) => (input as { Actions: Action[] }).Actions[0].ForwardConfig!.TargetGroups![0].TargetGroupArn))
      .toEqual([BLUE, BLUE]);
    await update({ TargetColor: 'blue', ...testTraffic }, { TargetColor: 'blue' });
    expect(world.others).toEqual([]);
    await update({ TargetColor: 'blue' }, { TargetColor: 'blue', ...testTraffic });
    expect(world.others).toHaveLength(2);
    await onEvent({ RequestType: 'Delete', PhysicalResourceId: RULE, ResourceProperties: props({ ...testTraffic }) });
    expect({ rule: world.rule, others: world.others }).toEqual({ rule: undefined, others: [] });
  });

  test('a test priority another rule holds fails before any step, saying which', async () => {
    setWorld(100, 0);
    world.others.push({ RuleArn: `${LISTENER.replace(':listener/', ':listener-rule/')}/teams`, Priority: '49998', Actions: [] });
    await expect(update({}, { TargetColor: 'green', ...testTraffic })).rejects.toThrow(
      /TestRulePriority: priority 49998 is taken on the listener by .*teams; choose free priorities for the test rules; the release did not start/);
    expect(world.rule!.Actions).toEqual([action(100, 0)]);
  });

  test.each([
    [{ TestHeaderValue: 'a*b' }, 'TestHeaderValue: must be 1 to 128 visible ASCII characters without ELB\'s wildcards * and ?, got "a*b"'],
    [{ TestHeaderName: 'X Header' }, 'TestHeaderName: must be an HTTP header name of at most 40 characters, got "X Header"'],
    [{ TestCookieValue: '' }, 'TestCookieName: a cookie needs a name and a value'],
    [{ TestRulePriority: '49999' }, 'TestRulePriority: the test rules must come before the weighted rule (50000), got 49999 and 50000'],
  ])('bad test traffic %j fails and changes nothing', async (bad, message) => {
    setWorld(100, 0);
    await expect(update({}, { ...testTraffic, ...bad })).rejects.toThrow(message);
    expect(changes()).toEqual([]);
  });
});

describe('conditions', () => {
  test('a new rule gets the routing\'s conditions, and a deploy that changes them changes the rule\'s', async () => {
    const host = [{ Field: 'host-header', HostHeaderConfig: { Values: ['shop.example.com'] } }];
    await onEvent({ RequestType: 'Create', ResourceProperties: props({ Conditions: host }) });
    expect(world.rule!.Conditions).toEqual(host);
    const path = [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/shop/*'] } }];
    await update({ Conditions: host }, { Conditions: path });
    expect(sent().filter(([name]) => name === 'ModifyRuleCommand')).toEqual([['ModifyRuleCommand', { RuleArn: RULE, Conditions: path }]]);
  });
});

describe('a deliberate move back', () => {
  test('targeting blue again after a finished shift to green is a shift like any other: sticky, both groups, green drained a stickiness later', async () => {
    setWorld(0, 100);
    world.health[BLUE] = ['healthy', 'healthy'];
    const { event } = await update({ TargetColor: 'green' }, { TargetColor: 'blue', Plan: 'all-at-once' });
    elb.resetHistory();
    expect(await isComplete(event)).toEqual(done(100, 0, T0, T0 + DAY));
    expect(sent()).toEqual(stepCalls('blue', 100, 0, T0));
  });
});

describe('delete', () => {
  test('deletes the rule', async () => {
    setWorld(100, 0);
    await onEvent({ RequestType: 'Delete', PhysicalResourceId: RULE, ResourceProperties: props() });
    expect(await isComplete({ RequestType: 'Delete', PhysicalResourceId: RULE, ResourceProperties: props() })).toEqual({ IsComplete: true });
    expect(sent()).toEqual([...describeCalls, ['DeleteRuleCommand', { RuleArn: RULE }]]);
  });

  test('a repeated delete of a rule already gone succeeds', async () => {
    await expect(onEvent({ RequestType: 'Delete', PhysicalResourceId: RULE, ResourceProperties: props() })).resolves.toMatchObject({ PhysicalResourceId: RULE });
  });

  test('a delete after a failed create (no rule ARN) sends nothing', async () => {
    await onEvent({ RequestType: 'Delete', PhysicalResourceId: 'request-id-1', ResourceProperties: props() });
    expect(sent()).toEqual([]);
  });
});

describe('bad input fails with a clear message and changes nothing', () => {
  test.each([
    [{ Plan: 'fast' }, 'Plan: plan: must be all-at-once, canary:<percent>:<seconds> or linear:<percent>:<seconds>, got "fast"'],
    [{ Plan: 'canary:150:60' }, 'Plan: plan: the step must be a whole percentage from 1 to 99, got 150'],
    [{ TargetColor: 'purple' }, 'TargetColor: must be blue or green, got "purple"'],
    [{ GroupStickinessSeconds: '604801' }, 'GroupStickinessSeconds: must be a whole number from 0 to 604800, got "604801"'],
    [{ MinHealthyTargets: '-1' }, 'MinHealthyTargets: must be a whole number from 0 to 1000, got "-1"'],
    [{ RulePriority: '0' }, 'RulePriority: must be a whole number from 1 to 50000, got "0"'],
    [{ BlueTargetGroupArn: 'blue' }, 'BlueTargetGroupArn: must be an ELBv2 targetgroup ARN, got "blue"'],
    [{ GreenTargetGroupArn: BLUE }, 'GreenTargetGroupArn: must differ from the blue target group'],
    [{ AlarmNames: 'one' }, 'AlarmNames: must be a list of alarm names, got "one"'],
  ])('%j', async (bad, message) => {
    setWorld(100, 0);
    await expect(onEvent({ RequestType: 'Update', PhysicalResourceId: RULE, ResourceProperties: props(bad), OldResourceProperties: props() }))
      .rejects.toThrow(`invalid properties, nothing was changed: ${message}`);
    expect(sent()).toEqual([]);
  });

  test('a missing target group', async () => {
    setWorld(100, 0);
    delete world.health[GREEN];
    await expect(update({}, { TargetColor: 'green' })).rejects.toThrow(`green target group not found: ${GREEN}; nothing was changed`);
    expect(sent()).toEqual(checkGroups);
  });

  test('a rule changed by someone else meanwhile', async () => {
    setWorld(50, 50, T0, { blue: 100, green: 0 });
    await expect(update({}, { TargetColor: 'green' })).rejects.toThrow(
      `rule ${RULE} was changed by someone else: it has blue=50/green=50 with 86400 s group stickiness, ` +
      'but this stack last set blue=100/green=0 with 86400 s group stickiness; nothing was changed.',
    );
    expect(changes()).toEqual([]);
  });

  test('a weights tag it cannot read, such as the comma form ELBv2 never accepted', async () => {
    setWorld(100, 0);
    world.tags = [{ Key: 'cdk-session-tier:weights', Value: 'blue=100,green=0' }];
    await expect(update({}, { TargetColor: 'green' })).rejects.toThrow(
      `rule ${RULE} was changed by someone else: it has blue=100/green=0 with 86400 s group stickiness, but this stack last set nothing it can read; nothing was changed.`,
    );
  });

  test('a rule deleted outside CloudFormation', async () => {
    await expect(update({}, { TargetColor: 'green' })).rejects.toThrow(`rule ${RULE} not found: it was deleted outside CloudFormation; nothing was changed.`);
  });
});

describe('the role policies', () => {
  test('allow no action the handlers do not send: a create, a carry-over, a move, a gated step and a delete use every one', async () => {
    const created = await onEvent({ RequestType: 'Create', ResourceProperties: props() });
    await isComplete({ RequestType: 'Create', PhysicalResourceId: RULE, ResourceProperties: props(), Data: created.Data });
    await update({}, { GroupStickinessSeconds: '3600' });
    await update({ GroupStickinessSeconds: '3600' }, { GroupStickinessSeconds: '3600', RulePriority: '100' });
    await update({ GroupStickinessSeconds: '3600', RulePriority: '100' }, { GroupStickinessSeconds: '3600' });
    const { event } = await update({ GroupStickinessSeconds: '3600' }, { TargetColor: 'green', Plan: 'canary:10:300', AlarmNames: ['green-5xx'], ...withHook });
    await isComplete(event);
    await onEvent({ RequestType: 'Delete', PhysicalResourceId: RULE, ResourceProperties: props() });
    expect(unusedActions(sentBy.onEvent, policies.onEvent, TEST_AWS)).toEqual([]);
    expect(unusedActions(sentBy.isComplete, policies.isComplete, TEST_AWS)).toEqual([]);

    // Every command the handlers' code can send was among them, so each one was checked against the policy.
    const sources = readdirSync(HANDLER_DIR).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(HANDLER_DIR, f), 'utf8')).join('\n');
    const sendable = new Set([...sources.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]));
    expect(new Set([...sentBy.onEvent, ...sentBy.isComplete].map((r) => r.operation))).toEqual(sendable);
  });

  test('deny what a handler sends outside them, failing the test that sent it', async () => {
    setWorld(100, 0);
    const { event } = await update({}, { TargetColor: 'green', Plan: 'all-at-once', AlarmNames: ['green-5xx'] });
    await withPolicy('isComplete', policies.isComplete.filter((statement) => statement.Sid !== 'ReadOnlyTheGateAlarms'), async () => {
      await expect(isComplete(event)).rejects.toThrow(
        'the isComplete role\'s policy denies: DescribeAlarms needs cloudwatch:DescribeAlarms on arn:aws:cloudwatch:eu-west-1:123456789012:alarm:green-5xx',
      );
    });
  });
});

/**
 * Every AWS call the traffic shifter makes, in one module: the listener rule
 * it owns, the target groups' health, and the gate alarms. Each change sends
 * the whole forward action: both target groups with their weights, with the
 * target-group stickiness, or after a failed gate without it.
 */
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  Action, AddTagsCommand, CreateRuleCommand, DeleteRuleCommand, DescribeRulesCommand, DescribeTagsCommand,
  DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, ModifyRuleCommand, Rule, RuleCondition, SetRulePrioritiesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { FLEET_COLORS, FleetColorName } from '../../lib/contract/app-env';
import { Weights, sameWeights } from '../../lib/contract/traffic-shift';
import { RuleState, formatState, formatWeights, groupStickinessOn, parseState } from './plan';
import { TAG_SHIFTED_AT, TAG_WEIGHTS } from './release';

const elb = new ElasticLoadBalancingV2Client({});
const cloudwatch = new CloudWatchClient({});

// Defined with the release's tags, so that the status command reads them without this module's clients.
export { TAG_SHIFTED_AT, TAG_WEIGHTS } from './release';

/** The rule's forward targets, by color. */
export interface TargetGroups {
  readonly blue: string;
  readonly green: string;
}

/** The rule's forward action as ELB returns it, when it names both colors' groups and nothing else. */
export interface LiveAction {
  readonly weights: Weights;
  /** Whether the action has target-group stickiness, and for how long. */
  readonly stickinessSeconds?: number;
}

/** The rule as the shifter sees it. */
export interface LiveRule {
  readonly ruleArn: string;
  /** Its forward action; undefined when the rule forwards anywhere but to the two expected groups. */
  readonly action?: LiveAction;
  /** What this resource recorded at its last change. */
  readonly recorded?: RuleState;
  /** When this resource last changed the rule, in ms since the epoch. */
  readonly shiftedAt?: number;
  /** Every tag of the rule, by key. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * The one forward action the rule carries: both colors' target groups with
 * their weights, with target-group stickiness unless a color is cut off (see
 * `RuleState`). A request goes only to a group with weight above 0, unless
 * group stickiness is on and its AWSALBTG cookie names another group of the action.
 */
export function forwardAction(groups: TargetGroups, state: RuleState, groupStickinessSeconds: number): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: groups.blue, Weight: state.weights.blue },
        { TargetGroupArn: groups.green, Weight: state.weights.green },
      ],
      TargetGroupStickinessConfig: groupStickinessOn(state, groupStickinessSeconds)
        ? { Enabled: true, DurationSeconds: groupStickinessSeconds }
        : { Enabled: false },
    },
  };
}

/** Whether the live action is the one `forwardAction` makes for `state`. */
export function actionIs(action: LiveAction, state: RuleState, groupStickinessSeconds: number): boolean {
  const sticky = groupStickinessOn(state, groupStickinessSeconds);
  return sameWeights(action.weights, state.weights) && action.stickinessSeconds === (sticky ? groupStickinessSeconds : undefined);
}

/** How the live action reads in messages: its weights, and its group stickiness. */
export function formatAction(action: LiveAction): string {
  return `${formatWeights(action.weights)} ${action.stickinessSeconds ? `with ${action.stickinessSeconds} s` : 'without'} group stickiness`;
}

function tags(state: RuleState, now: number) {
  return [
    { Key: TAG_WEIGHTS, Value: formatState(state) },
    { Key: TAG_SHIFTED_AT, Value: new Date(now).toISOString() },
  ];
}

/** The rule's forward action, when it names exactly both `groups`. */
function actionOf(rule: Rule, groups: TargetGroups): LiveAction | undefined {
  const forward = rule.Actions?.find((a) => a.Type === 'forward');
  const targets = forward?.ForwardConfig?.TargetGroups
    ?? (forward?.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
  const colors = targets.map((t) => (t.TargetGroupArn === groups.blue ? 'blue' : t.TargetGroupArn === groups.green ? 'green' : undefined));
  if (targets.length !== 2 || colors.includes(undefined) || new Set(colors).size !== 2) {
    return undefined;
  }
  const weightOf = (color: FleetColorName) => targets[colors.indexOf(color)].Weight ?? 0;
  const stickiness = forward?.ForwardConfig?.TargetGroupStickinessConfig;
  return {
    weights: { blue: weightOf('blue'), green: weightOf('green') },
    stickinessSeconds: stickiness?.Enabled ? stickiness.DurationSeconds : undefined,
  };
}

/** Fails with a clear message when a target group does not exist. */
export async function assertTargetGroupsExist(groups: TargetGroups): Promise<void> {
  for (const color of FLEET_COLORS) {
    try {
      await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [groups[color]] }));
    } catch (e) {
      if ((e as Error).name === 'TargetGroupNotFoundException') {
        throw new Error(`${color} target group not found: ${groups[color]}; nothing was changed`);
      }
      throw e;
    }
  }
}

/** The rule at `priority` on the listener, if any. */
export async function findRuleAt(listenerArn: string, priority: number): Promise<string | undefined> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    const page = await elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }));
    rules.push(...page.Rules ?? []);
    marker = page.NextMarker;
  } while (marker);
  return rules.find((r) => r.Priority === String(priority))?.RuleArn;
}

/** Creates the rule in the given state, with `conditions`, and records the state and `extraTags` on it. */
export async function createRule(
  listenerArn: string, priority: number, conditions: readonly RuleCondition[], groups: TargetGroups, state: RuleState,
  groupStickinessSeconds: number, now: number, extraTags: Readonly<Record<string, string>> = {},
): Promise<string> {
  const created = await elb.send(new CreateRuleCommand({
    ListenerArn: listenerArn,
    Priority: priority,
    Conditions: [...conditions],
    Actions: [forwardAction(groups, state, groupStickinessSeconds)],
    Tags: [...tags(state, now), ...tagList(extraTags)],
  }));
  return created.Rules![0].RuleArn!;
}

/** Gives the rule new conditions; its action stays. */
export async function setConditions(ruleArn: string, conditions: readonly RuleCondition[]): Promise<void> {
  await elb.send(new ModifyRuleCommand({ RuleArn: ruleArn, Conditions: [...conditions] }));
}

/**
 * Moves the rule to `priority`, which must be free: ELB refuses a priority in
 * use (PriorityInUse), and leaves every rule it is not given where it is
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_SetRulePriorities.html).
 */
export async function setPriority(ruleArn: string, priority: number): Promise<void> {
  await elb.send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: ruleArn, Priority: priority }] }));
}

/** Adds or replaces tags of the rule. */
export async function writeTags(ruleArn: string, values: Readonly<Record<string, string>>): Promise<void> {
  await elb.send(new AddTagsCommand({ ResourceArns: [ruleArn], Tags: tagList(values) }));
}

function tagList(values: Readonly<Record<string, string>>) {
  return Object.entries(values).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * Puts a test rule in place: at `priority`, matching `conditions`, forwarding
 * to `targetGroupArn` alone (no stickiness: the header or cookie decides).
 * `known` is the rule this resource made earlier, if any: it is modified when
 * it is still at `priority`, else deleted and made anew.
 * @returns the rule's ARN
 */
export async function putTestRule(
  listenerArn: string, known: string | undefined, priority: number, conditions: readonly RuleCondition[], targetGroupArn: string,
): Promise<string> {
  const action: Action = { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: targetGroupArn, Weight: 1 }] } };
  const existing = known ? await ruleByArn(known) : undefined;
  if (existing && existing.Priority === String(priority)) {
    await elb.send(new ModifyRuleCommand({ RuleArn: known, Conditions: [...conditions], Actions: [action] }));
    return known!;
  }
  if (existing) {
    await deleteRule(known!);
  }
  const taken = await findRuleAt(listenerArn, priority);
  if (taken) {
    throw new Error(`TestRulePriority: priority ${priority} is taken on the listener by ${taken}; choose free priorities for the test rules; the release did not start`);
  }
  const created = await elb.send(new CreateRuleCommand({ ListenerArn: listenerArn, Priority: priority, Conditions: [...conditions], Actions: [action] }));
  return created.Rules![0].RuleArn!;
}

/** The rule, or undefined when it is gone. */
async function ruleByArn(ruleArn: string): Promise<Rule | undefined> {
  try {
    return (await elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules?.[0];
  } catch (e) {
    if ((e as Error).name === 'RuleNotFoundException') {
      return undefined;
    }
    throw e;
  }
}

/** Reads the rule's state for `groups`, what this resource recorded and every tag; undefined when the rule is gone. */
export async function describeRule(ruleArn: string, groups: TargetGroups): Promise<LiveRule | undefined> {
  const rule = await ruleByArn(ruleArn);
  if (!rule) {
    return undefined;
  }
  const tagged = (await elb.send(new DescribeTagsCommand({ ResourceArns: [ruleArn] }))).TagDescriptions?.[0]?.Tags ?? [];
  const tags: Record<string, string> = Object.fromEntries(tagged.map((t) => [t.Key!, t.Value ?? '']));
  const shiftedAt = Date.parse(tags[TAG_SHIFTED_AT] ?? '');
  return {
    ruleArn,
    action: actionOf(rule, groups),
    recorded: parseState(tags[TAG_WEIGHTS]),
    shiftedAt: Number.isNaN(shiftedAt) ? undefined : shiftedAt,
    tags,
  };
}

/** Puts the rule in `state` (the whole action) and records it on the rule. */
export async function setRule(
  ruleArn: string, groups: TargetGroups, state: RuleState, groupStickinessSeconds: number, now: number,
): Promise<void> {
  await elb.send(new ModifyRuleCommand({ RuleArn: ruleArn, Actions: [forwardAction(groups, state, groupStickinessSeconds)] }));
  await elb.send(new AddTagsCommand({ ResourceArns: [ruleArn], Tags: tags(state, now) }));
}

/** Deletes the rule; a rule already gone is fine. */
export async function deleteRule(ruleArn: string): Promise<void> {
  try {
    await elb.send(new DeleteRuleCommand({ RuleArn: ruleArn }));
  } catch (e) {
    if ((e as Error).name !== 'RuleNotFoundException') {
      throw e;
    }
  }
}

/** The target group's targets counted by health state. */
export async function targetStates(targetGroupArn: string): Promise<Record<string, number>> {
  const health = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }));
  const states: Record<string, number> = {};
  for (const d of health.TargetHealthDescriptions ?? []) {
    const state = d.TargetHealth?.State ?? 'unknown';
    states[state] = (states[state] ?? 0) + 1;
  }
  return states;
}

/**
 * The state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) of each named alarm, metric
 * or composite, by name; a name AWS did not return is missing.
 */
export async function alarmStates(alarmNames: readonly string[]): Promise<Record<string, string>> {
  const states: Record<string, string> = {};
  // DescribeAlarms takes at most 100 names per call and answers in pages of at most 100.
  for (let i = 0; i < alarmNames.length; i += 100) {
    let token: string | undefined;
    do {
      const page = await cloudwatch.send(new DescribeAlarmsCommand({
        AlarmNames: alarmNames.slice(i, i + 100),
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        MaxRecords: 100,
        NextToken: token,
      }));
      for (const alarm of [...page.MetricAlarms ?? [], ...page.CompositeAlarms ?? []]) {
        states[alarm.AlarmName!] = alarm.StateValue!;
      }
      token = page.NextToken;
    } while (token);
  }
  return states;
}

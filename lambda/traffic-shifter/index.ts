/**
 * Entry points of the traffic shifter, for the CDK custom-resource provider
 * framework: `onEvent` validates and prepares, `isComplete` (polled) moves the
 * traffic one gated step at a time. Decisions live in plan.ts, AWS calls in elb.ts.
 */
import { SHIFT_ATTRIBUTES, Weights, otherColor } from '../../lib/contract/traffic-shift';
import {
  LiveAction, LiveRule, actionIs, alarmStates, assertTargetGroupsExist, createRule, deleteRule, describeRule, findRuleAt, formatAction, setRule,
  targetStates,
} from './elb';
import { RuleState, cutOff, formatState, formatWeights, gateVerdict, groupStickinessOn, nextStep, outcomeOf, sameState } from './plan';
import { ShiftProperties, parseProperties } from './properties';

/** The provider framework's request (the fields the shifter reads). */
export interface ShiftEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
  /** What `onEvent` returned as `Data`, on `isComplete` calls. */
  readonly Data?: Record<string, unknown>;
}

/** What `onEvent` answers. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly StartBlue: number; readonly StartGreen: number };
}

/** What `isComplete` answers. */
export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}

/**
 * Validates the request and records where this deploy starts; moves no
 * traffic itself. A new rule starts where the traffic is, and `isComplete`
 * then takes it to the target color by the plan, gate by gate.
 */
export async function onEvent(event: ShiftEvent): Promise<OnEventResponse> {
  const now = Date.now();
  if (event.RequestType === 'Delete') {
    if (event.PhysicalResourceId?.startsWith('arn:')) {
      await deleteRule(event.PhysicalResourceId);
    }
    return { PhysicalResourceId: event.PhysicalResourceId ?? 'none', Data: { StartBlue: 0, StartGreen: 0 } };
  }
  const props = parseProperties(event.ResourceProperties);
  await assertTargetGroupsExist(props.groups);
  const old = event.RequestType === 'Update' ? parseProperties(event.OldResourceProperties) : undefined;
  const oldRuleArn = event.PhysicalResourceId?.startsWith('arn:') ? event.PhysicalResourceId : undefined;

  if (!old || !oldRuleArn || old.listenerArn !== props.listenerArn) {
    const start = old && oldRuleArn ? await replacedRuleState(oldRuleArn, old) : TRAFFIC_BEFORE_THE_RULE;
    const existingArn = await findRuleAt(props.listenerArn, props.rulePriority);
    const existing = existingArn ? await describeRule(existingArn, props.groups) : undefined;
    if (existing?.action && existing.recorded && actionIs(existing.action, existing.recorded, props.groupStickinessSeconds)) {
      // A retried create: adopt the rule the first attempt made.
      return started(existing.ruleArn, existing.recorded);
    }
    if (existingArn) {
      throw new Error(`RulePriority: priority ${props.rulePriority} is taken on the listener by ${existingArn}, which forwards elsewhere; ` +
        'choose a free rulePriority; nothing was changed');
    }
    const ruleArn = await createRule(props.listenerArn, props.rulePriority, props.groups, start, props.groupStickinessSeconds, now);
    return started(ruleArn, start);
  }

  const rule = await ownedRule(oldRuleArn, old);
  if (old.groups.blue !== props.groups.blue || old.groups.green !== props.groups.green
    || old.groupStickinessSeconds !== props.groupStickinessSeconds) {
    // Replaced target groups or new stickiness: carry the rule's state over by color at once.
    await setRule(oldRuleArn, props.groups, rule.state, props.groupStickinessSeconds, now);
  }
  return started(oldRuleArn, rule.state);
}

/**
 * Where users are before the shifter's rule exists: on blue, which the
 * listener's default action forwards to. A new rule starts there, so a deploy
 * that adds green and targets it at once still moves users by the plan and
 * its gates, not all at once.
 */
const TRAFFIC_BEFORE_THE_RULE: RuleState = { weights: { blue: 100, green: 0 } };

/**
 * Where a rule on a new listener starts: as the rule it replaces left the
 * traffic, when that rule is still there as this stack last set it
 * (CloudFormation deletes it only after the update); else where users are
 * before any rule.
 */
async function replacedRuleState(oldRuleArn: string, old: ShiftProperties): Promise<RuleState> {
  const rule = await describeRule(oldRuleArn, old.groups);
  return rule?.action && rule.recorded && actionIs(rule.action, rule.recorded, old.groupStickinessSeconds)
    ? rule.recorded
    : TRAFFIC_BEFORE_THE_RULE;
}

function started(ruleArn: string, state: RuleState): OnEventResponse {
  return { PhysicalResourceId: ruleArn, Data: { StartBlue: state.weights.blue, StartGreen: state.weights.green } };
}

/**
 * Takes the next step of the plan when it is due and its gates pass, with
 * target-group stickiness (which also ends a cut-off left by an earlier
 * failed gate). When a gate fails, cuts the target color off the rule and fails.
 */
export async function isComplete(event: ShiftEvent): Promise<IsCompleteResponse> {
  const now = Date.now();
  if (event.RequestType === 'Delete') {
    return { IsComplete: true };
  }
  const props = parseProperties(event.ResourceProperties);
  const ruleArn = event.PhysicalResourceId!;
  const rule = await ownedRule(ruleArn, props);
  const start: Weights = { blue: Number(event.Data?.StartBlue), green: Number(event.Data?.StartGreen) };
  const decision = nextStep({
    target: props.target, plan: props.plan, start, live: rule.state.weights, lastShiftAt: rule.shiftedAt, now,
  });
  if (decision.action === 'done') {
    // A cut-off rule stays cut off: with group stickiness back, old AWSALBTG cookies would reach the failed color at weight 0.
    return { IsComplete: true, Data: outputs(ruleArn, rule.state, rule.shiftedAt ?? now, props) };
  }
  if (decision.action === 'wait') {
    return { IsComplete: false };
  }
  const gate = gateVerdict({
    color: props.target,
    targetStates: await targetStates(props.groups[props.target]),
    minHealthy: props.minHealthyTargets,
    alarmNames: props.alarmNames,
    alarmStates: await alarmStates(props.alarmNames),
  });
  if (gate.verdict === 'pending') {
    console.log(JSON.stringify({ msg: gate.reason, live: formatState(rule.state) }));
    return { IsComplete: false };
  }
  if (gate.verdict === 'fail') {
    const cut = cutOff(props.target);
    if (!sameState(rule.state, cut)) {
      await setRule(ruleArn, props.groups, cut, props.groupStickinessSeconds, now);
    }
    const survivor = otherColor(props.target);
    throw new Error(`${gate.reason}; before the step to ${formatWeights(decision.to)}. ` +
      `The rule now sends every user to ${survivor}, those pinned to ${props.target} too: ${props.target} stays in it at weight 0 without ` +
      `group stickiness, so the load balancer keeps checking its health, until a deploy shifts to ${props.target} again; CloudFormation rolls the stack back`);
  }
  const to: RuleState = { weights: decision.to };
  await setRule(ruleArn, props.groups, to, props.groupStickinessSeconds, now);
  console.log(JSON.stringify({ msg: 'shifted', from: formatState(rule.state), to: formatState(to) }));
  return decision.final
    ? { IsComplete: true, Data: outputs(ruleArn, to, now, props) }
    : { IsComplete: false };
}

/** The rule, when it is still ours: it exists, forwards to our groups, and is as we last set it. */
async function ownedRule(ruleArn: string, props: ShiftProperties): Promise<LiveRule & { readonly state: RuleState }> {
  const rule = await describeRule(ruleArn, props.groups);
  if (!rule) {
    throw new Error(`rule ${ruleArn} not found: it was deleted outside CloudFormation; nothing was changed. ` +
      'Remove the traffic shift from the stack and deploy, then add it back, to recreate it');
  }
  const { action, recorded } = rule;
  if (!action || !recorded || !actionIs(action, recorded, props.groupStickinessSeconds)) {
    const expected = recorded ? formatAction(expectedAction(recorded, props.groupStickinessSeconds)) : undefined;
    throw new Error(`rule ${ruleArn} was changed by someone else: it has ${action ? formatAction(action) : 'other target groups'}, ` +
      `but this stack last set ${expected ?? 'nothing it can read'}; nothing was changed. ` +
      'Put the rule back as this stack left it (or set its cdk-session-tier:weights tag to what the rule has, to accept it), then deploy again');
  }
  return { ...rule, state: recorded };
}

/** The live action the shifter's `forwardAction` gives for `state`, for messages. */
function expectedAction(state: RuleState, groupStickinessSeconds: number): LiveAction {
  return { weights: state.weights, stickinessSeconds: groupStickinessOn(state, groupStickinessSeconds) ? groupStickinessSeconds : undefined };
}

function outputs(ruleArn: string, state: RuleState, lastShiftAt: number, props: ShiftProperties): Record<string, string> {
  // Cut off, the color left out holds nobody from the moment of the cut; otherwise its sticky users stay up to the stickiness duration.
  const drainSeconds = state.cut ? 0 : props.groupStickinessSeconds;
  return {
    [SHIFT_ATTRIBUTES.BLUE_WEIGHT]: String(state.weights.blue),
    [SHIFT_ATTRIBUTES.GREEN_WEIGHT]: String(state.weights.green),
    [SHIFT_ATTRIBUTES.LAST_SHIFT_AT]: new Date(lastShiftAt).toISOString(),
    [SHIFT_ATTRIBUTES.DRAINED_AT]: new Date(lastShiftAt + drainSeconds * 1000).toISOString(),
    [SHIFT_ATTRIBUTES.RULE_ARN]: ruleArn,
    [SHIFT_ATTRIBUTES.OUTCOME]: outcomeOf(state),
  };
}

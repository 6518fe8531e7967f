/**
 * Entry points of the traffic shifter, for the CDK custom-resource provider
 * framework: `onEvent` validates and prepares, `isComplete` (polled) moves the
 * traffic one gated step at a time. Decisions live in plan.ts, AWS calls in elb.ts.
 */
import { SHIFT_ATTRIBUTES, Weights, otherColor } from '../../lib/contract/traffic-shift';
import {
  LiveRule, alarmStates, assertTargetGroupsExist, createRule, deleteRule, describeRule, findRuleAt, setRule, targetStates,
} from './elb';
import { RuleState, cutOff, formatState, formatWeights, gateVerdict, nextStep, outcomeOf, sameState } from './plan';
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

/** Validates the request and records where this deploy starts; moves no traffic itself, except on create. */
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

  if (!old || old.listenerArn !== props.listenerArn || !event.PhysicalResourceId?.startsWith('arn:')) {
    // A new rule: nobody is on it yet, so it starts with the target color at full weight.
    const full = props.target === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
    const existingArn = await findRuleAt(props.listenerArn, props.rulePriority);
    const existing = existingArn ? await describeRule(existingArn, props.groups) : undefined;
    if (existing?.state) {
      // A retried create: adopt the rule the first attempt made.
      return { PhysicalResourceId: existing.ruleArn, Data: { StartBlue: existing.state.weights.blue, StartGreen: existing.state.weights.green } };
    }
    if (existingArn) {
      throw new Error(`RulePriority: priority ${props.rulePriority} is taken on the listener by ${existingArn}, which forwards elsewhere; ` +
        'choose a free rulePriority; nothing was changed');
    }
    const ruleArn = await createRule(props.listenerArn, props.rulePriority, props.groups, { weights: full }, props.groupStickinessSeconds, now);
    return { PhysicalResourceId: ruleArn, Data: { StartBlue: full.blue, StartGreen: full.green } };
  }

  const ruleArn = event.PhysicalResourceId;
  const rule = await ownedRule(ruleArn, old);
  if (old.groups.blue !== props.groups.blue || old.groups.green !== props.groups.green
    || old.groupStickinessSeconds !== props.groupStickinessSeconds) {
    // Replaced target groups or new stickiness: carry the rule's state over by color at once.
    await setRule(ruleArn, props.groups, rule.state, props.groupStickinessSeconds, now);
  }
  return { PhysicalResourceId: ruleArn, Data: { StartBlue: rule.state.weights.blue, StartGreen: rule.state.weights.green } };
}

/**
 * Takes the next step of the plan when it is due and its gates pass, with the
 * two-group sticky action (which also ends a cut-off left by an earlier failed
 * gate). When a gate fails, cuts the target color off the rule and fails.
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
    // A cut-off rule stays cut off: putting the failed color back at weight 0 would let its old AWSALBTG cookies reach it again.
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
      `The rule now forwards to ${survivor} alone: every user goes to ${survivor}, those pinned to ${props.target} too, ` +
      `until a deploy shifts to ${props.target} again; CloudFormation rolls the stack back`);
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
  const { state, recorded } = rule;
  if (!state || !recorded || !sameState(state, recorded)) {
    throw new Error(`rule ${ruleArn} was changed by someone else: it has ${state ? formatState(state) : 'other target groups'}, ` +
      `but this stack last set ${recorded ? formatState(recorded) : 'nothing it can read'}; nothing was changed. ` +
      'Put the rule back as this stack left it (or set its cdk-session-tier:weights tag to what the rule has, to accept it), then deploy again');
  }
  return { ...rule, state };
}

function outputs(ruleArn: string, state: RuleState, lastShiftAt: number, props: ShiftProperties): Record<string, string> {
  // Cut off, the color left out holds nobody from the moment of the cut; otherwise its sticky users stay up to the stickiness duration.
  const drainSeconds = state.only ? 0 : props.groupStickinessSeconds;
  return {
    [SHIFT_ATTRIBUTES.BLUE_WEIGHT]: String(state.weights.blue),
    [SHIFT_ATTRIBUTES.GREEN_WEIGHT]: String(state.weights.green),
    [SHIFT_ATTRIBUTES.LAST_SHIFT_AT]: new Date(lastShiftAt).toISOString(),
    [SHIFT_ATTRIBUTES.DRAINED_AT]: new Date(lastShiftAt + drainSeconds * 1000).toISOString(),
    [SHIFT_ATTRIBUTES.RULE_ARN]: ruleArn,
    [SHIFT_ATTRIBUTES.OUTCOME]: outcomeOf(state),
  };
}

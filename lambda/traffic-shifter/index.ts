/**
 * Entry points of the traffic shifter, for the CDK custom-resource provider
 * framework: `onEvent` validates and prepares, `isComplete` (polled) moves the
 * traffic one gated step at a time. Decisions live in plan.ts, AWS calls in elb.ts.
 */
import { SHIFT_ATTRIBUTES, Weights, sameWeights } from '../../lib/contract/traffic-shift';
import {
  LiveRule, alarmStates, assertTargetGroupsExist, createRule, deleteRule, describeRule, findRuleAt, setWeights, targetStates,
} from './elb';
import { formatWeights, gateVerdict, nextStep } from './plan';
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
    if (existing?.forwardsToGroups) {
      // A retried create: adopt the rule the first attempt made.
      return { PhysicalResourceId: existing.ruleArn, Data: { StartBlue: existing.weights.blue, StartGreen: existing.weights.green } };
    }
    if (existingArn) {
      throw new Error(`RulePriority: priority ${props.rulePriority} is taken on the listener by ${existingArn}, which forwards elsewhere; ` +
        'choose a free rulePriority; nothing was changed');
    }
    const ruleArn = await createRule(props.listenerArn, props.rulePriority, props.groups, full, props.groupStickinessSeconds, now);
    return { PhysicalResourceId: ruleArn, Data: { StartBlue: full.blue, StartGreen: full.green } };
  }

  const ruleArn = event.PhysicalResourceId;
  const rule = await ownedRule(ruleArn, old);
  if (old.groups.blue !== props.groups.blue || old.groups.green !== props.groups.green
    || old.groupStickinessSeconds !== props.groupStickinessSeconds) {
    // Replaced target groups or new stickiness: carry the weights over by color at once.
    await setWeights(ruleArn, props.groups, rule.weights, props.groupStickinessSeconds, now);
  }
  return { PhysicalResourceId: ruleArn, Data: { StartBlue: rule.weights.blue, StartGreen: rule.weights.green } };
}

/** Takes the next step of the plan when it is due and its gates pass; restores the start and fails when a gate fails. */
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
    target: props.target, plan: props.plan, start, live: rule.weights, lastShiftAt: rule.shiftedAt, now,
  });
  if (decision.action === 'done') {
    return { IsComplete: true, Data: outputs(ruleArn, rule.weights, rule.shiftedAt ?? now, props) };
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
    console.log(JSON.stringify({ msg: gate.reason, live: formatWeights(rule.weights) }));
    return { IsComplete: false };
  }
  if (gate.verdict === 'fail') {
    if (!sameWeights(rule.weights, start)) {
      await setWeights(ruleArn, props.groups, start, props.groupStickinessSeconds, now);
    }
    throw new Error(`${gate.reason}; before the step to ${formatWeights(decision.to)}. ` +
      `Weights restored to ${formatWeights(start)} (from before this deploy); CloudFormation rolls the stack back`);
  }
  await setWeights(ruleArn, props.groups, decision.to, props.groupStickinessSeconds, now);
  console.log(JSON.stringify({ msg: 'shifted', from: formatWeights(rule.weights), to: formatWeights(decision.to) }));
  return decision.final
    ? { IsComplete: true, Data: outputs(ruleArn, decision.to, now, props) }
    : { IsComplete: false };
}

/** The rule, when it is still ours: it exists, forwards to our groups, and has the weights we last set. */
async function ownedRule(ruleArn: string, props: ShiftProperties): Promise<LiveRule> {
  const rule = await describeRule(ruleArn, props.groups);
  if (!rule) {
    throw new Error(`rule ${ruleArn} not found: it was deleted outside CloudFormation; nothing was changed. ` +
      'Remove the traffic shift from the stack and deploy, then add it back, to recreate it');
  }
  if (!rule.forwardsToGroups || !rule.recordedWeights || !sameWeights(rule.weights, rule.recordedWeights)) {
    throw new Error(`rule ${ruleArn} was changed by someone else: it has ${rule.forwardsToGroups ? formatWeights(rule.weights) : 'other target groups'}, ` +
      `but this stack last set ${rule.recordedWeights ? formatWeights(rule.recordedWeights) : 'nothing it can read'}; nothing was changed. ` +
      'Put the rule back as this stack left it (or set its cdk-session-tier:weights tag to the live weights to accept them), then deploy again');
  }
  return rule;
}

function outputs(ruleArn: string, weights: Weights, lastShiftAt: number, props: ShiftProperties): Record<string, string> {
  return {
    [SHIFT_ATTRIBUTES.BLUE_WEIGHT]: String(weights.blue),
    [SHIFT_ATTRIBUTES.GREEN_WEIGHT]: String(weights.green),
    [SHIFT_ATTRIBUTES.LAST_SHIFT_AT]: new Date(lastShiftAt).toISOString(),
    [SHIFT_ATTRIBUTES.DRAINED_AT]: new Date(lastShiftAt + props.groupStickinessSeconds * 1000).toISOString(),
    [SHIFT_ATTRIBUTES.RULE_ARN]: ruleArn,
  };
}

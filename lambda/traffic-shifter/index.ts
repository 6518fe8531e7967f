/**
 * Entry points of the traffic shifter, for the CDK custom-resource provider
 * framework: `onEvent` validates and prepares (the rule, its conditions, the
 * test rules, the release's record), `isComplete` (polled) moves the traffic
 * one gated step at a time, calls the hook at each stage and watches the
 * bake. Decisions live in plan.ts, AWS calls in elb.ts and hooks.ts.
 */
import type { RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';
import { HookRequest, HookStatus, SHIFT_ATTRIBUTES, formatPlan, otherColor, sameWeights } from '../../lib/contract/traffic-shift';
import {
  LiveAction, LiveRule, actionIs, alarmStates, assertTargetGroupsExist, createRule, deleteRule, describeRule, findRuleAt, formatAction, putTestRule,
  setConditions, setPriority, setRule, targetStates, writeTags,
} from './elb';
import { callHook } from './hooks';
import {
  Decision, RuleState, ShiftState, cutOff, formatState, formatWeights, gateVerdict, groupStickinessOn, nextStep, outcomeOf, sameState, stageKey,
} from './plan';
import { ShiftProperties, parseProperties } from './properties';
import { RELEASE_TAGS, ReleaseRecord, formatHookProgress, formatRelease, parseHookProgress, parseRelease, passedStage } from './release';

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
 * Validates the request and prepares the release; moves no traffic itself.
 * A new rule starts where the traffic is, and `isComplete` then takes it to
 * the target color by the plan, gate by gate. The test rules (when asked
 * for) forward to the target color from here on, before any step.
 */
export async function onEvent(event: ShiftEvent): Promise<OnEventResponse> {
  const now = Date.now();
  if (event.RequestType === 'Delete') {
    if (event.PhysicalResourceId?.startsWith('arn:')) {
      await deleteWithTestRules(event.PhysicalResourceId);
    }
    return { PhysicalResourceId: event.PhysicalResourceId ?? 'none', Data: { StartBlue: 0, StartGreen: 0 } };
  }
  const props = parseProperties(event.ResourceProperties);
  await assertTargetGroupsExist(props.groups);
  const old = event.RequestType === 'Update' ? parseProperties(event.OldResourceProperties) : undefined;
  const oldRuleArn = event.PhysicalResourceId?.startsWith('arn:') ? event.PhysicalResourceId : undefined;

  let ruleArn: string;
  let state: RuleState;
  let tags: Readonly<Record<string, string>> = {};
  if (!old || !oldRuleArn || old.listenerArn !== props.listenerArn) {
    const start = old && oldRuleArn ? await replacedRuleState(oldRuleArn, old) : TRAFFIC_BEFORE_THE_RULE;
    const existingArn = await findRuleAt(props.listenerArn, props.rulePriority);
    const existing = existingArn ? await describeRule(existingArn, props.groups) : undefined;
    if (existing?.action && existing.recorded && actionIs(existing.action, existing.recorded, props.groupStickinessSeconds)) {
      // A retried create: adopt the rule the first attempt made.
      ({ ruleArn, tags } = existing);
      state = existing.recorded;
    } else if (existingArn) {
      throw new Error(`RulePriority: priority ${props.rulePriority} is taken on the listener by ${existingArn}, which forwards elsewhere; ` +
        'choose a free rulePriority; nothing was changed');
    } else {
      state = start;
      ruleArn = await createRule(props.listenerArn, props.rulePriority, props.conditions, props.groups, state, props.groupStickinessSeconds, now);
    }
  } else {
    ruleArn = oldRuleArn;
    const rule = await ownedRule(ruleArn, old);
    if (old.rulePriority !== props.rulePriority) {
      // The rule moves in place, with its weights; a priority another rule holds is refused before any change.
      const holder = await findRuleAt(props.listenerArn, props.rulePriority);
      if (holder !== undefined && holder !== ruleArn) {
        throw new Error(`RulePriority: priority ${props.rulePriority} is taken on the listener by ${holder}; choose a free rulePriority; nothing was changed`);
      }
      if (holder === undefined) {
        await setPriority(ruleArn, props.rulePriority);
      }
    }
    ({ state, tags } = rule);
    if (old.groups.blue !== props.groups.blue || old.groups.green !== props.groups.green
      || old.groupStickinessSeconds !== props.groupStickinessSeconds) {
      // Replaced target groups or new stickiness: carry the rule's state over by color at once.
      await setRule(ruleArn, props.groups, state, props.groupStickinessSeconds, now);
    }
    if (JSON.stringify(old.conditions) !== JSON.stringify(props.conditions)) {
      await setConditions(ruleArn, props.conditions);
    }
  }
  const release: ReleaseRecord = {
    at: now, target: props.target, plan: formatPlan(props.plan), bakeSeconds: props.bakeSeconds, start: state.weights, hooks: props.hookFunctionArn !== undefined,
  };
  await writeTags(ruleArn, { [RELEASE_TAGS.RELEASE]: formatRelease(release), ...await placeTestRules(props, tags) });
  return { PhysicalResourceId: ruleArn, Data: { StartBlue: state.weights.blue, StartGreen: state.weights.green } };
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

/**
 * The test rules as `props` asks: with test traffic, one rule matching the
 * header and one matching the cookie, each with the routing's conditions,
 * forwarding to the release's target color; without, none. Returns the tags
 * that record them on the weighted rule (none when there were and are none).
 */
async function placeTestRules(props: ShiftProperties, tags: Readonly<Record<string, string>>): Promise<Record<string, string>> {
  const known = (key: string) => (tags[key]?.startsWith('arn:') ? tags[key] : undefined);
  const test = props.testTraffic;
  const wanted: Array<[string, number, RuleCondition | undefined]> = [
    [RELEASE_TAGS.TEST_HEADER_RULE, test?.rulePriority ?? 0,
      test && { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: test.headerName, Values: [test.headerValue] } }],
    // A cookie is matched in the Cookie header, where ELB's wildcards find it among the others
    // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html#http-header-conditions).
    [RELEASE_TAGS.TEST_COOKIE_RULE, (test?.rulePriority ?? 0) + 1,
      test?.cookie && { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'Cookie', Values: [`*${test.cookie.name}=${test.cookie.value}*`] } }],
  ];
  const placed: Record<string, string> = {};
  for (const [key, priority, condition] of wanted) {
    if (condition) {
      placed[key] = await putTestRule(props.listenerArn, known(key), priority, [...props.conditions, condition], props.groups[props.target]);
    } else if (known(key)) {
      await deleteRule(known(key)!);
      placed[key] = 'none';
    }
  }
  return placed;
}

/** Deletes the rule and the test rules its tags name; a rule already gone is fine. */
async function deleteWithTestRules(ruleArn: string): Promise<void> {
  const rule = await describeRule(ruleArn, { blue: '', green: '' });
  for (const key of [RELEASE_TAGS.TEST_HEADER_RULE, RELEASE_TAGS.TEST_COOKIE_RULE]) {
    const arn = rule?.tags[key];
    if (arn?.startsWith('arn:')) {
      await deleteRule(arn);
    }
  }
  await deleteRule(ruleArn);
}

/**
 * The release's next moves, as far as they can go in this poll: a hook
 * that succeeds lets the next move follow at once, a step that goes lets its
 * `after-step` hook follow; a wait, a pending gate, an IN_PROGRESS hook or
 * the bake end the poll. A failed gate or hook cuts the target color off the
 * rule and fails.
 */
export async function isComplete(event: ShiftEvent): Promise<IsCompleteResponse> {
  const now = Date.now();
  if (event.RequestType === 'Delete') {
    return { IsComplete: true };
  }
  const props = parseProperties(event.ResourceProperties);
  const ruleArn = event.PhysicalResourceId!;
  const rule = await ownedRule(ruleArn, props);
  const release = parseRelease(rule.tags[RELEASE_TAGS.RELEASE]);
  const progress = parseHookProgress(rule.tags[RELEASE_TAGS.HOOK]);
  const poll: Poll = { ruleArn, props, release, now };
  let state: ShiftState & { readonly current: RuleState } = {
    target: props.target,
    plan: props.plan,
    start: { blue: Number(event.Data?.StartBlue), green: Number(event.Data?.StartGreen) },
    live: rule.state.weights,
    current: rule.state,
    lastShiftAt: rule.shiftedAt,
    now,
    bakeSeconds: props.bakeSeconds,
    hooks: props.hookFunctionArn !== undefined,
    hookPassed: passedStage(release, progress),
  };
  // Each stage passes once, so the moves of one poll are few: a hook, a step, its hook.
  let stepped = false;
  for (;;) {
    const decision = nextStep(state);
    switch (decision.action) {
      case 'done':
        // A cut-off rule stays cut off: with group stickiness back, old AWSALBTG cookies would reach the failed color at weight 0.
        return { IsComplete: true, Data: outputs(ruleArn, state.current, state.lastShiftAt ?? now, props) };
      case 'wait':
        // Once users are on the target color, its gates are watched at every poll (but the one that just stepped, which
        // checked them), not only when a step is due: a color that fails between two steps is cut off at once, not after the wait.
        if (!sameWeights(state.live, state.start) && !stepped) {
          await gatesHold(poll, state, `between steps, ${Math.ceil((decision.until - now) / 1000)} s before the next`);
        }
        return { IsComplete: false };
      case 'hook': {
        const passed = await askHook(poll, state, decision, progress);
        if (!passed) {
          return { IsComplete: false };
        }
        state = { ...state, hookPassed: stageKey(decision.stage, decision.share) };
        continue;
      }
      case 'bake':
        // Pass or pending, the bake goes on; a failure throws.
        await gatesHold(poll, state, `during the bake, ${Math.ceil((decision.until - now) / 1000)} s before its end`);
        return { IsComplete: false };
      case 'shift': {
        if (!await gatesHold(poll, state, `before the step to ${formatWeights(decision.to)}`)) {
          return { IsComplete: false };
        }
        const to: RuleState = { weights: decision.to };
        await setRule(ruleArn, props.groups, to, props.groupStickinessSeconds, now);
        console.log(JSON.stringify({ msg: 'shifted', from: formatState(state.current), to: formatState(to) }));
        state = { ...state, live: to.weights, current: to, lastShiftAt: now };
        stepped = true;
        continue;
      }
    }
  }
}

/** What one poll of a release works with. */
interface Poll {
  readonly ruleArn: string;
  readonly props: ShiftProperties;
  readonly release?: ReleaseRecord;
  readonly now: number;
}

/**
 * Checks the target color's health and the gate alarms. True when they pass;
 * false while targets are still in their first health checks; a failure cuts
 * the target color off and throws, saying `when`.
 */
async function gatesHold(poll: Poll, state: ShiftState & { readonly current: RuleState }, when: string): Promise<boolean> {
  const { props } = poll;
  const gate = gateVerdict({
    color: props.target,
    targetStates: await targetStates(props.groups[props.target]),
    minHealthy: props.minHealthyTargets,
    alarmNames: props.alarmNames,
    alarmStates: await alarmStates(props.alarmNames),
  });
  if (gate.verdict === 'pending') {
    console.log(JSON.stringify({ msg: gate.reason, live: formatState(state.current) }));
    return false;
  }
  if (gate.verdict === 'fail') {
    return failRelease(poll, state.current, `${gate.reason}; ${when}`);
  }
  return true;
}

/**
 * Asks the hook about `decision`'s stage. True when it succeeded (recorded),
 * false while it answers IN_PROGRESS within its timeout (recorded with the
 * attempts); a FAILED answer, a broken hook or the timeout cut the target
 * color off and throw.
 */
async function askHook(
  poll: Poll, state: ShiftState & { readonly current: RuleState }, decision: Extract<Decision, { action: 'hook' }>, progress: ReturnType<typeof parseHookProgress>,
): Promise<boolean> {
  const { props, ruleArn, now } = poll;
  const releaseAt = poll.release?.at ?? now;
  const stage = stageKey(decision.stage, decision.share);
  const asking = progress && progress.releaseAt === releaseAt && progress.stage === stage && progress.status === 'asking' ? progress : undefined;
  const since = asking?.since ?? now;
  const attempt = (asking?.attempts ?? 0) + 1;
  const where = `hook ${props.hookFunctionArn} at ${stage}`;
  if (now - since > props.hookTimeoutSeconds * 1000) {
    return failRelease(poll, state.current, `${where} answered IN_PROGRESS for ${Math.round((now - since) / 1000)} s, more than its ${props.hookTimeoutSeconds} s`);
  }
  const request: HookRequest = {
    stage: decision.stage,
    targetColor: props.target,
    plan: formatPlan(props.plan),
    weights: state.live,
    ...decision.share !== undefined ? { share: decision.share } : {},
    releaseStartedAt: new Date(releaseAt).toISOString(),
    attempt,
    listenerArn: props.listenerArn,
    ruleArn,
    blueTargetGroupArn: props.groups.blue,
    greenTargetGroupArn: props.groups.green,
    ...props.testTraffic ? { testHeader: { name: props.testTraffic.headerName, value: props.testTraffic.headerValue } } : {},
  };
  const answer = await callHook(props.hookFunctionArn!, request);
  console.log(JSON.stringify({ msg: 'hook', stage, attempt, status: answer.status, reason: answer.reason }));
  if (answer.status === HookStatus.FAILED) {
    return failRelease(poll, state.current, `${where} failed: ${answer.reason ?? 'no reason given'}`);
  }
  const status = answer.status === HookStatus.SUCCEEDED ? 'passed' : 'asking';
  await writeTags(ruleArn, { [RELEASE_TAGS.HOOK]: formatHookProgress({ releaseAt, stage, status, since, attempts: attempt }) });
  return status === 'passed';
}

/** Cuts the target color off (unless it already is) and throws `reason` with what the rule now does. */
async function failRelease(poll: Poll, current: RuleState, reason: string): Promise<never> {
  const { props, ruleArn, now } = poll;
  const cut = cutOff(props.target);
  if (!sameState(current, cut)) {
    await setRule(ruleArn, props.groups, cut, props.groupStickinessSeconds, now);
  }
  const survivor = otherColor(props.target);
  throw new Error(`${reason}. The rule now sends every user to ${survivor}, those pinned to ${props.target} too: ${props.target} stays in it at weight 0 ` +
    `without group stickiness, so the load balancer keeps checking its health, until a deploy shifts to ${props.target} again; CloudFormation rolls the stack back`);
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

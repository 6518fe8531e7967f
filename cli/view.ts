/**
 * Where a release stands, from what the status command read: the shifter's
 * own records on its rule (release.ts, plan.ts) read by the shifter's own
 * parsers, and its next move by the shifter's own `nextStep`, so the command
 * says what the shifter will do. Pure: no SDK, no clock.
 */
import type { Rule } from '@aws-sdk/client-elastic-load-balancing-v2';
import { FleetColorName } from '../lib/contract/app-env';
import { PlanSpec, Weights, formatPlan, otherColor, parsePlan, plannedShares, sameWeights, shareOf, stepDelaySeconds } from '../lib/contract/traffic-shift';
import { Decision, GateVerdict, RuleState, formatWeights, gateVerdict, nextStep, parseState } from '../lambda/traffic-shifter/plan';
import { RELEASE_TAGS, TAG_SHIFTED_AT, TAG_WEIGHTS, parseHookProgress, parseRelease, passedStage } from '../lambda/traffic-shifter/release';
import type { AlarmReading, GateConfig, TargetReading, TestRuleReading } from './aws';

/** Everything one read of the release gathered. */
export interface Snapshot {
  readonly ruleArn: string;
  readonly rule: Rule;
  readonly tags: Readonly<Record<string, string>>;
  /** The targets of each color's group. */
  readonly targets: Readonly<Record<FleetColorName, readonly TargetReading[]>>;
  readonly alarms: readonly AlarmReading[];
  readonly testRules: readonly TestRuleReading[];
  readonly gate: GateConfig;
  /** With --stack: the stack, the resource and CloudFormation's status of it. */
  readonly stack?: { readonly stackName: string; readonly logicalId: string; readonly resourceStatus?: string };
  /** When it was read, ms since the epoch. */
  readonly now: number;
}

/** How a release ends, or where it is. */
export type Outcome = 'shifting' | 'baking' | 'done' | 'cut off' | 'unknown';

/** One color's targets, counted. */
export interface ColorHealth {
  readonly targetGroupArn: string;
  readonly healthy: number;
  readonly total: number;
  /** Targets by state: `healthy`, `initial`, `unhealthy`, `draining`, `unused`, ... */
  readonly states: Readonly<Record<string, number>>;
  /** The reasons ELB gives for targets that are not healthy, once each. */
  readonly reasons: readonly string[];
}

/** The release as the command shows it (and prints with --json). */
export interface StatusView {
  readonly at: string;
  readonly ruleArn: string;
  readonly stack?: Snapshot['stack'];
  readonly release?: {
    readonly target: FleetColorName;
    readonly startedAt: string;
    readonly plan: string;
    /** The target's share after each step. */
    readonly steps: readonly number[];
    readonly secondsBetweenSteps: number;
    readonly bakeSeconds: number;
    readonly hooks: boolean;
    readonly start: Weights;
  };
  /** The weights the rule's action has. */
  readonly weights?: Weights;
  readonly groupStickinessSeconds?: number;
  /** The color a failed gate cut off, as the shifter recorded it. */
  readonly cut?: FleetColorName;
  /** Steps taken of the plan, and the target's share now. */
  readonly progress?: { readonly step: number; readonly of: number; readonly share: number };
  /** The shifter's next move. */
  readonly next: { readonly action: Decision['action'] | 'none'; readonly text: string; readonly at?: string; readonly inSeconds?: number };
  readonly bake?: { readonly seconds: number; readonly remainingSeconds: number };
  readonly gates: {
    /** The color the gates watch: the release's target. */
    readonly color?: FleetColorName;
    readonly minHealthyTargets?: number;
    readonly health: Readonly<Partial<Record<FleetColorName, ColorHealth>>>;
    readonly alarms: ReadonlyArray<AlarmReading & { readonly sessionsLost: boolean }>;
    readonly verdict?: GateVerdict;
    readonly unresolved: readonly string[];
  };
  readonly hook?: { readonly text: string };
  readonly testTraffic: ReadonlyArray<{ readonly rule: string; readonly priority?: string; readonly match?: string; readonly to?: string }>;
  readonly outcome: Outcome;
  /** The release is over: nothing the command waits for will change. */
  readonly ended: boolean;
  readonly notes: readonly string[];
}

/**
 * The session-continuity alarm among the gate alarms: the one the
 * dashboard names `<Color>SessionsLost` (its id, in the name CloudFormation
 * gives it).
 */
export function isSessionsLostAlarm(name: string): boolean {
  return name.includes('SessionsLost');
}

/**
 * The groups of the rule's forward action, by color: blue first, green
 * second, as the shifter's forward action lists them; the other way round
 * when only that reading gives the weights the shifter recorded (`tags`).
 */
export function ruleGroups(rule: Rule, tags: Readonly<Record<string, string>>): { groups?: Record<FleetColorName, string>; weights?: Weights; stickinessSeconds?: number } {
  const forward = rule.Actions?.find((a) => a.Type === 'forward')?.ForwardConfig;
  const targets = forward?.TargetGroups ?? [];
  if (targets.length !== 2) {
    return {};
  }
  const recorded = parseState(tags[TAG_WEIGHTS])?.weights;
  const swapped = recorded !== undefined && recorded.blue !== recorded.green
    && targets[1].Weight === recorded.blue && targets[0].Weight === recorded.green;
  const [blue, green] = swapped ? [targets[1], targets[0]] : [targets[0], targets[1]];
  const stickiness = forward?.TargetGroupStickinessConfig;
  return {
    groups: { blue: blue.TargetGroupArn!, green: green.TargetGroupArn! },
    weights: { blue: blue.Weight ?? 0, green: green.Weight ?? 0 },
    stickinessSeconds: stickiness?.Enabled ? stickiness.DurationSeconds : undefined,
  };
}

/** A duration as `45s`, `4m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) {
    return `${s}s`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  }
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function countHealth(targetGroupArn: string, targets: readonly TargetReading[]): ColorHealth {
  const states: Record<string, number> = {};
  for (const t of targets) {
    states[t.state] = (states[t.state] ?? 0) + 1;
  }
  const reasons = [...new Set(targets.filter((t) => t.state !== 'healthy' && t.reason).map((t) => `${t.state}: ${t.reason}`))];
  return { targetGroupArn, healthy: states.healthy ?? 0, total: targets.length, states, reasons };
}

/** The view of a release from one read. */
export function viewOf(s: Snapshot): StatusView {
  const notes: string[] = [];
  const { groups, weights: live, stickinessSeconds } = ruleGroups(s.rule, s.tags);
  const recorded: RuleState | undefined = parseState(s.tags[TAG_WEIGHTS]);
  const release = parseRelease(s.tags[RELEASE_TAGS.RELEASE]);
  const shiftedAt = Date.parse(s.tags[TAG_SHIFTED_AT] ?? '');
  const lastShiftAt = Number.isNaN(shiftedAt) ? undefined : shiftedAt;
  if (!groups) {
    notes.push('the rule does not forward to two target groups: it is not a traffic shifter\'s rule, or someone changed it');
  } else if (!recorded) {
    notes.push(`the rule has no ${TAG_WEIGHTS} tag the shifter wrote: it is not a traffic shifter's rule`);
  } else if (live && !sameWeights(live, recorded.weights)) {
    notes.push(`the rule's action has ${formatWeights(live)} but the shifter last set ${formatWeights(recorded.weights)}: someone changed it, and the shifter's next deploy will stop on it`);
  }
  const weights = recorded?.weights ?? live;

  const health: Partial<Record<FleetColorName, ColorHealth>> = {};
  if (groups) {
    for (const color of ['blue', 'green'] as const) {
      health[color] = countHealth(groups[color], s.targets[color]);
    }
  }
  const alarms = s.alarms.map((a) => ({ ...a, sessionsLost: isSessionsLostAlarm(a.name) }));
  const color = release?.target;
  const verdict = color && health[color] ? gateVerdict({
    color,
    targetStates: health[color]!.states,
    minHealthy: s.gate.minHealthyTargets ?? 0,
    alarmNames: s.gate.alarmNames,
    alarmStates: Object.fromEntries(s.alarms.filter((a) => a.state).map((a) => [a.name, a.state!])),
  }) : undefined;
  const unresolved = [...s.gate.unresolved];
  if (s.gate.minHealthyTargets === undefined) {
    unresolved.push('healthy targets a step needs: not known, counted as 0 (pass --min-healthy, or --stack to read it)');
  }
  const gates = { color, minHealthyTargets: s.gate.minHealthyTargets, health, alarms, verdict, unresolved };
  const testTraffic = s.testRules.map((t) => testRuleView(t, groups));
  const base = { at: new Date(s.now).toISOString(), ruleArn: s.ruleArn, stack: s.stack, weights, groupStickinessSeconds: stickinessSeconds, cut: recorded?.cut, gates, testTraffic };

  let plan: PlanSpec | undefined;
  try {
    plan = release && parsePlan(release.plan);
  } catch (e) {
    notes.push(`the release's plan cannot be read (${(e as Error).message}): a shifter of another version of the package wrote it`);
  }
  if (!release || !weights || !plan) {
    if (!release) {
      notes.push(`the rule has no ${RELEASE_TAGS.RELEASE} tag the shifter wrote: no release to follow`);
    }
    return { ...base, next: { action: 'none', text: 'nothing: no release recorded' }, outcome: 'unknown', ended: true, notes };
  }
  const steps = plannedShares(plan);
  const share = shareOf(release.target, weights);
  const releaseView = {
    target: release.target, startedAt: new Date(release.at).toISOString(), plan: formatPlan(plan), steps,
    secondsBetweenSteps: stepDelaySeconds(plan), bakeSeconds: release.bakeSeconds, hooks: release.hooks, start: release.start,
  };
  const progress = { step: steps.filter((p) => p <= share).length, of: steps.length, share };
  const hookProgress = parseHookProgress(s.tags[RELEASE_TAGS.HOOK]);
  const hook = release.hooks ? { text: hookText(release.at, hookProgress, s.now) } : undefined;
  const withRelease = { ...base, release: releaseView, progress, hook };

  // A cut the shifter made in this release ends it; a deploy after a cut starts a release from the cut rule.
  if (recorded?.cut && (lastShiftAt ?? 0) >= release.at) {
    const survivor = otherColor(recorded.cut);
    return {
      ...withRelease,
      next: { action: 'none', text: `nothing: ${recorded.cut} failed a gate and was cut off; every user is on ${survivor} until a deploy shifts to ${recorded.cut} again` },
      outcome: 'cut off', ended: true, notes,
    };
  }
  const decision = nextStep({
    target: release.target, plan, start: release.start, live: weights, lastShiftAt, now: s.now,
    bakeSeconds: release.bakeSeconds, hooks: release.hooks, hookPassed: passedStage(release, hookProgress),
  });
  const moved = !sameWeights(weights, release.start);
  const bakeEnd = (lastShiftAt ?? s.now) + release.bakeSeconds * 1000;
  const bake = share >= 100 && moved && release.bakeSeconds > 0
    ? { seconds: release.bakeSeconds, remainingSeconds: Math.max(0, Math.ceil((bakeEnd - s.now) / 1000)) }
    : undefined;
  const next = nextText(decision, release.target, steps.find((p) => p > share) ?? 100, s.now, moved && lastShiftAt !== undefined ? lastShiftAt + stepDelaySeconds(plan) * 1000 : undefined);
  const outcome: Outcome = decision.action === 'done' ? 'done' : share >= 100 && moved ? 'baking' : 'shifting';
  let ended = decision.action === 'done';
  const status = s.stack?.resourceStatus;
  if (!ended && status && !status.endsWith('_IN_PROGRESS')) {
    // The provider stopped polling (it timed out, or another resource failed the deploy): the rule stays where it is.
    notes.push(`CloudFormation no longer waits on the traffic shift (${status}): the rule stays as it is until the next deploy`);
    ended = true;
  }
  return { ...withRelease, next, bake, outcome, ended, notes };
}

/** What the shifter does next, in words, with when. */
function nextText(d: Decision, target: FleetColorName, nextShare: number, now: number, dueAt: number | undefined): StatusView['next'] {
  switch (d.action) {
    case 'done':
      return { action: 'done', text: `nothing: every user is on ${target}` };
    case 'wait': {
      const inSeconds = Math.ceil((d.until - now) / 1000);
      return { action: 'wait', text: `step to ${target} ${nextShare} % in ${formatDuration(inSeconds)}, once the gates pass`, at: new Date(d.until).toISOString(), inSeconds };
    }
    case 'shift': {
      // A step late by more than a minute says how late: the shifter checks every checkInterval (30 s by default, at most 5 minutes),
      // so a step much later than that waits on gates that do not pass, or on a shifter that stopped.
      const late = dueAt !== undefined && now - dueAt > 60_000 ? ` (due ${formatDuration((now - dueAt) / 1000)} ago)` : '';
      return { action: 'shift', text: `step to ${target} ${d.to[target]} % at the shifter's next poll, once the gates pass${late}` };
    }
    case 'hook':
      return { action: 'hook', text: `the hook at ${d.stage}${d.share !== undefined ? `:${d.share}` : ''}, at the shifter's next poll; then the release goes on once it answers SUCCEEDED` };
    case 'bake': {
      const inSeconds = Math.ceil((d.until - now) / 1000);
      return { action: 'bake', text: `the bake ends in ${formatDuration(inSeconds)}; the gates are watched until then`, at: new Date(d.until).toISOString(), inSeconds };
    }
  }
}

function hookText(releaseAt: number, progress: ReturnType<typeof parseHookProgress>, now: number): string {
  if (!progress || progress.releaseAt !== releaseAt) {
    return 'not asked yet in this release';
  }
  return progress.status === 'passed'
    ? `${progress.stage} passed (${progress.attempts} attempt${progress.attempts === 1 ? '' : 's'})`
    : `${progress.stage} answers IN_PROGRESS, asked ${progress.attempts} time${progress.attempts === 1 ? '' : 's'} since ${formatDuration((now - progress.since) / 1000)} ago`;
}

function testRuleView(t: TestRuleReading, groups: Record<FleetColorName, string> | undefined): StatusView['testTraffic'][number] {
  const kind = t.tag === RELEASE_TAGS.TEST_COOKIE_RULE ? 'cookie rule' : 'header rule';
  if (!t.rule) {
    return { rule: `${kind} ${t.ruleArn}: not found (deleted outside the shifter)` };
  }
  const header = t.rule.Conditions?.find((c) => c.Field === 'http-header')?.HttpHeaderConfig;
  const group = t.rule.Actions?.find((a) => a.Type === 'forward')?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
  const color = group && groups ? (Object.keys(groups) as FleetColorName[]).find((c) => groups[c] === group) : undefined;
  return {
    rule: kind,
    priority: t.rule.Priority,
    match: header ? `${header.HttpHeaderName}: ${(header.Values ?? []).join(' or ')}` : undefined,
    to: color ?? group ?? 'nowhere',
  };
}

/** What changes the summary: everything but the clock's countdowns. */
export function changeKey(v: StatusView): string {
  return JSON.stringify({ ...v, at: undefined, next: { action: v.next.action, text: v.next.inSeconds === undefined ? v.next.text : '' }, bake: undefined });
}

/** The view as text, one fact a line. */
export function render(v: StatusView): string {
  const lines: string[] = [];
  const row = (label: string, text: string) => lines.push(`${label.padEnd(13)}${text}`);
  row('rule', v.ruleArn);
  if (v.stack) {
    row('stack', `${v.stack.stackName}, ${v.stack.logicalId}: ${v.stack.resourceStatus ?? 'status unknown'}`);
  }
  if (v.release) {
    const r = v.release;
    row('release', `to ${r.target}, started ${r.startedAt} (${formatDuration((Date.parse(v.at) - Date.parse(r.startedAt)) / 1000)} ago)`);
    const steps = r.steps.map((p) => `${p} %`).join(' -> ');
    row('plan', `${r.plan}: ${r.target} ${steps}${r.steps.length > 1 ? `, ${formatDuration(r.secondsBetweenSteps)} between steps` : ''}; ` +
      `bake ${r.bakeSeconds > 0 ? formatDuration(r.bakeSeconds) : 'none'}; hooks ${r.hooks ? 'yes' : 'no'}`);
  }
  if (v.progress) {
    row('progress', `step ${v.progress.step} of ${v.progress.of}: ${v.release!.target} at ${v.progress.share} %`);
  }
  if (v.weights) {
    const sticky = v.cut ? `, ${v.cut} cut off (no group stickiness)` : v.groupStickinessSeconds ? `, group stickiness ${formatDuration(v.groupStickinessSeconds)}` : ', no group stickiness';
    row('weights', `blue ${v.weights.blue} / green ${v.weights.green}${sticky}`);
  }
  row('next', v.next.text);
  if (v.bake) {
    row('bake', `${formatDuration(v.bake.remainingSeconds)} left of ${formatDuration(v.bake.seconds)}`);
  }
  if (v.hook) {
    row('hook', v.hook.text);
  }
  const g = v.gates;
  lines.push(`gates${g.color ? ` (on ${g.color}${g.minHealthyTargets !== undefined ? `, at least ${g.minHealthyTargets} healthy target${g.minHealthyTargets === 1 ? '' : 's'}` : ''})` : ''}`);
  for (const color of ['blue', 'green'] as const) {
    const h = g.health[color];
    if (h) {
      const others = Object.keys(h.states).filter((k) => k !== 'healthy').sort().map((k) => `${h.states[k]} ${k}`);
      row(`  ${color}`, `${h.healthy}/${h.total} healthy${others.length ? ` (${others.join(', ')})` : ''}${h.reasons.length ? `; ${h.reasons.join('; ')}` : ''}`);
    }
  }
  for (const a of g.alarms) {
    row('  alarm', `${a.name}: ${a.state ?? 'NOT FOUND'}${a.sessionsLost ? ' (sessions lost)' : ''}`);
  }
  if (g.alarms.length === 0) {
    row('  alarms', 'none');
  }
  if (g.verdict) {
    row('  verdict', g.verdict.verdict === 'pass' ? 'pass' : `${g.verdict.verdict}: ${g.verdict.reason}`);
  }
  for (const u of g.unresolved) {
    row('  note', u);
  }
  if (v.testTraffic.length === 0) {
    row('test traffic', 'none');
  }
  for (const t of v.testTraffic) {
    row('test traffic', t.match ? `${t.rule} (priority ${t.priority}): ${t.match} -> ${t.to}` : t.rule);
  }
  row('outcome', v.outcome);
  for (const n of v.notes) {
    row('note', n);
  }
  return lines.join('\n');
}

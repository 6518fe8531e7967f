/**
 * The traffic shifter's polling, run against the lab: the handler's own pure
 * decisions (`nextStep`, `gateVerdict`, `cutOff` from
 * lambda/traffic-shifter/plan.ts), with the gate reading HAProxy's health
 * checks where the handler reads DescribeTargetHealth, and each rule state
 * set through HAProxy's runtime API where the handler calls ModifyRule. The
 * order of the calls follows `isComplete` in lambda/traffic-shifter/index.ts.
 */
import { setTimeout as sleep } from 'timers/promises';
import { FleetColorName } from '../lib/contract/app-env';
import { PlanSpec, Weights } from '../lib/contract/traffic-shift';
import { RuleState, cutOff, formatState, gateVerdict, nextStep, sameState } from '../lambda/traffic-shifter/plan';
import { Lab } from './lab';

/**
 * What a failed gate does to the rule: `cut off`, what the shifter does (the
 * surviving color's group alone, no group stickiness); `weights back`, the
 * rollback before it, kept to measure the difference: the weights of before
 * the deploy, both groups, group stickiness kept.
 */
export type OnGateFail = 'cut off' | 'weights back';

/** A shift as `BlueGreenRouting` asks the shifter for one. */
export interface LabShiftOptions {
  readonly target: FleetColorName;
  readonly plan: PlanSpec;
  /** Healthy targets the target color needs before each step. */
  readonly minHealthy: number;
  /** @default 'cut off' */
  readonly onGateFail?: OnGateFail;
  /** Runs after each step the shift takes; the next poll waits for it. */
  readonly afterStep?: (rule: RuleState) => Promise<void>;
  /** Between two polls, as the provider's check interval. @default 100 */
  readonly pollMs?: number;
  /** The provider's total timeout. @default 60000 */
  readonly timeoutMs?: number;
}

/** How the shift ended. */
export type LabShiftOutcome =
  | { readonly outcome: 'shifted'; readonly rule: RuleState; readonly steps: readonly Weights[] }
  | {
    readonly outcome: 'gate failed';
    /** The gate's words, as the handler's error begins. */
    readonly reason: string;
    /** What the rule was left with. */
    readonly rule: RuleState;
    /** When that rule was in place (the runtime API had committed it), in ms since the epoch. */
    readonly at: number;
    readonly steps: readonly Weights[];
  };


/** Polls as the provider polls `isComplete`, until the shift is done or a gate fails. */
export async function shiftInLab(lab: Lab, o: LabShiftOptions): Promise<LabShiftOutcome> {
  const start = lab.rule.weights;
  const steps: Weights[] = [];
  let lastShiftAt: number | undefined;
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    const now = Date.now();
    const decision = nextStep({ target: o.target, plan: o.plan, start, live: lab.rule.weights, lastShiftAt, now });
    if (decision.action === 'done') {
      return { outcome: 'shifted', rule: lab.rule, steps };
    }
    if (decision.action === 'wait') {
      await sleep(Math.min(o.pollMs ?? 100, decision.until - now));
      continue;
    }
    const gate = gateVerdict({
      color: o.target,
      targetStates: await lab.haproxy!.targetStates(o.target),
      minHealthy: o.minHealthy,
      alarmNames: [],
      alarmStates: {},
    });
    if (gate.verdict === 'pending') {
      await sleep(o.pollMs ?? 100);
      continue;
    }
    if (gate.verdict === 'fail') {
      const rule = (o.onGateFail ?? 'cut off') === 'cut off' ? cutOff(o.target) : { weights: start };
      if (!sameState(lab.rule, rule)) {
        await lab.setRule(rule);
      }
      return { outcome: 'gate failed', reason: gate.reason, rule, at: Date.now(), steps };
    }
    const rule: RuleState = { weights: decision.to };
    await lab.setRule(rule);
    lastShiftAt = now;
    steps.push(decision.to);
    await o.afterStep?.(rule);
    if (decision.final) {
      return { outcome: 'shifted', rule, steps };
    }
  }
  throw new Error(`the shift to ${o.target} did not end within ${o.timeoutMs ?? 60_000} ms; the rule has ${formatState(lab.rule)}`);
}

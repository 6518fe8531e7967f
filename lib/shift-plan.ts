import { Duration, Token } from 'aws-cdk-lib/core';
import { SessionTierValidationError } from './errors';
import { MAX_PLAN_SECONDS, PLAN_LIMIT_REASON, PlanSpec, formatPlan, planSeconds, plannedShares, stepDelaySeconds } from './contract/traffic-shift';

/**
 * How a deploy moves traffic to the target color, in steps that each wait for
 * the target's targets to be healthy and for no gate alarm to be in ALARM.
 *
 * `ShiftPlan.allAtOnce()`, `ShiftPlan.canary(10, Duration.minutes(5))`,
 * `ShiftPlan.linear(20, Duration.minutes(2))`. The factories validate.
 */
export class ShiftPlan {
  /** Everything to the target color in one gated step. */
  public static allAtOnce(): ShiftPlan {
    return new ShiftPlan({ kind: 'all-at-once' });
  }

  /**
   * `percent` of new users to the target color, then, after `bake`, the rest.
   * @param percent 1 to 99
   * @param bake how long the canary runs before the rest follows; whole seconds, at most 40 minutes
   *   (CloudFormation waits an hour at most for the shift, which also needs time for the provider
   *   and for targets' first health checks)
   */
  public static canary(percent: number, bake: Duration): ShiftPlan {
    return ShiftPlan.checked('canary', percent, bake);
  }

  /**
   * `percent` more of new users to the target color every `interval`, until all.
   * @param percent 1 to 99
   * @param interval the wait between steps; whole seconds, at most 40 minutes in all (see `canary`)
   */
  public static linear(percent: number, interval: Duration): ShiftPlan {
    return ShiftPlan.checked('linear', percent, interval);
  }

  /**
   * The plan written as the demo app's context takes it: `all-at-once`,
   * `canary:<percent>:<duration>` or `linear:<percent>:<duration>`, with
   * durations like `45s`, `5m`, `1h`.
   */
  public static fromString(text: string): ShiftPlan {
    const match = /^(canary|linear):(\d+):(\d+)(s|m|h)$/.exec(text);
    if (text === 'all-at-once') {
      return ShiftPlan.allAtOnce();
    }
    if (!match) {
      throw new SessionTierValidationError(
        `shiftPlan: must be all-at-once, canary:<percent>:<duration> or linear:<percent>:<duration> (duration like 45s, 5m, 1h), got ${JSON.stringify(text)}; e.g. canary:10:5m`,
      );
    }
    const amount = Number(match[3]);
    const wait = match[4] === 's' ? Duration.seconds(amount) : match[4] === 'm' ? Duration.minutes(amount) : Duration.hours(amount);
    return ShiftPlan.checked(match[1] as 'canary' | 'linear', Number(match[2]), wait);
  }

  private static checked(kind: 'canary' | 'linear', percent: number, wait: Duration): ShiftPlan {
    if (Token.isUnresolved(percent) || Token.isUnresolved(wait.toSeconds({ integral: false }))) {
      throw new SessionTierValidationError('shiftPlan: percent and wait must be known at synth, got a token; use numbers and Duration values');
    }
    const seconds = wait.toSeconds({ integral: false });
    const problems: string[] = [];
    if (!Number.isInteger(percent) || percent < 1 || percent > 99) {
      problems.push(`shiftPlan: the step must be a whole percentage from 1 to 99, got ${percent}`);
    }
    if (!Number.isInteger(seconds) || seconds < 1) {
      problems.push(`shiftPlan: the wait must be whole seconds of at least 1 s, got ${wait.toHumanString()}`);
    }
    if (problems.length === 0) {
      const spec: PlanSpec = kind === 'canary'
        ? { kind, percent, bakeSeconds: seconds }
        : { kind, percent, intervalSeconds: seconds };
      if (planSeconds(spec) > MAX_PLAN_SECONDS) {
        problems.push(`shiftPlan: must take at most ${MAX_PLAN_SECONDS / 60} minutes from first to last step, ` +
          `got ${Duration.seconds(planSeconds(spec)).toHumanString()}; use fewer or shorter steps. ${PLAN_LIMIT_REASON}`);
      } else {
        return new ShiftPlan(spec);
      }
    }
    throw new SessionTierValidationError(problems);
  }

  /**
   * The plan in the form the traffic shifter reads (the contract's `PlanSpec`).
   * @internal a union type, which jsii languages cannot name; `toString()` is its public form.
   */
  public readonly _spec: PlanSpec;

  private constructor(spec: PlanSpec) {
    this._spec = spec;
  }

  /** The target color's share after each step, in percent, ending at 100: `[10, 100]` for a 10 % canary. */
  public get steps(): number[] {
    return plannedShares(this._spec);
  }

  /** The wait before each step after the first (a canary's bake, a linear plan's interval); zero for all at once. */
  public get stepDelay(): Duration {
    return Duration.seconds(stepDelaySeconds(this._spec));
  }

  /** Time from the first step to the last. */
  public get duration(): Duration {
    return Duration.seconds(planSeconds(this._spec));
  }

  /** The plan as the traffic shifter's `Plan` property: `all-at-once`, `canary:10:300`, `linear:20:120`. */
  public toString(): string {
    return formatPlan(this._spec);
  }
}

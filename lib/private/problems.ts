import { Duration, Token } from 'aws-cdk-lib/core';
import { IConstruct } from 'constructs';
import { SessionTierValidationError } from '../errors';

/** Bounds of a number or a duration; a missing bound is not checked. */
export interface Bounds {
  readonly min?: number;
  readonly max?: number;
}

/**
 * Collects the problems of one set of props and throws them together. Its
 * number and duration checks skip values that are tokens (a `CfnParameter`'s
 * number reads as -1.888e+289 until deploy time): only CloudFormation knows
 * them, so no message ever prints one.
 */
export class ProblemList {
  private readonly problems: string[] = [];

  /** Records `problem` when `failed` is true. */
  public check(failed: boolean, problem: () => string): void {
    if (failed) {
      this.problems.push(problem());
    }
  }

  /** Records problems found elsewhere. */
  public add(...problems: string[]): void {
    this.problems.push(...problems);
  }

  /**
   * `prop` must be a whole number within `bounds`, when given and known at synth:
   * `<prop>: must be a whole number from 1 to 6, got 7[; fix]`.
   */
  public wholeNumber(prop: string, value: number | undefined, bounds: Bounds, fix?: string): void {
    if (value === undefined || Token.isUnresolved(value)) {
      return;
    }
    this.check(!Number.isInteger(value) || !within(value, bounds),
      () => withFix(`${prop}: must be a whole number ${range(bounds)}, got ${value}`, fix));
  }

  /**
   * `prop` must be a number within `bounds` (`above` excludes the lower bound), when given and known at synth.
   * @param what how the value reads in the message, e.g. `a percentage`
   */
  public number(prop: string, value: number | undefined, bounds: Bounds & { readonly above?: number }, what = 'a number', fix?: string): void {
    if (value === undefined || Token.isUnresolved(value)) {
      return;
    }
    const aboveOk = bounds.above === undefined || value > bounds.above;
    const lower = bounds.above !== undefined ? `above ${bounds.above}` : undefined;
    const text = lower && bounds.max !== undefined ? `${lower} and at most ${bounds.max}` : lower ?? range(bounds);
    this.check(!Number.isFinite(value) || !aboveOk || !within(value, bounds), () => withFix(`${prop}: must be ${what} ${text}, got ${value}`, fix));
  }

  /**
   * `prop` must be whole seconds within `bounds` (in seconds), when given and known at synth:
   * `<prop>: must be whole seconds from 0 to 3600, got 1.5 seconds`.
   */
  public wholeSeconds(prop: string, value: Duration | undefined, bounds: Bounds, fix?: string): void {
    if (value === undefined || value.isUnresolved()) {
      return;
    }
    const seconds = value.toSeconds({ integral: false });
    this.check(!Number.isInteger(seconds) || !within(seconds, bounds),
      () => withFix(`${prop}: must be whole seconds ${range(bounds)}, got ${value.toHumanString()}`, fix));
  }

  /** Throws a {@link SessionTierValidationError} when any problem was recorded. */
  public throwIfAny(scope?: IConstruct): void {
    if (this.problems.length > 0) {
      throw new SessionTierValidationError(this.problems, scope);
    }
  }
}

function within(value: number, { min, max }: Bounds): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

function range({ min, max }: Bounds): string {
  if (min !== undefined && max !== undefined) {
    return `from ${min} to ${max}`;
  }
  return min !== undefined ? `of at least ${min}` : max !== undefined ? `of at most ${max}` : '';
}

function withFix(message: string, fix: string | undefined): string {
  return fix ? `${message}; ${fix}` : message;
}

import { IConstruct } from 'constructs';
import { SessionTierValidationError } from '../errors';

/**
 * Collects the problems of one set of props and throws them together.
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

  /** Throws a {@link SessionTierValidationError} when any problem was recorded. */
  public throwIfAny(scope?: IConstruct): void {
    if (this.problems.length > 0) {
      throw new SessionTierValidationError(this.problems, scope);
    }
  }
}

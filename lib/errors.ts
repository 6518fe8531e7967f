import { IConstruct } from 'constructs';

/**
 * The error every construct and value class of this library throws for an
 * invalid configuration.
 *
 * Each problem reads `<prop>: <what is wrong>, got <value>; <what is allowed or the fix>`.
 * A construct collects all of its problems and throws once, so a user fixes
 * them in one round; the construct's path is appended when a scope is known.
 * Not exported from the package (jsii languages cannot name an Error
 * subclass): users tell it apart with {@link SessionTierErrors}.
 */
export class SessionTierValidationError extends Error {
  /** The individual problems, one sentence each. */
  public readonly problems: string[];

  constructor(problems: string | string[], scope?: IConstruct) {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    const where = scope ? ` (at ${scope.node.path})` : '';
    const message = list.length === 1
      ? `${list[0]}${where}`
      : `${list.length} problems${where}:\n${list.map((p) => `  - ${p}`).join('\n')}`;
    super(message);
    this.name = 'SessionTierValidationError';
    this.problems = list;
  }
}

/**
 * Tells this library's validation errors apart from any other error: jsii
 * languages cannot name an `Error` subclass, so the check is a function, as
 * aws-cdk-lib's `Errors.isValidationError`.
 */
export class SessionTierErrors {
  /** Whether `x` is a validation error of this library: invalid props or context, found at synth. */
  public static isValidationError(x: unknown): boolean {
    return x instanceof SessionTierValidationError;
  }

  /** The problems of one of this library's validation errors, one sentence each; none for anything else. */
  public static problemsOf(x: unknown): string[] {
    return x instanceof SessionTierValidationError ? [...x.problems] : [];
  }

  private constructor() {}
}

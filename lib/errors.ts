import { IConstruct } from 'constructs';

/**
 * The error every construct and value class of this library throws for an
 * invalid configuration.
 *
 * Each problem reads `<prop>: <what is wrong>, got <value>; <what is allowed or the fix>`.
 * A construct collects all of its problems and throws once, so a user fixes
 * them in one round; the construct's path is appended when a scope is known.
 */
export class SessionTierValidationError extends Error {
  /** The individual problems, one sentence each. */
  public readonly problems: readonly string[];

  constructor(problems: string | readonly string[], scope?: IConstruct) {
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

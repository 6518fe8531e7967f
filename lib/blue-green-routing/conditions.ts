import { Token } from 'aws-cdk-lib/core';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ProblemList } from '../private/problems';

/**
 * ELB's rules for one rule's conditions
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html,
 * "Condition basics"; quotas "Condition values per rule" and "Condition wildcards per rule" in
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html):
 * at most one host-header, http-request-method, path-pattern and source-ip
 * condition, at most 3 match evaluations per condition and 5 per rule, at
 * most 5 wildcards per rule.
 */
export const CONDITION_LIMITS = { valuesPerCondition: 3, valuesPerRule: 5, wildcardsPerRule: 5 } as const;
const ONCE_PER_RULE = ['host-header', 'http-request-method', 'path-pattern', 'source-ip'];
/** The fields whose values may hold ELB's wildcards `*` and `?`. */
const WILDCARD_FIELDS = ['host-header', 'http-header', 'path-pattern', 'query-string'];

/** A condition as aws-cdk-lib renders it for CloudFormation (`renderRawCondition`). */
interface RawCondition {
  readonly field: string;
  readonly [config: string]: unknown;
}

/** The values a rendered condition matches; undefined when a token stands for the whole list. */
function valuesOf(raw: RawCondition): unknown[] | undefined {
  const config = Object.entries(raw).find(([key]) => key.endsWith('Config'))?.[1] as { values?: unknown } | undefined;
  const values = config?.values ?? raw.values;
  // A list token (a CommaDelimitedList parameter, say) counts as unknown: only CloudFormation knows its length.
  return Array.isArray(values) && !Token.isUnresolved(values) ? values : undefined;
}

/** The wildcards of one value known at synth (a query string's key and value both count). */
function wildcardsOf(value: unknown): number {
  const texts = typeof value === 'string' ? [value] : typeof value === 'object' && value !== null ? Object.values(value) : [];
  return texts.filter((t): t is string => typeof t === 'string' && !Token.isUnresolved(t))
    .reduce((n, t) => n + (t.match(/[*?]/g)?.length ?? 0), 0);
}

/**
 * Checks `conditions` against ELB's limits for a rule, leaving room for what
 * the test-traffic rules add (`extra`: their match evaluations and wildcards).
 */
export function checkConditions(problems: ProblemList, conditions: elbv2.ListenerCondition[] | undefined, extra: { values: number; wildcards: number }): void {
  if (conditions === undefined) {
    return;
  }
  const raws = conditions.map((c) => c.renderRawCondition() as RawCondition);
  for (const field of ONCE_PER_RULE) {
    const count = raws.filter((r) => r.field === field).length;
    problems.check(count > 1, () => `conditions: ELB allows at most one ${field} condition per rule, got ${count}; put the values in one condition (any of them matches)`);
  }
  let values = 0;
  let wildcards = 0;
  for (const raw of raws) {
    const list = valuesOf(raw);
    if (!list) {
      continue;
    }
    problems.check(list.length > CONDITION_LIMITS.valuesPerCondition,
      () => `conditions: ELB allows at most ${CONDITION_LIMITS.valuesPerCondition} values per condition, got ${list.length} in the ${raw.field} condition; ` +
        'split it, or match with wildcards');
    values += list.length;
    if (WILDCARD_FIELDS.includes(raw.field)) {
      wildcards += list.reduce((n: number, v) => n + wildcardsOf(v), 0);
    }
  }
  const withTest = extra.values > 0 ? ` (test traffic adds ${extra.values} to each of its rules)` : '';
  problems.check(values + extra.values > CONDITION_LIMITS.valuesPerRule,
    () => `conditions: ELB allows at most ${CONDITION_LIMITS.valuesPerRule} condition values per rule, got ${values + extra.values}${withTest}; ` +
      'use fewer values, or wildcards');
  problems.check(wildcards + extra.wildcards > CONDITION_LIMITS.wildcardsPerRule,
    () => `conditions: ELB allows at most ${CONDITION_LIMITS.wildcardsPerRule} wildcards (* and ?) per rule, got ${wildcards + extra.wildcards}${withTest}; ` +
      'use fewer wildcards');
}

/**
 * The conditions as the ELB API takes them (`RuleCondition`: `Field`,
 * `HostHeaderConfig: { Values }`, ...), for the traffic shifter, which
 * creates its rules with CreateRule: aws-cdk-lib renders CloudFormation's
 * camelCase, the API's members start with a capital.
 */
export function apiConditions(conditions: elbv2.ListenerCondition[]): unknown[] {
  return conditions.map((c) => capitalizeKeys(c.renderRawCondition()));
}

function capitalizeKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(capitalizeKeys);
  }
  if (typeof value === 'object' && value !== null && !Token.isUnresolved(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), capitalizeKeys(v)]));
  }
  return value;
}

/**
 * Checks requests against a role policy read from a synthesized template:
 * which IAM actions a request needs and on which ARN, whether an Allow
 * statement grants them (IAM's wildcard matching), and which granted actions
 * nothing needs.
 *
 * The action and resource of each operation follow AWS's Service
 * Authorization Reference:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
 */
import { ModelledService } from '../../local/aws-model';
import { SentRequest } from './sent-requests';

/** The IAM service prefix of each modelled service. */
const IAM_PREFIX: Record<ModelledService, string> = { elbv2: 'elasticloadbalancing', cloudwatch: 'cloudwatch', secretsmanager: 'secretsmanager', lambda: 'lambda' };

/** Where requests are sent, for the ARNs of requests that name none (alarms by name). */
export interface AwsContext {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** One authorization a request needs: an IAM action on a resource ARN (`*` where the action takes no resource). */
export interface Authorization {
  readonly action: string;
  readonly resource: string;
}

/**
 * The authorizations `request` needs. Operations whose action has no resource
 * type in the reference need `*`. An operation without a mapping throws, so
 * a new command cannot go unchecked.
 */
export function authorizationsFor(request: SentRequest, context: AwsContext): Authorization[] {
  const action = `${IAM_PREFIX[request.service]}:${request.operation}`;
  const input = request.input;
  const on = (...resources: string[]) => resources.map((resource) => ({ action, resource }));
  switch (`${request.service}:${request.operation}`) {
    case 'elbv2:CreateRule': {
      const needed = on(input.ListenerArn as string);
      // Tags on create are also authorized as AddTags on the rule being created:
      // https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html
      if (Array.isArray(input.Tags) && input.Tags.length > 0) {
        needed.push({ action: 'elasticloadbalancing:AddTags', resource: newRuleArn(input.ListenerArn as string) });
      }
      return needed;
    }
    case 'elbv2:ModifyRule':
    case 'elbv2:DeleteRule':
      return on(input.RuleArn as string);
    case 'elbv2:SetRulePriorities':
      // Authorized on each rule it moves (listener-rule in the Service Authorization Reference).
      return on(...(input.RulePriorities as Array<{ RuleArn: string }>).map((p) => p.RuleArn));
    case 'elbv2:AddTags':
      return on(...input.ResourceArns as string[]);
    case 'elbv2:DescribeRules':
    case 'elbv2:DescribeTags':
    case 'elbv2:DescribeTargetGroups':
    case 'elbv2:DescribeTargetHealth':
      return on('*');
    case 'lambda:Invoke':
      // The Invoke operation is authorized as lambda:InvokeFunction on the function named (ARN, with a qualifier when given).
      return [{ action: 'lambda:InvokeFunction', resource: input.FunctionName as string }];
    case 'cloudwatch:DescribeAlarms':
      return on(...(input.AlarmNames as string[]).map((name) => `arn:${context.partition}:cloudwatch:${context.region}:${context.account}:alarm:${name}`));
    default:
      throw new Error(`${request.service}:${request.operation}: no IAM action and resource known for it; add them from the Service Authorization Reference`);
  }
}

/** The ARN a rule created on `listenerArn` gets: the listener's path under `listener-rule/`, plus an id AWS picks. */
export function newRuleArn(listenerArn: string): string {
  return `${listenerArn.replace(':listener/', ':listener-rule/')}/0123456789abcdef`;
}

/** An IAM policy statement as a template holds it, after {@link resolveIntrinsics}. */
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
}

/** Values for the intrinsics of a template: `Ref` by logical id (and pseudo parameter), `Fn::GetAtt` by `<id>.<attribute>`. */
export type IntrinsicValues = Readonly<Record<string, string>>;

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Split and Fn::Select with `values`; throws on anything it cannot resolve. */
export function resolveIntrinsics(value: unknown, values: IntrinsicValues): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveIntrinsics(item, values));
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const entries = Object.entries(value);
  const [fn, arg] = entries[0] ?? [];
  const known = (key: string) => {
    if (!(key in values)) {
      throw new Error(`cannot resolve ${JSON.stringify(value)}: no value given for ${key}`);
    }
    return values[key];
  };
  if (entries.length === 1) {
    switch (fn) {
      case 'Ref':
        return known(arg as string);
      case 'Fn::GetAtt':
        return known((arg as string[]).join('.'));
      case 'Fn::Join': {
        const [separator, parts] = resolveIntrinsics(arg, values) as [string, unknown[]];
        return parts.map(String).join(separator);
      }
      case 'Fn::Split': {
        const [separator, text] = resolveIntrinsics(arg, values) as [string, string];
        return text.split(separator);
      }
      case 'Fn::Select': {
        const [index, list] = resolveIntrinsics(arg, values) as [number | string, unknown[]];
        return list[Number(index)];
      }
    }
  }
  if (fn?.startsWith('Fn::') || fn === 'Ref') {
    throw new Error(`cannot resolve ${JSON.stringify(value)}: ${fn} is not supported`);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsics(item, values)]));
}

/** Whether `text` matches an IAM pattern: `*` any run of characters, `?` any one. */
function iamMatch(pattern: string, text: string, caseInsensitive: boolean): boolean {
  const source = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, caseInsensitive ? 'si' : 's').test(text);
}

const list = (value: string | readonly string[]): readonly string[] => (typeof value === 'string' ? [value] : value);

/** Whether the statements allow `action` on `resource`. Only plain Allow statements are understood; others throw. */
export function allows(statements: readonly Statement[], { action, resource }: Authorization): boolean {
  return statements.some((statement) => {
    const unsupported = Object.keys(statement).filter((key) => !['Sid', 'Effect', 'Action', 'Resource'].includes(key));
    if (statement.Effect !== 'Allow' || unsupported.length > 0) {
      throw new Error(`statement ${statement.Sid ?? JSON.stringify(statement)}: only Allow statements with Action and Resource are understood, ` +
        `got ${statement.Effect} with ${unsupported.join(', ') || 'nothing else'}`);
    }
    // Actions match case-insensitively, resources (ARNs) case-sensitively.
    return list(statement.Action).some((a) => iamMatch(a, action, true)) && list(statement.Resource).some((r) => iamMatch(r, resource, false));
  });
}

/** Each authorization the requests need that the statements do not allow, as `<operation> needs <action> on <resource>`. */
export function unauthorized(requests: readonly SentRequest[], statements: readonly Statement[], context: AwsContext): string[] {
  return requests.flatMap((request) => authorizationsFor(request, context)
    .filter((needed) => !allows(statements, needed))
    .map((needed) => `${request.operation} needs ${needed.action} on ${needed.resource}`));
}

/** The actions the statements allow that none of the requests needs, sorted. */
export function unusedActions(requests: readonly SentRequest[], statements: readonly Statement[], context: AwsContext): string[] {
  const needed = requests.flatMap((request) => authorizationsFor(request, context).map((a) => a.action));
  const granted = new Set(statements.flatMap((statement) => list(statement.Action)));
  return [...granted].filter((pattern) => !needed.some((action) => iamMatch(pattern, action, true))).sort();
}

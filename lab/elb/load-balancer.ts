/**
 * One Application Load Balancer with one listener, as the ELBv2 API shows it:
 * its rules, target groups and tags, changed and described by the operations
 * the traffic shifter calls, each refusing what AWS documents it refuses with
 * AWS's error code. Pure state: lab/elb/endpoint.ts puts it on the wire, and
 * HAProxy routes by its {@link LoadBalancer.routing}.
 */
import { randomBytes } from 'crypto';
import {
  Action, AddTagsInput, CreateRuleInput, DeleteRuleInput, DescribeRulesInput, DescribeTagsInput, DescribeTargetGroupsInput,
  ModifyRuleInput, Rule, RuleCondition, Tag, TargetGroup, TargetGroupTuple,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ApiError } from './protocol';

/** The routing the listener does, in the order it evaluates: what HAProxy is told. */
export interface RoutingRule {
  /** The rule's priority, or `default`. */
  readonly id: string;
  /** Every one must match (none for the default rule); a request matches a condition when one of its patterns matches. */
  readonly conditions: readonly RoutingCondition[];
  /** The forward action's target groups by name, with their weights. */
  readonly targets: ReadonlyArray<{ readonly group: string; readonly weight: number }>;
  /** Target-group stickiness (AWSALBTG) in seconds, 0 when off. */
  readonly stickySeconds: number;
}

/**
 * A condition as HAProxy's Lua evaluates it: anchored Lua patterns, matched
 * against the path and method as they are, the host and header values in lower case.
 */
export type RoutingCondition =
  | { readonly kind: 'path' | 'host' | 'method'; readonly patterns: readonly string[] }
  | { readonly kind: 'header'; readonly name: string; readonly patterns: readonly string[] };

/** The listener's default action: a forward to these groups (by name) with these weights, and the group stickiness. */
export interface DefaultForward {
  readonly targets: ReadonlyArray<{ readonly group: string; readonly weight: number }>;
  readonly stickySeconds: number;
}

export interface LoadBalancerOptions {
  /** @default 'eu-west-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly account?: string;
  /** The target groups by name (`blue`, `green`). */
  readonly targetGroups: readonly string[];
  /** The listener's default action, as the stack created it. */
  readonly defaultAction: DefaultForward;
  /** DescribeRules' and DescribeTargetGroups' page size when the caller gives none; AWS does not document its own. @default 400 */
  readonly defaultPageSize?: number;
}

interface StoredRule {
  readonly arn: string;
  readonly priority: number | 'default';
  conditions: RuleCondition[];
  actions: Action[];
}

/** The ALB's documented limits the endpoint enforces, each where AWS states it. */
const ELB_LIMITS = {
  /** RulePriority: 1 to 50000 (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html). */
  priority: { min: 1, max: 50_000 },
  /** Target groups per forward action (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html: "Target groups per action: 5"). */
  targetGroupsPerAction: 5,
  /** TargetGroupTuple Weight: "The range is 0 to 999" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html). */
  weight: { min: 0, max: 999 },
  /** TargetGroupStickinessConfig DurationSeconds: "The range is 1-604800 seconds (7 days)" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupStickinessConfig.html). */
  groupStickinessSeconds: { min: 1, max: 604_800 },
  /** Tags per resource (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/tag-load-balancer.html, "Tag restrictions": at most 50). */
  tagsPerResource: 50,
  /** DescribeTags: "You can specify up to 20 resources in a single call" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html). */
  describeTagsResources: 20,
  /** PageSize: 1 to 400 (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeRules.html). */
  pageSize: { min: 1, max: 400 },
  /** "up to three match evaluations per condition and up to five match evaluations per rule" (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html). */
  valuesPerCondition: 3,
  valuesPerRule: 5,
  /** Each condition value: at most 128 characters (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html). */
  conditionValueLength: 128,
  /** HttpHeaderName: at most 40 characters (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html). */
  headerNameLength: 40,
} as const;

/** Tag keys and values: letters, spaces, digits and `_.:/=+-@` (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Tag.html); keys 1 to 128 characters, values up to 256. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The load balancer's state, and the ELBv2 operations the traffic shifter calls, as pure methods. */
export class LoadBalancer {
  public readonly region: string;
  public readonly account: string;
  public readonly arn: string;
  public readonly listenerArn: string;
  /** Target group ARNs by name. */
  public readonly targetGroupArns: ReadonlyMap<string, string>;
  private readonly rules = new Map<string, StoredRule>();
  private readonly tags = new Map<string, Tag[]>();
  private readonly defaultRuleArn: string;
  private readonly pageSize: number;

  constructor(options: LoadBalancerOptions) {
    this.region = options.region ?? 'eu-west-1';
    this.account = options.account ?? '123456789012';
    const prefix = `arn:aws:elasticloadbalancing:${this.region}:${this.account}`;
    const lb = `app/lab/${hex(8)}`;
    this.arn = `${prefix}:loadbalancer/${lb}`;
    this.listenerArn = `${prefix}:listener/${lb}/${hex(8)}`;
    this.targetGroupArns = new Map(options.targetGroups.map((name) => [name, `${prefix}:targetgroup/${name}/${hex(8)}`]));
    for (const arn of [this.arn, this.listenerArn, ...this.targetGroupArns.values()]) {
      this.tags.set(arn, []);
    }
    this.pageSize = options.defaultPageSize ?? ELB_LIMITS.pageSize.max;
    this.defaultRuleArn = this.newRuleArn();
    const forward = {
      Type: 'forward' as const,
      ForwardConfig: {
        TargetGroups: options.defaultAction.targets.map((t) => ({ TargetGroupArn: this.groupArn(t.group), Weight: t.weight })),
        TargetGroupStickinessConfig: options.defaultAction.stickySeconds > 0
          ? { Enabled: true, DurationSeconds: options.defaultAction.stickySeconds } : { Enabled: false },
      },
    };
    this.rules.set(this.defaultRuleArn, { arn: this.defaultRuleArn, priority: 'default', conditions: [], actions: this.checkActions([forward]) });
  }

  /** A target group's ARN by its name. */
  public groupArn(name: string): string {
    const arn = this.targetGroupArns.get(name);
    if (!arn) {
      throw new Error(`no target group ${name}; the load balancer has ${[...this.targetGroupArns.keys()].join(', ')}`);
    }
    return arn;
  }

  private newRuleArn(): string {
    return this.listenerArn.replace(':listener/', ':listener-rule/') + `/${hex(8)}`;
  }

  // ---- The API operations -------------------------------------------------

  /** CreateRule (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html). */
  public createRule(input: CreateRuleInput): { Rules: Rule[] } {
    this.checkListener(input.ListenerArn);
    const priority = this.checkPriority(input.Priority);
    const conditions = this.checkConditions(input.Conditions);
    const actions = this.checkActions(input.Actions);
    const tags = input.Tags ? this.checkTags(input.Tags, []) : [];
    // "A listener can't have multiple rules with the same priority" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateRule.html): PriorityInUse.
    if ([...this.rules.values()].some((r) => r.priority === priority)) {
      throw new ApiError('PriorityInUse', `Priority '${priority}' is currently in use`);
    }
    const rule: StoredRule = { arn: this.newRuleArn(), priority, conditions, actions };
    this.rules.set(rule.arn, rule);
    this.tags.set(rule.arn, tags);
    return { Rules: [this.describe(rule)] };
  }

  /**
   * ModifyRule: "Replaces the specified properties of the specified rule. Any
   * properties that you do not specify are unchanged", each list whole
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ModifyRule.html). The default rule's conditions cannot change:
   * it has none (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html).
   */
  public modifyRule(input: ModifyRuleInput): { Rules: Rule[] } {
    const rule = this.rule(input.RuleArn);
    if (input.Conditions !== undefined && rule.priority === 'default') {
      throw new ApiError('OperationNotPermitted', 'The default rule cannot have conditions');
    }
    const conditions = input.Conditions === undefined ? undefined : this.checkConditions(input.Conditions);
    const actions = input.Actions === undefined ? undefined : this.checkActions(input.Actions);
    rule.conditions = conditions ?? rule.conditions;
    rule.actions = actions ?? rule.actions;
    return { Rules: [this.describe(rule)] };
  }

  /** DeleteRule: "You can't delete the default rule." (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteRule.html). */
  public deleteRule(input: DeleteRuleInput): Record<string, never> {
    const rule = this.rule(input.RuleArn);
    if (rule.priority === 'default') {
      throw new ApiError('OperationNotPermitted', 'Default rule cannot be deleted');
    }
    this.rules.delete(rule.arn);
    this.tags.delete(rule.arn);
    return {};
  }

  /**
   * DescribeRules: "You must specify either a listener or one or more rules"
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeRules.html); a listener's rules in priority order,
   * the default rule last, in pages of `PageSize` with a `NextMarker`.
   */
  public describeRules(input: DescribeRulesInput): { Rules: Rule[]; NextMarker?: string } {
    if ((input.ListenerArn === undefined) === (input.RuleArns === undefined)) {
      throw new ApiError('ValidationError', 'You must specify either listener ARN or rule ARNs');
    }
    if (input.RuleArns) {
      return { Rules: input.RuleArns.map((arn) => this.describe(this.rule(arn))) };
    }
    this.checkListener(input.ListenerArn);
    const { items, next } = this.page(this.ordered().map((r) => this.describe(r)), input.PageSize, input.Marker, (r) => r.Priority!);
    return { Rules: items, NextMarker: next };
  }

  /** DescribeTags: at most 20 resources; each must exist, or its kind's NotFound error (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTags.html). */
  public describeTags(input: DescribeTagsInput): { TagDescriptions: Array<{ ResourceArn: string; Tags: Tag[] }> } {
    const arns = input.ResourceArns ?? [];
    if (arns.length < 1 || arns.length > ELB_LIMITS.describeTagsResources) {
      throw new ApiError('ValidationError', `You can specify from 1 to ${ELB_LIMITS.describeTagsResources} resource ARNs, got ${arns.length}`);
    }
    return { TagDescriptions: arns.map((arn) => ({ ResourceArn: arn, Tags: [...this.resourceTags(arn)] })) };
  }

  /**
   * AddTags: "If a resource already has a tag with the same key, AddTags
   * updates its value" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_AddTags.html); a key given twice is
   * DuplicateTagKeys, more than 50 tags on a resource TooManyTags.
   */
  public addTags(input: AddTagsInput): Record<string, never> {
    const arns = input.ResourceArns ?? [];
    if (arns.length < 1 || arns.length > ELB_LIMITS.describeTagsResources) {
      throw new ApiError('ValidationError', `You can specify from 1 to ${ELB_LIMITS.describeTagsResources} resource ARNs, got ${arns.length}`);
    }
    const updated = arns.map((arn) => [arn, this.checkTags(input.Tags ?? [], this.resourceTags(arn))] as const);
    for (const [arn, tags] of updated) {
      this.tags.set(arn, tags);
    }
    return {};
  }

  /**
   * DescribeTargetGroups: by ARNs, by names, or by load balancer, at most one
   * of them (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html); a group not found is
   * TargetGroupNotFound.
   */
  public describeTargetGroups(input: DescribeTargetGroupsInput): { TargetGroups: TargetGroup[]; NextMarker?: string } {
    const filters = [input.TargetGroupArns, input.Names, input.LoadBalancerArn].filter((f) => f !== undefined);
    if (filters.length > 1) {
      throw new ApiError('ValidationError', 'Only one of load balancer ARN, target group ARNs or target group names can be specified');
    }
    if (input.LoadBalancerArn !== undefined && input.LoadBalancerArn !== this.arn) {
      throw new ApiError('LoadBalancerNotFound', `Load balancer '${input.LoadBalancerArn}' not found`);
    }
    const all = [...this.targetGroupArns].map(([name, arn]) => ({ name, arn }));
    const wanted = input.TargetGroupArns
      ? input.TargetGroupArns.map((arn) => all.find((g) => g.arn === arn) ?? this.notFound('TargetGroupNotFound', `Target groups '${arn}' not found`))
      : input.Names
        ? input.Names.map((name) => all.find((g) => g.name === name) ?? this.notFound('TargetGroupNotFound', `Target groups '${name}' not found`))
        : all;
    const used = this.usedTargetGroups();
    const groups = wanted.map((g): TargetGroup => ({
      TargetGroupArn: g.arn,
      TargetGroupName: g.name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: 'vpc-0lab',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
      TargetType: 'instance',
      ProtocolVersion: 'HTTP1',
      IpAddressType: 'ipv4',
      LoadBalancerArns: used.has(g.arn) ? [this.arn] : [],
    }));
    const { items, next } = this.page(groups, input.PageSize, input.Marker, (g) => g.TargetGroupArn!);
    return { TargetGroups: items, NextMarker: next };
  }

  // ---- What the rest of the lab reads -------------------------------------

  /** The rules in evaluation order, the default last, as HAProxy routes by them (names instead of ARNs). */
  public routing(): RoutingRule[] {
    const names = new Map([...this.targetGroupArns].map(([name, arn]) => [arn, name]));
    return this.ordered().map((r) => {
      const forward = forwardOf(r.actions[0]);
      return {
        id: String(r.priority),
        conditions: r.conditions.map(routingCondition),
        targets: forward.targets.map((t) => ({ group: names.get(t.TargetGroupArn!)!, weight: t.Weight ?? 1 })),
        stickySeconds: forward.stickySeconds,
      };
    });
  }

  /**
   * The target groups some action forwards to: the listener's default action
   * or a rule's. Any other group's targets are `unused`, reason
   * Target.NotInUse: "The target group is not used by any load balancer"
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html).
   */
  public usedTargetGroups(): Set<string> {
    return new Set([...this.rules.values()].flatMap((r) => forwardOf(r.actions[0]).targets.map((t) => t.TargetGroupArn!)));
  }

  // ---- Checks --------------------------------------------------------------

  private checkListener(arn: string | undefined): void {
    if (arn !== this.listenerArn) {
      throw new ApiError('ListenerNotFound', `Listener '${arn}' not found`);
    }
  }

  private rule(arn: string | undefined): StoredRule {
    const rule = arn === undefined ? undefined : this.rules.get(arn);
    if (!rule) {
      throw new ApiError('RuleNotFound', `One or more rules not found: '${arn}'`);
    }
    return rule;
  }

  private notFound(code: string, message: string): never {
    throw new ApiError(code, message);
  }

  private checkPriority(priority: unknown): number {
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < ELB_LIMITS.priority.min || priority > ELB_LIMITS.priority.max) {
      throw new ApiError('ValidationError',
        `1 validation error detected: Value '${priority}' at 'priority' failed to satisfy constraint: Member must have value between ${ELB_LIMITS.priority.min} and ${ELB_LIMITS.priority.max}`);
    }
    return priority;
  }

  /**
   * Conditions as the listener-rules guide states them: one or more per rule;
   * at most one host-header, path-pattern and http-request-method (any
   * number of http-header); up to 3 values per condition and 5 per rule, each
   * of at most 128 characters (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html,
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html). The lab routes by path-pattern,
   * host-header, http-header and http-request-method; query-string and
   * source-ip are refused as not modelled.
   */
  private checkConditions(conditions: RuleCondition[] | undefined): RuleCondition[] {
    if (!conditions || conditions.length === 0) {
      throw new ApiError('ValidationError', 'A rule must have at least one condition');
    }
    const once = new Set<string>();
    let total = 0;
    for (const c of conditions) {
      const field = c.Field;
      if (field === 'query-string' || field === 'source-ip') {
        throw new ApiError('UnsupportedByLab', `Condition field '${field}' is valid on AWS but not modelled by the lab's endpoint; use path-pattern, host-header, http-header or http-request-method`);
      }
      if (!['path-pattern', 'host-header', 'http-header', 'http-request-method'].includes(field ?? '')) {
        throw new ApiError('ValidationError', `Condition field '${field}' must be one of [http-header, http-request-method, host-header, path-pattern, query-string, source-ip]`);
      }
      if (field !== 'http-header') {
        if (once.has(field!)) {
          throw new ApiError('ValidationError', `A rule can have at most one '${field}' condition`);
        }
        once.add(field!);
      }
      const values = conditionValues(c);
      if (values.length < 1 || values.length > ELB_LIMITS.valuesPerCondition) {
        throw new ApiError('ValidationError', `A '${field}' condition must have from 1 to ${ELB_LIMITS.valuesPerCondition} values, got ${values.length}`);
      }
      total += values.length;
      for (const v of values) {
        checkConditionValue(field!, v);
      }
      if (field === 'http-header') {
        const name = c.HttpHeaderConfig?.HttpHeaderName ?? '';
        // "The maximum size is 40 characters ... The allowed characters are specified by RFC 7230. Wildcards are not supported.
        // You can't use an HTTP header condition to specify the host header." (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html)
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || name.includes('*') || name.length > ELB_LIMITS.headerNameLength) {
          throw new ApiError('ValidationError', `HTTP header name '${name}' must be 1 to ${ELB_LIMITS.headerNameLength} token characters (RFC 7230), no wildcards`);
        }
        if (name.toLowerCase() === 'host') {
          throw new ApiError('ValidationError', 'An http-header condition cannot name the Host header; use a host-header condition');
        }
      }
    }
    if (total > ELB_LIMITS.valuesPerRule) {
      throw new ApiError('ValidationError', `A rule can have at most ${ELB_LIMITS.valuesPerRule} condition values in all, got ${total}`);
    }
    return conditions.map((c) => normalizedCondition(c));
  }

  /**
   * One forward action (the lab models only `forward`): a target group ARN,
   * or a ForwardConfig of 1 to 5 groups with weights 0 to 999 and, when
   * enabled, group stickiness of 1 to 604800 s; with both, ForwardConfig must
   * name that one group alone (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Action.html,
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_ForwardActionConfig.html, https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupTuple.html,
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupStickinessConfig.html, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html).
   * A group that does not exist is TargetGroupNotFound.
   */
  private checkActions(actions: Action[] | undefined): Action[] {
    if (!actions || actions.length === 0) {
      throw new ApiError('ValidationError', 'A rule must have exactly one forward, redirect or fixed-response action');
    }
    if (actions.length > 1 || actions[0].Type !== 'forward') {
      const types = actions.map((a) => a.Type).join(', ');
      if (actions.some((a) => !['forward', 'redirect', 'fixed-response', 'authenticate-oidc', 'authenticate-cognito'].includes(a.Type ?? ''))) {
        throw new ApiError('ValidationError', `Action type must be one of [forward, redirect, fixed-response, authenticate-oidc, authenticate-cognito], got ${types}`);
      }
      throw new ApiError('UnsupportedByLab', `Actions ${types}: valid on AWS, but the lab's endpoint models one forward action only`);
    }
    const action = actions[0];
    const tuples: TargetGroupTuple[] = action.ForwardConfig?.TargetGroups ?? (action.TargetGroupArn ? [{ TargetGroupArn: action.TargetGroupArn }] : []);
    if (tuples.length === 0) {
      throw new ApiError('ValidationError', 'A forward action must specify a target group ARN or a forward config with target groups');
    }
    if (action.TargetGroupArn && action.ForwardConfig?.TargetGroups
      && (tuples.length !== 1 || tuples[0].TargetGroupArn !== action.TargetGroupArn)) {
      throw new ApiError('ValidationError', 'You cannot specify both a target group ARN and a forward config naming other target groups');
    }
    if (tuples.length > ELB_LIMITS.targetGroupsPerAction) {
      throw new ApiError('ValidationError', `A forward action can have at most ${ELB_LIMITS.targetGroupsPerAction} target groups, got ${tuples.length}`);
    }
    const seen = new Set<string>();
    for (const t of tuples) {
      if (![...this.targetGroupArns.values()].includes(t.TargetGroupArn ?? '')) {
        throw new ApiError('TargetGroupNotFound', `Target groups '${t.TargetGroupArn}' not found`);
      }
      if (seen.has(t.TargetGroupArn!)) {
        throw new ApiError('ValidationError', `Target group '${t.TargetGroupArn}' is specified more than once in the forward action`);
      }
      seen.add(t.TargetGroupArn!);
      const w = t.Weight ?? 1;
      if (!Number.isInteger(w) || w < ELB_LIMITS.weight.min || w > ELB_LIMITS.weight.max) {
        throw new ApiError('ValidationError', `Target group weight must be from ${ELB_LIMITS.weight.min} to ${ELB_LIMITS.weight.max}, got '${t.Weight}'`);
      }
    }
    const sticky = action.ForwardConfig?.TargetGroupStickinessConfig;
    if (sticky?.Enabled === true) {
      const d = sticky.DurationSeconds;
      if (d === undefined || !Number.isInteger(d) || d < ELB_LIMITS.groupStickinessSeconds.min || d > ELB_LIMITS.groupStickinessSeconds.max) {
        throw new ApiError('ValidationError',
          `Target group stickiness duration must be from ${ELB_LIMITS.groupStickinessSeconds.min} to ${ELB_LIMITS.groupStickinessSeconds.max} seconds, got '${d}'`);
      }
    }
    // Stored as DescribeRules answers: ForwardConfig always, TargetGroupArn as well when one group alone.
    return [{
      Type: 'forward',
      ...(tuples.length === 1 ? { TargetGroupArn: tuples[0].TargetGroupArn } : {}),
      ForwardConfig: {
        TargetGroups: tuples.map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight ?? 1 })),
        TargetGroupStickinessConfig: sticky?.Enabled ? { Enabled: true, DurationSeconds: sticky.DurationSeconds } : { Enabled: false },
      },
    }];
  }

  /**
   * Tags after adding `added` to `current`: keys 1 to 128 and values up to
   * 256 characters of letters, spaces, digits and `_.:/=+-@` (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Tag.html),
   * no `aws:` prefix ("reserved for AWS use", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/tag-load-balancer.html),
   * each key once per request (DuplicateTagKeys), at most 50 per resource (TooManyTags).
   */
  private checkTags(added: Tag[], current: Tag[]): Tag[] {
    if (added.length === 0) {
      throw new ApiError('ValidationError', 'Tags must have at least 1 member');
    }
    const keys = new Set<string>();
    for (const { Key: key = '', Value: value = '' } of added) {
      if (key.length < 1 || key.length > 128 || !TAG_TEXT.test(key) || value.length > 256 || !TAG_TEXT.test(value)) {
        throw new ApiError('ValidationError',
          `Tag key '${key}' or value '${value}' is not valid: keys 1 to 128 and values up to 256 characters of letters, spaces, digits and _.:/=+-@`);
      }
      if (key.toLowerCase().startsWith('aws:')) {
        throw new ApiError('ValidationError', `Tag key '${key}': the aws: prefix is reserved for AWS use`);
      }
      if (keys.has(key)) {
        throw new ApiError('DuplicateTagKeys', `Tag key '${key}' is specified more than once`);
      }
      keys.add(key);
    }
    const merged = [...current.filter((t) => !keys.has(t.Key!)), ...added.map((t) => ({ Key: t.Key, Value: t.Value ?? '' }))];
    if (merged.length > ELB_LIMITS.tagsPerResource) {
      throw new ApiError('TooManyTags', `A resource can have at most ${ELB_LIMITS.tagsPerResource} tags, this change would give it ${merged.length}`);
    }
    return merged;
  }

  private resourceTags(arn: string): Tag[] {
    const tags = this.tags.get(arn);
    if (tags) {
      return tags;
    }
    const kind = /:(loadbalancer|listener-rule|listener|targetgroup)\//.exec(arn)?.[1];
    const code = { loadbalancer: 'LoadBalancerNotFound', 'listener-rule': 'RuleNotFound', listener: 'ListenerNotFound', targetgroup: 'TargetGroupNotFound' }[kind ?? ''];
    throw new ApiError(code ?? 'ValidationError', `Resource '${arn}' not found`);
  }

  // ---- Views ---------------------------------------------------------------

  private ordered(): StoredRule[] {
    const rules = [...this.rules.values()];
    const rank = (r: StoredRule) => (r.priority === 'default' ? Infinity : r.priority);
    return rules.sort((a, b) => rank(a) - rank(b));
  }

  private describe(r: StoredRule): Rule {
    return {
      RuleArn: r.arn,
      Priority: String(r.priority),
      Conditions: r.conditions,
      Actions: r.actions,
      IsDefault: r.priority === 'default',
    };
  }

  /** A page of `items` after the item whose key is `marker`: the marker is opaque to callers. */
  private page<T>(items: T[], pageSize: number | undefined, marker: string | undefined, key: (t: T) => string): { items: T[]; next?: string } {
    const size = pageSize ?? this.pageSize;
    if (!Number.isInteger(size) || size < ELB_LIMITS.pageSize.min || size > ELB_LIMITS.pageSize.max) {
      throw new ApiError('ValidationError', `PageSize must be from ${ELB_LIMITS.pageSize.min} to ${ELB_LIMITS.pageSize.max}, got '${pageSize}'`);
    }
    let start = 0;
    if (marker !== undefined) {
      const after = Buffer.from(marker, 'base64url').toString();
      start = items.findIndex((t) => key(t) === after) + 1;
      if (start === 0) {
        throw new ApiError('ValidationError', `Invalid marker '${marker}'`);
      }
    }
    const slice = items.slice(start, start + size);
    const next = start + size < items.length ? Buffer.from(key(slice[slice.length - 1])).toString('base64url') : undefined;
    return { items: slice, next };
  }
}

/** The forward action's groups and group stickiness (the only action the lab stores). */
function forwardOf(action: Action): { targets: TargetGroupTuple[]; stickySeconds: number } {
  const sticky = action.ForwardConfig?.TargetGroupStickinessConfig;
  return { targets: action.ForwardConfig?.TargetGroups ?? [], stickySeconds: sticky?.Enabled ? sticky.DurationSeconds ?? 0 : 0 };
}

/** A condition's values, from its config or, for host-header and path-pattern, from `Values`, which take a single value. */
function conditionValues(c: RuleCondition): string[] {
  const config = c.PathPatternConfig?.Values ?? c.HostHeaderConfig?.Values ?? c.HttpHeaderConfig?.Values ?? c.HttpRequestMethodConfig?.Values;
  if (config && c.Values) {
    throw new ApiError('ValidationError', `Condition '${c.Field}': specify either Values or the condition's config, not both`);
  }
  if (c.Values && (c.Field === 'http-header' || c.Field === 'http-request-method')) {
    throw new ApiError('ValidationError', `Condition '${c.Field}': Values applies only to host-header and path-pattern; use the condition's config`);
  }
  if (c.Values && c.Values.length > 1) {
    throw new ApiError('ValidationError', `Condition '${c.Field}': Values takes a single value; use the condition's config for more`);
  }
  return config ?? c.Values ?? [];
}

/**
 * The characters each field allows (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html):
 * a path `A-Z a-z 0-9 _ - . $ / ~ " ' @ : + &` and the wildcards; a host
 * `A-Z a-z 0-9 - .` and the wildcards; a method `A-Z _ -`.
 */
function checkConditionValue(field: string, value: string): void {
  if (value.length < 1 || value.length > ELB_LIMITS.conditionValueLength) {
    throw new ApiError('ValidationError', `Condition value '${value}' must be 1 to ${ELB_LIMITS.conditionValueLength} characters`);
  }
  const allowed: Record<string, RegExp> = {
    'path-pattern': /^[A-Za-z0-9_\-.$/~"'@:+&*?]+$/,
    'host-header': /^[A-Za-z0-9\-.*?]+$/,
    'http-request-method': /^[A-Z_-]+$/,
    'http-header': /^[\x20-\x7e]+$/,
  };
  if (!allowed[field].test(value)) {
    throw new ApiError('ValidationError', `Condition value '${value}' has characters a '${field}' condition does not allow`);
  }
}

/** A condition as DescribeRules answers it: the config form, and `Values` too for host-header and path-pattern. */
function normalizedCondition(c: RuleCondition): RuleCondition {
  const values = conditionValues(c);
  switch (c.Field) {
    case 'path-pattern': return { Field: c.Field, Values: values, PathPatternConfig: { Values: values } };
    case 'host-header': return { Field: c.Field, Values: values, HostHeaderConfig: { Values: values } };
    case 'http-header': return { Field: c.Field, HttpHeaderConfig: { HttpHeaderName: c.HttpHeaderConfig!.HttpHeaderName, Values: values } };
    default: return { Field: c.Field, HttpRequestMethodConfig: { Values: values } };
  }
}

/**
 * An ALB wildcard pattern as an anchored Lua pattern: `*` matches 0 or more
 * characters and `?` exactly 1, everything else itself
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_PathPatternConditionConfig.html).
 */
export function luaPattern(wildcards: string): string {
  const escaped = wildcards.replace(/[\^$()%.[\]+\-]/g, (c) => `%${c}`);
  return `^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`;
}

/**
 * What HAProxy evaluates for a condition: paths and methods compared as they
 * are ("The comparison is case sensitive"), host names and header values
 * case-insensitively (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HostHeaderConditionConfig.html,
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html), so both sides in lower case.
 */
function routingCondition(c: RuleCondition): RoutingCondition {
  // Stored normalized: the config form holds the values.
  const values = c.PathPatternConfig?.Values ?? c.HostHeaderConfig?.Values ?? c.HttpHeaderConfig?.Values ?? c.HttpRequestMethodConfig?.Values ?? [];
  switch (c.Field) {
    case 'path-pattern': return { kind: 'path', patterns: values.map(luaPattern) };
    case 'host-header': return { kind: 'host', patterns: values.map((v) => luaPattern(v.toLowerCase())) };
    case 'http-header': return { kind: 'header', name: c.HttpHeaderConfig!.HttpHeaderName!.toLowerCase(), patterns: values.map((v) => luaPattern(v.toLowerCase())) };
    // "The comparison is case sensitive. Wildcards are not supported" (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpRequestMethodConditionConfig.html).
    default: return { kind: 'method', patterns: values.map(luaPattern) };
  }
}

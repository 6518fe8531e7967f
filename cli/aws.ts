/**
 * Every AWS call of `cdk-session-tier status`, all reads: the shifter's rule
 * and its tags, the test rules, the target groups' health, the gate alarms,
 * and, from a stack, which rule and which gate. A failed call throws an
 * {@link AwsCallError} that names the call and what it was about.
 */
import {
  CloudFormationClient, DescribeStackResourcesCommand, DescribeStacksCommand, GetTemplateCommand, ListExportsCommand, ListStackResourcesCommand,
  StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeRulesCommand, DescribeTagsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SHIFT_PROPS } from '../lib/contract/traffic-shift';
import { RELEASE_TAGS, TAG_WEIGHTS } from '../lambda/traffic-shifter/release';

/** An AWS call that failed: exit code 1, with what was asked. */
export class AwsCallError extends Error {
  public readonly name = 'AwsCallError';
}

/** The custom resource type `BlueGreenRouting` gives its traffic shift. */
export const TRAFFIC_SHIFT_TYPE = 'Custom::BlueGreenTrafficShift';

/** One target as DescribeTargetHealth reports it. */
export interface TargetReading {
  readonly id: string;
  /** `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`, ... */
  readonly state: string;
  readonly reason?: string;
}

/** An alarm's state as DescribeAlarms reports it; a name it did not return has none. */
export interface AlarmReading {
  readonly name: string;
  readonly state?: string;
  readonly reason?: string;
}

/** A test rule the weighted rule's tags name. */
export interface TestRuleReading {
  readonly tag: string;
  readonly ruleArn: string;
  /** Undefined when the rule is gone. */
  readonly rule?: Rule;
}

/** What the gate is, from the traffic shift's properties. */
export interface GateConfig {
  readonly alarmNames: readonly string[];
  readonly minHealthyTargets?: number;
  /** Properties that could not be read, and why. */
  readonly unresolved: readonly string[];
}

/** The rule's stack resource, with what the stack says of it. */
export interface StackTrafficShift {
  readonly stackName: string;
  readonly logicalId: string;
  readonly ruleArn: string;
  /** CloudFormation's status of the resource: `UPDATE_IN_PROGRESS`, `UPDATE_COMPLETE`, `UPDATE_FAILED`, ... */
  readonly resourceStatus?: string;
  readonly gate: GateConfig;
}

/** The clients of one region (none: the SDK's own chain). */
export class StatusReader {
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly cloudwatch: CloudWatchClient;
  private readonly cloudformation: CloudFormationClient;

  constructor(region: string | undefined) {
    const config = region ? { region } : {};
    this.elb = new ElasticLoadBalancingV2Client(config);
    this.cloudwatch = new CloudWatchClient(config);
    this.cloudformation = new CloudFormationClient(config);
  }

  public destroy(): void {
    this.elb.destroy();
    this.cloudwatch.destroy();
    this.cloudformation.destroy();
  }

  /** The rule, or an error saying it is not there. */
  public async rule(ruleArn: string): Promise<Rule> {
    const rules = await call(`DescribeRules for rule ${ruleArn}`, () => this.elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] })), {
      RuleNotFoundException: `rule ${ruleArn} not found: check the ARN and the region (the traffic shift's RuleArn attribute, or use --stack)`,
    });
    const rule = rules.Rules?.[0];
    if (!rule) {
      throw new AwsCallError(`rule ${ruleArn} not found: DescribeRules returned no rule`);
    }
    return rule;
  }

  /** The tags of each resource, by ARN (DescribeTags takes at most 20 ARNs per call). */
  public async tags(arns: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const tagged = new Map<string, Record<string, string>>();
    for (let i = 0; i < arns.length; i += 20) {
      const chunk = arns.slice(i, i + 20);
      const page = await call(`DescribeTags for ${chunk.join(', ')}`, () => this.elb.send(new DescribeTagsCommand({ ResourceArns: chunk })));
      for (const d of page.TagDescriptions ?? []) {
        tagged.set(d.ResourceArn!, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
      }
    }
    return tagged;
  }

  /** The test rules the weighted rule's tags name (an ARN, not `none`), each as it is now. */
  public async testRules(tags: Readonly<Record<string, string>>): Promise<TestRuleReading[]> {
    const readings: TestRuleReading[] = [];
    for (const tag of [RELEASE_TAGS.TEST_HEADER_RULE, RELEASE_TAGS.TEST_COOKIE_RULE]) {
      const ruleArn = tags[tag];
      if (ruleArn?.startsWith('arn:')) {
        const rule = await callOrNone(`DescribeRules for test rule ${ruleArn}`, () => this.elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] })),
          'RuleNotFoundException');
        readings.push({ tag, ruleArn, rule: rule?.Rules?.[0] });
      }
    }
    return readings;
  }

  /**
   * The rule on the listener that the shifter tagged (its weights tag).
   * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeRules.html
   */
  public async ruleOnListener(listenerArn: string): Promise<string> {
    const rules: Rule[] = [];
    let marker: string | undefined;
    do {
      const page = await call(`DescribeRules for listener ${listenerArn}`, () => this.elb.send(new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker })), {
        ListenerNotFoundException: `listener ${listenerArn} not found: check the ARN and the region`,
      });
      rules.push(...page.Rules ?? []);
      marker = page.NextMarker;
    } while (marker);
    const candidates = rules.filter((r) => !r.IsDefault).map((r) => r.RuleArn!);
    const tags = await this.tags(candidates);
    const owned = candidates.filter((arn) => tags.get(arn)?.[TAG_WEIGHTS] !== undefined);
    if (owned.length === 0) {
      throw new AwsCallError(`listener ${listenerArn} has no rule tagged ${TAG_WEIGHTS} by the traffic shifter (of ${candidates.length} rules besides the default): ` +
        'no traffic shift has created its rule there yet');
    }
    if (owned.length > 1) {
      throw new AwsCallError(`listener ${listenerArn} has ${owned.length} rules of traffic shifts: ${owned.join(', ')}; pass one with --rule-arn`);
    }
    return owned[0];
  }

  /** The targets of a target group, with their states. */
  public async targets(targetGroupArn: string): Promise<TargetReading[]> {
    const health = await call(`DescribeTargetHealth for ${targetGroupArn}`, () => this.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })));
    return (health.TargetHealthDescriptions ?? []).map((d) => ({
      id: `${d.Target?.Id ?? '?'}${d.Target?.Port ? `:${d.Target.Port}` : ''}`,
      state: d.TargetHealth?.State ?? 'unknown',
      reason: d.TargetHealth?.Reason,
    }));
  }

  /**
   * Each named alarm's state, metric or composite (as the shifter reads them);
   * a name DescribeAlarms did not return has no state.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
   */
  public async alarms(alarmNames: readonly string[]): Promise<AlarmReading[]> {
    const found = new Map<string, AlarmReading>();
    // At most 100 names per call, in pages of at most 100.
    for (let i = 0; i < alarmNames.length; i += 100) {
      let token: string | undefined;
      do {
        const names = alarmNames.slice(i, i + 100);
        const page = await call(`DescribeAlarms for ${names.join(', ')}`, () => this.cloudwatch.send(new DescribeAlarmsCommand({
          AlarmNames: names, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], MaxRecords: 100, NextToken: token,
        })));
        for (const a of [...page.MetricAlarms ?? [], ...page.CompositeAlarms ?? []]) {
          found.set(a.AlarmName!, { name: a.AlarmName!, state: a.StateValue, reason: a.StateReason });
        }
        token = page.NextToken;
      } while (token);
    }
    return alarmNames.map((name) => found.get(name) ?? { name });
  }

  /**
   * The stack's traffic shift: its physical id (the rule's ARN, as onEvent
   * answers it), its status, and its gate from the stack's template, with
   * `Ref`s to the stack's resources and parameters resolved.
   */
  public async stackTrafficShift(stackName: string, logicalId: string | undefined): Promise<StackTrafficShift> {
    // ListStackResources, page by page: DescribeStackResources returns only the first 100 resources of a stack
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResources.html).
    const resources: StackResourceSummary[] = [];
    let token: string | undefined;
    do {
      const page = await call(`ListStackResources for stack ${stackName}`,
        () => this.cloudformation.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token })));
      resources.push(...page.StackResourceSummaries ?? []);
      token = page.NextToken;
    } while (token);
    const shifts = resources.filter((r) => r.ResourceType === TRAFFIC_SHIFT_TYPE);
    const chosen = logicalId ? resources.find((r) => r.LogicalResourceId === logicalId) : shifts.length === 1 ? shifts[0] : undefined;
    if (!chosen) {
      const have = shifts.map((r) => r.LogicalResourceId).join(', ') || 'none';
      throw new AwsCallError(logicalId
        ? `stack ${stackName} has no resource ${logicalId}; its ${TRAFFIC_SHIFT_TYPE} resources: ${have}`
        : shifts.length === 0
          ? `stack ${stackName} has no ${TRAFFIC_SHIFT_TYPE} resource: is BlueGreenRouting in a nested stack? Pass that stack's name`
          : `stack ${stackName} has ${shifts.length} ${TRAFFIC_SHIFT_TYPE} resources (${have}); choose one with --logical-id`);
    }
    if (chosen.ResourceType !== TRAFFIC_SHIFT_TYPE) {
      throw new AwsCallError(`stack ${stackName}: ${chosen.LogicalResourceId} is a ${chosen.ResourceType}, not a ${TRAFFIC_SHIFT_TYPE}`);
    }
    const ruleArn = chosen.PhysicalResourceId;
    if (!ruleArn?.startsWith('arn:')) {
      throw new AwsCallError(`stack ${stackName}: ${chosen.LogicalResourceId} has no rule yet (physical id ${JSON.stringify(ruleArn ?? '')}, ` +
        `status ${chosen.ResourceStatus}${chosen.ResourceStatusReason ? `: ${chosen.ResourceStatusReason}` : ''})`);
    }
    return {
      stackName,
      logicalId: chosen.LogicalResourceId!,
      ruleArn,
      resourceStatus: chosen.ResourceStatus,
      gate: await this.gateOf(stackName, chosen.LogicalResourceId!, resources),
    };
  }

  /** The resource's status alone, for each refresh (DescribeStackResources filtered to the one resource). */
  public async resourceStatus(stackName: string, logicalId: string): Promise<string | undefined> {
    const described = await call(`DescribeStackResources for ${logicalId} of stack ${stackName}`,
      () => this.cloudformation.send(new DescribeStackResourcesCommand({ StackName: stackName, LogicalResourceId: logicalId })));
    return described.StackResources?.[0]?.ResourceStatus;
  }

  /**
   * The gate from the template CloudFormation deployed (`Processed`: after
   * any transform): its values, `Ref`s to the stack's resources (a
   * resource's physical id; for an alarm, its name) and parameters, and
   * `Fn::ImportValue`s of other stacks' exports.
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html
   * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html#aws-resource-cloudwatch-alarm-return-values
   */
  private async gateOf(stackName: string, logicalId: string, resources: readonly StackResourceSummary[]): Promise<GateConfig> {
    const template = await call(`GetTemplate for stack ${stackName}`, () => this.cloudformation.send(new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Processed' })));
    let properties: Record<string, unknown>;
    try {
      const body = JSON.parse(template.TemplateBody ?? '') as { Resources?: Record<string, { Properties?: Record<string, unknown> }> };
      properties = body.Resources?.[logicalId]?.Properties ?? {};
    } catch {
      return { alarmNames: [], unresolved: ['the stack\'s template is not JSON (a YAML template is not read): the gate alarms and healthy targets are not shown'] };
    }
    let parameters: Record<string, string> | undefined;
    const readParameters = async () => {
      const stacks = await call(`DescribeStacks for stack ${stackName}`, () => this.cloudformation.send(new DescribeStacksCommand({ StackName: stackName })));
      return Object.fromEntries((stacks.Stacks?.[0]?.Parameters ?? []).map((p) => [p.ParameterKey!, p.ResolvedValue ?? p.ParameterValue ?? '']));
    };
    let exports: Record<string, string> | undefined;
    const readExports = async () => {
      const all: Record<string, string> = {};
      let token: string | undefined;
      do {
        const page = await call('ListExports', () => this.cloudformation.send(new ListExportsCommand({ NextToken: token })));
        for (const e of page.Exports ?? []) {
          all[e.Name!] = e.Value ?? '';
        }
        token = page.NextToken;
      } while (token);
      return all;
    };
    const unresolved: string[] = [];
    const resolve = async (value: unknown, where: string): Promise<string | undefined> => {
      if (typeof value === 'string' || typeof value === 'number') {
        return String(value);
      }
      const ref = (value as { Ref?: unknown } | null)?.Ref;
      // An alarm of another stack, as CDK references it: Fn::ImportValue of that stack's export, by its literal name.
      const imported = (value as { 'Fn::ImportValue'?: unknown } | null)?.['Fn::ImportValue'];
      if (typeof imported === 'string') {
        exports ??= await readExports();
        if (exports[imported] !== undefined) {
          return exports[imported];
        }
      }
      if (typeof ref === 'string') {
        const resource = resources.find((r) => r.LogicalResourceId === ref);
        if (resource?.PhysicalResourceId) {
          return resource.PhysicalResourceId;
        }
        parameters ??= await readParameters();
        if (parameters[ref] !== undefined) {
          return parameters[ref];
        }
      }
      unresolved.push(`${where}: ${JSON.stringify(value)} is not a value, a Ref the stack resolves or an export of the region; not shown`);
      return undefined;
    };
    const alarms = properties[SHIFT_PROPS.ALARM_NAMES];
    const alarmNames: string[] = [];
    for (const [i, a] of (Array.isArray(alarms) ? alarms : []).entries()) {
      const name = await resolve(a, `${SHIFT_PROPS.ALARM_NAMES}[${i}]`);
      if (name !== undefined) {
        alarmNames.push(name);
      }
    }
    const min = await resolve(properties[SHIFT_PROPS.MIN_HEALTHY_TARGETS], SHIFT_PROPS.MIN_HEALTHY_TARGETS);
    return { alarmNames, minHealthyTargets: min !== undefined && /^\d+$/.test(min) ? Number(min) : undefined, unresolved };
  }
}

/**
 * Runs one AWS call; a failure becomes an {@link AwsCallError} naming `what`.
 * `known` maps an exception's name to the message to give instead.
 */
async function call<T>(what: string, send: () => Promise<T>, known: Readonly<Record<string, string>> = {}): Promise<T> {
  try {
    return await send();
  } catch (e) {
    const error = e as Error;
    const message = known[error.name];
    // The SDK's own failures before any request name no fix.
    const fix = /Region is missing/.test(error.message) ? '; pass --region or set AWS_REGION'
      : error.name === 'CredentialsProviderError' ? '; set AWS_PROFILE or AWS credentials (the SDK\'s usual chain)' : '';
    throw new AwsCallError(message ? `${message} (${what}: ${error.name}: ${error.message})` : `${what} failed: ${error.name}: ${error.message}${fix}`);
  }
}

/** {@link call}, or undefined when AWS answers `notFound`. */
async function callOrNone<T>(what: string, send: () => Promise<T>, notFound: string): Promise<T | undefined> {
  try {
    return await send();
  } catch (e) {
    if ((e as Error).name === notFound) {
      return undefined;
    }
    return call(what, () => Promise.reject(e));
  }
}

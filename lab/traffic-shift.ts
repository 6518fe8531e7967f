/**
 * `BlueGreenRouting`'s traffic shift in a lab stack: the real handler (the
 * shipped bundle's `onEvent` and `isComplete`, each a Lambda-like process)
 * behind the provider framework, driven by CloudFormation's lifecycle
 * (lab/cloudformation.ts), against the lab's ELBv2 endpoint and its HAProxy.
 * The lab has no shifter of its own.
 */
import { mkdirSync } from 'fs';
import { join } from 'path';
import { DEFAULT_SHIFT_RULE_PRIORITY } from '../lib/blue-green-routing/props';
import { FleetColorName } from '../lib/contract/app-env';
import { PlanSpec, SHIFT_PROPS, formatPlan, releaseSeconds } from '../lib/contract/traffic-shift';
import { CustomResourceStack, Provider, ProviderSettings, StackOperation } from './cloudformation';
import { Lab } from './lab';
import { LambdaFunction, trafficShifterBundle } from './lambda';

/** What a deploy asks of the traffic shift: the construct's props that become the resource's properties. */
export interface ShiftSettings {
  readonly target: FleetColorName;
  readonly plan: PlanSpec;
  /** Healthy targets the target color needs before each step. */
  readonly minHealthyTargets: number;
  /** Gate alarms, by name (the lab's endpoint answers DescribeAlarms with the states the lab sets). */
  readonly alarmNames?: readonly string[];
  /** @default DEFAULT_SHIFT_RULE_PRIORITY */
  readonly rulePriority?: number;
  /** Seconds the shifter watches the gates after the last step. @default 0 */
  readonly bakeSeconds?: number;
  /** The hook: a function the lab's endpoint answers Invoke for ({@link ElbEndpoint.addFunction}), and how long a stage may answer IN_PROGRESS. */
  readonly hook?: { readonly functionName: string; readonly timeoutSeconds: number };
  /** Test traffic: requests with this header (or, from a browser, this cookie) go to the target color from the deploy's start. */
  readonly testTraffic?: { readonly header: { readonly name: string; readonly value: string }; readonly cookie?: { readonly name: string; readonly value: string }; readonly rulePriority: number };
}

/** The lab's ARN of a function of the endpoint's (the account and region of the lab's load balancer). */
export function labFunctionArn(lab: Lab, name: string): string {
  return `arn:aws:lambda:${lab.loadBalancer.region}:${lab.loadBalancer.account}:function:${name}`;
}

/** The lab's provider, scaled down: CloudFormation's waiter polls every 30 s by default, the lab every quarter second. */
export interface LabShiftOptions {
  /** The provider's queryInterval. @default 250 */
  readonly queryIntervalMs?: number;
  /** The waiter's allowance for targets still in their initial checks (the construct's: 10 minutes). @default 20000 */
  readonly pendingAllowanceMs?: number;
}

/**
 * The provider's polling for a release, as `BlueGreenRouting` sizes it
 * (lib/contract/traffic-shift.ts `waiterSeconds`): the plan's waits and the
 * bake in whole checks, then the pending allowance in whole checks.
 */
function providerSettings(plan: PlanSpec, bakeSeconds: number, o: LabShiftOptions = {}, hookTimeoutSeconds = 0): ProviderSettings {
  const interval = o.queryIntervalMs ?? 250;
  const planMs = Math.ceil((releaseSeconds(plan, { bakeSeconds, hookTimeoutSeconds }) * 1000) / interval) * interval;
  const pending = Math.max(1, Math.floor((o.pendingAllowanceMs ?? 20_000) / interval)) * interval;
  return { queryIntervalMs: interval, totalTimeoutMs: planMs + pending };
}

/** The traffic shift resource of one lab stack, and the two functions that run it. */
export class LabTrafficShift {
  /** Builds the bundle and starts the two functions, with the environment that points their SDK clients at the lab's endpoint. */
  public static async start(lab: Lab, options: LabShiftOptions = {}): Promise<LabTrafficShift> {
    const dir = join(lab.dir, 'traffic-shifter');
    mkdirSync(dir, { recursive: true });
    const bundle = trafficShifterBundle(dir);
    const fn = (handler: string) => new LambdaFunction({
      name: `lab-TrafficShifter-${handler}`,
      bundle,
      handler,
      environment: lab.endpoint!.environment(),
    });
    return new LabTrafficShift(lab, fn('onEvent'), fn('isComplete'), options);
  }

  /** The stack's view of the custom resource: its physical id, properties, attributes, and every request sent. */
  public readonly stack: CustomResourceStack;

  private constructor(
    private readonly lab: Lab,
    public readonly onEvent: LambdaFunction,
    public readonly isComplete: LambdaFunction,
    private readonly options: LabShiftOptions,
  ) {
    const provider = new Provider(onEvent, isComplete, providerSettings({ kind: 'all-at-once' }, 0, options));
    this.stack = new CustomResourceStack(provider, 'arn:aws:lambda:eu-west-1:123456789012:function:lab-TrafficShifter-framework-onEvent');
  }

  /** The resource's properties as `BlueGreenRouting` writes them (CloudFormation passes every scalar as a string). */
  public properties(s: ShiftSettings): Record<string, unknown> {
    const lb = this.lab.loadBalancer;
    const group = this.lab.groupStickiness;
    return {
      [SHIFT_PROPS.LISTENER_ARN]: lb.listenerArn,
      [SHIFT_PROPS.BLUE_TARGET_GROUP_ARN]: lb.groupArn('blue'),
      [SHIFT_PROPS.GREEN_TARGET_GROUP_ARN]: lb.groupArn('green'),
      [SHIFT_PROPS.TARGET_COLOR]: s.target,
      [SHIFT_PROPS.PLAN]: formatPlan(s.plan),
      [SHIFT_PROPS.GROUP_STICKINESS_SECONDS]: String(group.enabled ? group.duration!.toSeconds() : 0),
      [SHIFT_PROPS.MIN_HEALTHY_TARGETS]: String(s.minHealthyTargets),
      [SHIFT_PROPS.ALARM_NAMES]: [...s.alarmNames ?? []],
      [SHIFT_PROPS.RULE_PRIORITY]: String(s.rulePriority ?? DEFAULT_SHIFT_RULE_PRIORITY),
      [SHIFT_PROPS.BAKE_SECONDS]: String(s.bakeSeconds ?? 0),
      ...s.hook ? {
        [SHIFT_PROPS.HOOK_FUNCTION_ARN]: labFunctionArn(this.lab, s.hook.functionName),
        [SHIFT_PROPS.HOOK_TIMEOUT_SECONDS]: String(s.hook.timeoutSeconds),
      } : {},
      ...s.testTraffic ? {
        [SHIFT_PROPS.TEST_HEADER_NAME]: s.testTraffic.header.name,
        [SHIFT_PROPS.TEST_HEADER_VALUE]: s.testTraffic.header.value,
        [SHIFT_PROPS.TEST_COOKIE_NAME]: s.testTraffic.cookie?.name ?? '',
        [SHIFT_PROPS.TEST_COOKIE_VALUE]: s.testTraffic.cookie?.value ?? '',
        [SHIFT_PROPS.TEST_RULE_PRIORITY]: String(s.testTraffic.rulePriority),
      } : {},
    };
  }

  /** A deploy with these settings: the resource's Create the first time, then its Update (rolled back on failure). */
  public deploy(s: ShiftSettings, options: { otherResourceFails?: boolean } = {}): Promise<StackOperation> {
    this.stack.provider.settings = providerSettings(s.plan, s.bakeSeconds ?? 0, this.options, s.hook?.timeoutSeconds ?? 0);
    const props = this.properties(s);
    return this.stack.physicalResourceId ? this.stack.update(props, options) : this.stack.create(props);
  }

  /** A deploy that removes the traffic shift from the stack: its Delete. */
  public remove(): Promise<StackOperation> {
    return this.stack.delete();
  }

  public async stop(): Promise<void> {
    await Promise.all([this.onEvent.stop(), this.isComplete.stop()]);
  }
}

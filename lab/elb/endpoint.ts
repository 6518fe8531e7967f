/**
 * The lab's ELBv2 endpoint (and CloudWatch's DescribeAlarms), over its
 * HAProxy: an HTTP server on loopback that answers the operations the traffic
 * shifter calls in the services' own wire protocols, so that the SDK clients
 * of the real handler reach it through their endpoint setting
 * (`AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2`, `AWS_ENDPOINT_URL_CLOUDWATCH`)
 * and run their own serialization and error parsing. Every rule change goes
 * to HAProxy before the answer, so traffic follows it.
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
import { once } from 'events';
import { IncomingMessage, Server, ServerResponse, createServer } from 'http';
import { DescribeAlarmsInput, MetricAlarm, CompositeAlarm, StateValue } from '@aws-sdk/client-cloudwatch';
import { DescribeTargetHealthInput } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ServiceModel, loadModel } from '../../local/aws-model';
import { Haproxy } from '../haproxy';
import { LoadBalancer, RoutingRule } from './load-balancer';
import { AlarmReading } from './cloudwatch';
import { ApiError, jsonError, jsonResponse, parseQueryInput, queryError, queryResponse } from './protocol';
import { TargetRegistry } from './targets';

/** A request the endpoint accepted, as the operation's input: the model test checks each against AWS's model. */
export interface AcceptedRequest {
  readonly service: 'elbv2' | 'cloudwatch' | 'lambda';
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** The ELBv2 operations the endpoint answers: those the traffic shifter calls. */
const ELB_OPERATIONS = ['CreateRule', 'ModifyRule', 'DeleteRule', 'DescribeRules', 'DescribeTags', 'AddTags', 'DescribeTargetGroups', 'DescribeTargetHealth'] as const;
/** Those that change the listener's rules, after which HAProxy is told. */
const RULE_CHANGES = new Set(['CreateRule', 'ModifyRule', 'DeleteRule']);
/** CloudWatch's AWS JSON target prefix (the SDK's `X-Amz-Target: GraniteServiceVersion20100801.DescribeAlarms`). */
const CLOUDWATCH_TARGET = 'GraniteServiceVersion20100801';

/** An alarm the lab sets, or evaluates at each DescribeAlarms (`evaluate`): its name, kind and state. */
interface LabAlarm {
  readonly name: string;
  readonly type: 'MetricAlarm' | 'CompositeAlarm';
  state: StateValue;
  reason: string;
  updatedAt: Date;
  readonly evaluate?: () => AlarmReading;
}

/** A function the endpoint's Lambda Invoke runs: the event in, what it returns out; what it throws is the function's error. */
export type LabFunctionHandler = (event: unknown) => Promise<unknown>;

export interface ElbEndpointOptions {
  /** How long a deregistered target drains before it leaves its group. @default 1000 (AWS: 300 s) */
  readonly deregistrationDelayMs?: number;
}

/** The endpoint: an HTTP server on loopback over one {@link LoadBalancer} and its HAProxy. */
export class ElbEndpoint {
  /** Starts the endpoint on a free loopback port. */
  public static async start(lb: LoadBalancer, haproxy: Haproxy, options: ElbEndpointOptions = {}): Promise<ElbEndpoint> {
    const endpoint = new ElbEndpoint(lb, haproxy, options.deregistrationDelayMs ?? 1000);
    endpoint.server.listen(0, '127.0.0.1');
    await once(endpoint.server, 'listening');
    return endpoint;
  }

  /** The targets of each group, registered by the lab as an Auto Scaling group registers its instances. */
  public readonly targets: TargetRegistry;
  /** Every request accepted, in order. */
  public readonly accepted: AcceptedRequest[] = [];
  /** The listener's rules after each change, and when HAProxy had them (the first entry: at start). */
  public readonly ruleChanges: Array<{ readonly at: number; readonly rules: RoutingRule[] }> = [];
  private readonly server: Server;
  private readonly elbModel: ServiceModel = loadModel('elbv2');
  private readonly alarms = new Map<string, LabAlarm>();
  /** Lambda functions by name, for Invoke. */
  private readonly functions = new Map<string, LabFunctionHandler>();
  /** Every Invoke answered: the function, the event, and what it answered (`FunctionError` set when it threw). */
  public readonly invocations: Array<{ readonly functionName: string; readonly event: unknown; readonly payload: unknown; readonly functionError?: string; readonly at: number }> = [];
  /** Requests are answered one at a time, as their changes reach HAProxy in order. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(public readonly loadBalancer: LoadBalancer, private readonly haproxy: Haproxy, deregistrationDelayMs: number) {
    this.targets = new TargetRegistry(haproxy, deregistrationDelayMs);
    this.targets.used(this.usedGroups());
    this.ruleChanges.push({ at: Date.now(), rules: loadBalancer.routing() });
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const answered = this.queue.then(() => this.answer(req, body, res));
        this.queue = answered.catch(() => undefined);
      });
    });
  }

  /** Where the SDK clients send their requests. */
  public get url(): string {
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  /**
   * The environment a process needs for its SDK clients to reach this
   * endpoint: the service-specific endpoint variables, a region, and
   * credentials (the endpoint does not check signatures, but the SDK signs).
   */
  public environment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2: this.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: this.url,
      AWS_ENDPOINT_URL_LAMBDA: this.url,
      AWS_REGION: this.loadBalancer.region,
      AWS_DEFAULT_REGION: this.loadBalancer.region,
      AWS_ACCESS_KEY_ID: 'AKIALABLABLABLABLAB0',
      AWS_SECRET_ACCESS_KEY: 'lab-secret-access-key-not-checked',
      AWS_SESSION_TOKEN: 'lab-session-token',
    };
  }

  /** Sets an alarm's state, as CloudWatch would on its metric (the gate alarms the shifter reads). */
  public setAlarm(name: string, state: StateValue, type: LabAlarm['type'] = 'MetricAlarm'): void {
    this.alarms.set(name, { name, type, state, reason: 'set by the lab', updatedAt: new Date() });
  }

  /**
   * A metric alarm CloudWatch evaluates: its state is read at each
   * DescribeAlarms (e.g. lab/elb/cloudwatch.ts's session-continuity alarm
   * over what the apps emit), and `StateUpdatedTimestamp` moves when it changes.
   */
  public addEvaluatedAlarm(name: string, evaluate: () => AlarmReading): void {
    const first = evaluate();
    this.alarms.set(name, { name, type: 'MetricAlarm', state: first.state, reason: first.reason, updatedAt: new Date(), evaluate });
  }

  /** An alarm's state now, as DescribeAlarms would report it. */
  public alarmState(name: string): { state: StateValue; reason: string } | undefined {
    const alarm = this.alarms.get(name);
    if (alarm) {
      this.refresh(alarm);
    }
    return alarm && { state: alarm.state, reason: alarm.reason };
  }

  /** A Lambda function the shifter's hook calls reach through Invoke, by its name (or the name in its ARN). */
  public addFunction(name: string, handler: LabFunctionHandler): void {
    this.functions.set(name, handler);
  }

  private refresh(alarm: LabAlarm): void {
    if (alarm.evaluate) {
      const reading = alarm.evaluate();
      if (reading.state !== alarm.state) {
        alarm.updatedAt = new Date();
      }
      alarm.state = reading.state;
      alarm.reason = reading.reason;
    }
  }

  public async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private usedGroups(): Set<string> {
    const arns = this.loadBalancer.usedTargetGroups();
    return new Set([...this.loadBalancer.targetGroupArns].filter(([, arn]) => arns.has(arn)).map(([name]) => name));
  }

  private async answer(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    // The SDK signs with the service's signing name: elasticloadbalancing or monitoring.
    const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? '')?.[1];
    if (service === 'monitoring') {
      return this.answerCloudWatch(req, body, res);
    }
    if (service === 'lambda') {
      return this.answerLambda(req, body, res);
    }
    const params = new URLSearchParams(body);
    const operation = params.get('Action') ?? '';
    const send = (status: number, xml: string) => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(xml);
    };
    try {
      if (service !== 'elasticloadbalancing') {
        throw new ApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
      }
      if (req.method !== 'POST' || !(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
        throw new ApiError('InvalidAction', 'ELBv2 takes form-encoded POST requests (awsQuery)');
      }
      if (params.get('Version') !== this.elbModel.metadata.apiVersion) {
        throw new ApiError('InvalidAction', `Version ${params.get('Version')} is not ${this.elbModel.metadata.apiVersion}`);
      }
      if (!(ELB_OPERATIONS as readonly string[]).includes(operation)) {
        throw this.elbModel.operations[operation]
          ? new ApiError('UnsupportedByLab', `${operation} is an ELBv2 operation the lab's endpoint does not answer; it answers ${ELB_OPERATIONS.join(', ')}`)
          : new ApiError('InvalidAction', `Could not find operation ${operation} for version ${this.elbModel.metadata.apiVersion}`);
      }
      const input = parseQueryInput(this.elbModel, operation, params);
      const output = await this.elbOperation(operation as (typeof ELB_OPERATIONS)[number], input);
      this.accepted.push({ service: 'elbv2', operation, input });
      send(200, queryResponse(this.elbModel, operation, output));
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError('InternalFailure', `the lab's endpoint failed: ${(e as Error).stack}`, 500, false);
      send(error.status, queryError(this.elbModel, error));
    }
  }

  private async elbOperation(operation: (typeof ELB_OPERATIONS)[number], input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const lb = this.loadBalancer;
    if (operation === 'DescribeTargetHealth') {
      return this.describeTargetHealth(input as unknown as DescribeTargetHealthInput);
    }
    const output = {
      CreateRule: () => lb.createRule(input as never),
      ModifyRule: () => lb.modifyRule(input as never),
      DeleteRule: () => lb.deleteRule(input as never),
      DescribeRules: () => lb.describeRules(input as never),
      DescribeTags: () => lb.describeTags(input as never),
      AddTags: () => lb.addTags(input as never),
      DescribeTargetGroups: () => lb.describeTargetGroups(input as never),
    }[operation]() as Record<string, unknown>;
    if (RULE_CHANGES.has(operation)) {
      // Traffic follows the change before the caller hears of it (on the ALB it propagates within moments).
      const rules = lb.routing();
      await this.haproxy.setRules(rules);
      this.ruleChanges.push({ at: Date.now(), rules });
      this.targets.used(this.usedGroups());
    }
    return output;
  }

  /** DescribeTargetHealth (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html). */
  private async describeTargetHealth(input: DescribeTargetHealthInput): Promise<Record<string, unknown>> {
    const group = [...this.loadBalancer.targetGroupArns].find(([, arn]) => arn === input.TargetGroupArn)?.[0];
    if (!group) {
      throw new ApiError('TargetGroupNotFound', `Target groups '${input.TargetGroupArn}' not found`);
    }
    const all = await this.targets.describe(group);
    if (!input.Targets) {
      return { TargetHealthDescriptions: all };
    }
    // A target asked for but not registered: `unused`, "Target.NotRegistered - The target is not registered with the target group".
    return {
      TargetHealthDescriptions: input.Targets.map((t) => all.find((d) => d.Target?.Id === t.Id)
        ?? { Target: { Id: t.Id, Port: t.Port }, TargetHealth: { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' } }),
    };
  }

  /**
   * Lambda's Invoke (REST JSON: `POST /2015-03-31/functions/{FunctionName}/invocations`),
   * as https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html has it:
   * the function by name, full ARN or partial ARN (`123456789012:function:name`),
   * with an optional version or alias (`:qualifier`, or `?Qualifier=`);
   * `X-Amz-Invocation-Type` `RequestResponse` (the default: the answer is the
   * function's return value, status 200, `X-Amz-Executed-Version`), `Event`
   * (202, run later, no payload) or `DryRun` (204); a payload of at most
   * 6 MB that must be JSON. A function that throws still answers 200: the
   * payload is the error as the Node.js runtime writes it (`errorType`,
   * `errorMessage`, `trace`) and `X-Amz-Function-Error: Unhandled`
   * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html).
   * An unknown function: 404 `ResourceNotFoundException`.
   */
  private async answerLambda(req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
    const fail = (status: number, type: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type });
      res.end(JSON.stringify({ Type: 'User', Message: message, message }));
    };
    const url = new URL(req.url ?? '/', 'http://lab');
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      return fail(404, 'UnknownOperationException', `${req.method} ${url.pathname}: the lab's endpoint answers Lambda's Invoke only`);
    }
    const id = decodeURIComponent(match[1]);
    // name, name:qualifier, 123456789012:function:name[:qualifier], arn:aws:lambda:region:123456789012:function:name[:qualifier]
    const parts = /^(?:(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:)?\d{12}:function:)?([A-Za-z0-9_-]{1,64})(?::([A-Za-z0-9$_-]{1,128}))?$/.exec(id);
    if (!parts) {
      return fail(400, 'ValidationException', `1 validation error detected: Value '${id}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern`);
    }
    const [, name, qualifier = url.searchParams.get('Qualifier') ?? '$LATEST'] = parts;
    const handler = this.functions.get(name);
    if (!handler) {
      return fail(404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${this.loadBalancer.region}:${this.loadBalancer.account}:function:${name}:${qualifier}`);
    }
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      return fail(400, 'InvalidParameterValueException', `Unsupported invocation type ${type}`);
    }
    if (Buffer.byteLength(body) > 6 * 1024 * 1024) {
      return fail(413, 'RequestTooLargeException', 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    }
    let event: unknown;
    try {
      event = body === '' ? {} : JSON.parse(body);
    } catch {
      return fail(400, 'InvalidRequestContentException', 'Could not parse request body into json');
    }
    this.accepted.push({ service: 'lambda', operation: 'Invoke', input: { FunctionName: id, InvocationType: type, Payload: body } });
    if (type === 'DryRun') {
      res.writeHead(204);
      return void res.end();
    }
    const run = async (): Promise<{ payload: unknown; functionError?: string }> => {
      try {
        return { payload: (await handler(event)) ?? null };
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        return { payload: { errorType: error.name, errorMessage: error.message, trace: (error.stack ?? '').split('\n') }, functionError: 'Unhandled' };
      }
    };
    if (type === 'Event') {
      res.writeHead(202);
      res.end();
      const { payload, functionError } = await run();
      this.invocations.push({ functionName: name, event, payload, functionError, at: Date.now() });
      return;
    }
    const { payload, functionError } = await run();
    this.invocations.push({ functionName: name, event, payload, functionError, at: Date.now() });
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-amz-executed-version': qualifier === '$LATEST' || /^\d+$/.test(qualifier) ? qualifier : '1',
      ...functionError ? { 'x-amz-function-error': functionError } : {},
    });
    res.end(JSON.stringify(payload));
  }

  /**
   * DescribeAlarms in AWS JSON 1.0 (awsQueryCompatible): by names (at most
   * 100), of the types asked ("If you omit this parameter, only metric alarms
   * are returned"), in pages of `MaxRecords` (1 to 100) with a `NextToken`.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
   */
  private answerCloudWatch(req: IncomingMessage, body: string, res: ServerResponse): void {
    const fail = (error: ApiError) => {
      const { headers, body: text } = jsonError(error);
      res.writeHead(error.status, { 'content-type': 'application/x-amz-json-1.0', ...headers });
      res.end(text);
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target !== `${CLOUDWATCH_TARGET}.DescribeAlarms`) {
      return fail(new ApiError(target.startsWith(CLOUDWATCH_TARGET) ? 'UnsupportedByLab' : 'UnknownOperationException',
        `${target}: the lab's endpoint answers CloudWatch's DescribeAlarms only`));
    }
    let input: DescribeAlarmsInput;
    try {
      input = JSON.parse(body || '{}') as DescribeAlarmsInput;
    } catch {
      return fail(new ApiError('SerializationException', 'The request body is not JSON'));
    }
    try {
      const names = input.AlarmNames;
      if (names && names.length > 100) {
        throw new ApiError('ValidationError', `AlarmNames: at most 100 names, got ${names.length}`);
      }
      if (names && input.AlarmNamePrefix !== undefined) {
        throw new ApiError('InvalidParameterCombination', 'AlarmNames and AlarmNamePrefix cannot be used together');
      }
      const max = input.MaxRecords ?? 50;
      if (!Number.isInteger(max) || max < 1 || max > 100) {
        throw new ApiError('ValidationError', `MaxRecords: must be from 1 to 100, got ${input.MaxRecords}`);
      }
      const types = input.AlarmTypes ?? ['MetricAlarm'];
      this.alarms.forEach((a) => this.refresh(a));
      const matching = [...this.alarms.values()].sort((a, b) => a.name.localeCompare(b.name)).filter((a) => types.includes(a.type)
        && (!names || names.includes(a.name))
        && (input.AlarmNamePrefix === undefined || a.name.startsWith(input.AlarmNamePrefix))
        && (input.StateValue === undefined || a.state === input.StateValue));
      let start = 0;
      if (input.NextToken !== undefined) {
        start = Number(Buffer.from(input.NextToken, 'base64url').toString());
        if (!Number.isInteger(start) || start <= 0 || start > matching.length) {
          throw new ApiError('InvalidNextToken', 'The next token specified is invalid.');
        }
      }
      const page = matching.slice(start, start + max);
      const arn = (name: string) => `arn:aws:cloudwatch:${this.loadBalancer.region}:${this.loadBalancer.account}:alarm:${name}`;
      const view = (a: LabAlarm) => ({ AlarmName: a.name, AlarmArn: arn(a.name), StateValue: a.state, StateReason: a.reason, StateUpdatedTimestamp: a.updatedAt });
      const output = {
        MetricAlarms: page.filter((a) => a.type === 'MetricAlarm').map((a): MetricAlarm => view(a)),
        CompositeAlarms: page.filter((a) => a.type === 'CompositeAlarm').map((a): CompositeAlarm => view(a)),
        NextToken: start + max < matching.length ? Buffer.from(String(start + max)).toString('base64url') : undefined,
      };
      this.accepted.push({ service: 'cloudwatch', operation: 'DescribeAlarms', input: input as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(jsonResponse(output));
    } catch (e) {
      fail(e instanceof ApiError ? e : new ApiError('InternalFailure', `the lab's endpoint failed: ${(e as Error).stack}`, 500, false));
    }
  }
}

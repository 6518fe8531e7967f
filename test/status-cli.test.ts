/**
 * `cdk-session-tier status` as a user runs it: the bundle the package ships
 * (built here by the package's own esbuild function), in a Node.js process
 * of its own whose output is not a terminal, against the lab's ELBv2 and
 * CloudWatch endpoint over HAProxy, while the real traffic shifter (its
 * shipped bundle's onEvent and isComplete) runs a release on the same
 * endpoint. A small CloudFormation endpoint in AWS's query protocol answers
 * the calls of `--stack`. Every request the command sent is checked
 * against AWS's service model of its operation.
 */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { Server, createServer } from 'http';
import { tmpdir } from 'os';
import { join } from 'path';
import { builtinModules } from 'module';
import * as esbuild from 'esbuild';
import { EXIT, run } from '../cli/main';
import { ElbEndpoint } from '../lab/elb/endpoint';
import { LoadBalancer } from '../lab/elb/load-balancer';
import { ApiError, parseQueryInput, queryError, queryResponse } from '../lab/elb/protocol';
import { Haproxy } from '../lab/haproxy';
import { FunctionError, LambdaFunction, trafficShifterBundle } from '../lab/lambda';
import { DEFAULT_SHIFT_RULE_PRIORITY } from '../lib/blue-green-routing/props';
import { SHIFT_PROPS } from '../lib/contract/traffic-shift';
import { bundleCacheDir } from '../lib/private/bundle-cache';
import { CLI_BUNDLE, cachedBundleWithEsbuild, sourceBundle } from '../lib/private/esbuild-bundle';
import { packageRoot } from '../lib/private/package-root';
import { Stickiness } from '../lib/stickiness';
import { loadModel, violations } from '../local/aws-model';
import { freePort, waitFor } from '../local/ports';

jest.setTimeout(120_000);

const CLOUDFORMATION_MODEL = '/usr/lib/python3/dist-packages/botocore/data/cloudformation/2010-05-15/service-2.json';
const SESSIONS_LOST = 'lab-stack-GreenSessionsLostA1B2C3-1XYZ';
const HTTP_5XX = 'lab-stack-GreenHttp5xxRateD4E5F6-2XYZ';

let dir: string;
let lb: LoadBalancer;
let haproxy: Haproxy;
let endpoint: ElbEndpoint;
let targets: Server[];
let cloudformation: Server;
let cli: string;
let onEvent: LambdaFunction;
let isComplete: LambdaFunction;
/** The requests the lab's CloudFormation endpoint accepted. */
const cfnAccepted: Array<{ operation: string; input: Record<string, unknown> }> = [];
/** The stack the CloudFormation endpoint describes: the traffic shift's physical id and status. */
const stack = { ruleArn: '', status: 'UPDATE_IN_PROGRESS' };

/** A target that answers with its own name. */
async function target(name: string): Promise<{ server: Server; port: number }> {
  const server = createServer((_, res) => res.end(name));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/**
 * CloudFormation's ListStackResources, DescribeStackResources, GetTemplate and ListExports in its query
 * protocol, read and answered from AWS's model (lab/elb/protocol.ts), for one
 * stack holding a traffic shift whose gate names one alarm by `Ref` and
 * one of another stack by `Fn::ImportValue`.
 */
async function startCloudFormation(): Promise<Server> {
  const model = loadModel('elbv2', CLOUDFORMATION_MODEL);
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const params = new URLSearchParams(body);
      const operation = params.get('Action') ?? '';
      const input = parseQueryInput(model, operation, params);
      const reply = (status: number, xml: string) => {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(xml);
      };
      if (operation !== 'ListExports' && input.StackName !== 'lab-stack' && input.StackName !== 'odd-stack') {
        return reply(400, queryError(model, new ApiError('ValidationError', `Stack with id ${String(input.StackName)} does not exist`)));
      }
      cfnAccepted.push({ operation, input });
      const resource = (LogicalResourceId: string, ResourceType: string, PhysicalResourceId: string, ResourceStatus = 'UPDATE_COMPLETE') => ({
        LogicalResourceId, PhysicalResourceId, ResourceType, ResourceStatus,
      });
      const resources = [
        resource('RoutingTrafficShift1A2B3C4D', 'Custom::BlueGreenTrafficShift', stack.ruleArn, stack.status),
        resource('GreenSessionsLostA1B2C3', 'AWS::CloudWatch::Alarm', SESSIONS_LOST),
        ...Array.from({ length: 120 }, (_, i) => resource(`Other${i}`, 'AWS::SSM::Parameter', `other-${i}`)),
      ];
      // ListStackResources in pages of 100 (AWS's own size is not documented), so that the command follows NextToken.
      if (operation === 'ListStackResources') {
        const start = Number(input.NextToken ?? 0);
        return reply(200, queryResponse(model, operation, {
          StackResourceSummaries: resources.slice(start, start + 100).map((r) => ({ ...r, LastUpdatedTimestamp: new Date() })),
          NextToken: start + 100 < resources.length ? String(start + 100) : undefined,
        }));
      }
      if (operation === 'ListExports') {
        return reply(200, queryResponse(model, operation, { Exports: [{ ExportingStackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/alarms-stack/2', Name: 'alarms-stack:Green5xxName', Value: HTTP_5XX }] }));
      }
      if (operation === 'DescribeStackResources') {
        return reply(200, queryResponse(model, operation, {
          StackResources: resources.filter((r) => r.LogicalResourceId === input.LogicalResourceId)
            .map((r) => ({ ...r, StackName: 'lab-stack', StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/lab-stack/1', Timestamp: new Date() })),
        }));
      }
      if (operation === 'GetTemplate') {
        const template = {
          Resources: {
            RoutingTrafficShift1A2B3C4D: {
              Type: 'Custom::BlueGreenTrafficShift',
              Properties: {
                [SHIFT_PROPS.ALARM_NAMES]: [
                  { Ref: 'GreenSessionsLostA1B2C3' }, { 'Fn::ImportValue': 'alarms-stack:Green5xxName' },
                  // In the other stack, an alarm name the command cannot resolve.
                  ...input.StackName === 'odd-stack' ? [{ 'Fn::Sub': '${AWS::StackName}-x' }] : [],
                ],
                [SHIFT_PROPS.MIN_HEALTHY_TARGETS]: '1',
              },
            },
          },
        };
        return reply(200, queryResponse(model, operation, { TemplateBody: JSON.stringify(template), StagesAvailable: ['Original', 'Processed'] }));
      }
      reply(400, queryError(model, new ApiError('UnsupportedByLab', `${operation}: the test's CloudFormation answers ListStackResources, DescribeStackResources, GetTemplate and ListExports`)));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** The environment of the command: the lab's endpoints, a region, dummy credentials, and no profile of this machine. */
function cliEnvironment(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    ...endpoint.environment(),
    AWS_ENDPOINT_URL_CLOUDFORMATION: `http://127.0.0.1:${(cloudformation.address() as { port: number }).port}`,
  };
}

/** The command, run to its end. */
async function status(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return statusWith({}, ...args);
}

/** {@link status} with changes to its environment (undefined: unset). */
async function statusWith(env: Record<string, string | undefined>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnStatus(args, env);
  const [code] = await once(child.process, 'exit');
  await child.closed;
  return { code, stdout: child.stdout(), stderr: child.stderr() };
}

/** The command, started: what it printed so far. */
function spawnStatus(args: readonly string[], env: Record<string, string | undefined> = {}): { process: ChildProcess; stdout: () => string; stderr: () => string; closed: Promise<unknown> } {
  const environment = Object.fromEntries(Object.entries({ ...cliEnvironment(), ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const child = spawn(process.execPath, [cli, 'status', ...args], { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  return { process: child, stdout: () => out, stderr: () => err, closed: Promise.all([once(child.stdout!, 'close'), once(child.stderr!, 'close')]) };
}

/** The traffic shift's properties, as BlueGreenRouting writes them: a canary to green, gated on two alarms, with test traffic. */
const props = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  [SHIFT_PROPS.LISTENER_ARN]: lb.listenerArn,
  [SHIFT_PROPS.BLUE_TARGET_GROUP_ARN]: lb.groupArn('blue'),
  [SHIFT_PROPS.GREEN_TARGET_GROUP_ARN]: lb.groupArn('green'),
  [SHIFT_PROPS.TARGET_COLOR]: 'green',
  [SHIFT_PROPS.PLAN]: 'canary:10:300',
  [SHIFT_PROPS.GROUP_STICKINESS_SECONDS]: '3600',
  [SHIFT_PROPS.MIN_HEALTHY_TARGETS]: '1',
  [SHIFT_PROPS.ALARM_NAMES]: [SESSIONS_LOST, HTTP_5XX],
  [SHIFT_PROPS.RULE_PRIORITY]: String(DEFAULT_SHIFT_RULE_PRIORITY),
  [SHIFT_PROPS.BAKE_SECONDS]: '0',
  [SHIFT_PROPS.TEST_HEADER_NAME]: 'X-Release-Test',
  [SHIFT_PROPS.TEST_HEADER_VALUE]: 'yes',
  [SHIFT_PROPS.TEST_COOKIE_NAME]: 'release-test',
  [SHIFT_PROPS.TEST_COOKIE_VALUE]: '1',
  [SHIFT_PROPS.TEST_RULE_PRIORITY]: '49990',
  ...over,
});

/** The shifter's polls until the rule's weights tag reads `weights` (green's targets pass their first checks meanwhile). */
async function pollUntil(event: Record<string, unknown>, weights: string): Promise<void> {
  await waitFor(`the shifter's rule at ${weights}`, async () => {
    await isComplete.invoke(event);
    const tagged = (await status('--rule-arn', stack.ruleArn, '--once', '--json')).stdout;
    const view = JSON.parse(tagged) as { weights: { blue: number; green: number } };
    return `blue=${view.weights.blue}/green=${view.weights.green}` === weights;
  }, 30_000);
}

const ALARMS = ['--alarm', SESSIONS_LOST, '--alarm', HTTP_5XX, '--min-healthy', '1'];
/** Where the README's captured output is written, when asked: `STATUS_CLI_CAPTURE=/tmp/status.txt npx jest test/status-cli.test.ts`. */
const captured: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'status-cli-'));
  cli = join(dir, 'cli', CLI_BUNDLE.fileName);
  mkdirSync(join(dir, 'cli'));
  mkdirSync(join(dir, 'shifter'));
  cachedBundleWithEsbuild(sourceBundle(CLI_BUNDLE), cli, bundleCacheDir(packageRoot()));
  lb = new LoadBalancer({ targetGroups: ['blue', 'green'], defaultAction: { targets: [{ group: 'blue', weight: 1 }], stickySeconds: 0 } });
  haproxy = await Haproxy.start({
    port: await freePort(), dir, rules: lb.routing(), checkIntervalMs: 200,
    backends: { blue: { slots: 2, stickiness: Stickiness.none() }, green: { slots: 2, stickiness: Stickiness.none() } },
  });
  endpoint = await ElbEndpoint.start(lb, haproxy, { deregistrationDelayMs: 500 });
  cloudformation = await startCloudFormation();
  const servers = await Promise.all(['blue-1', 'green-1', 'green-2'].map(target));
  targets = servers.map((s) => s.server);
  await endpoint.targets.register('blue', 'blue-1', servers[0].port);
  await endpoint.targets.register('green', 'green-1', servers[1].port);
  await endpoint.targets.register('green', 'green-2', servers[2].port);
  endpoint.setAlarm(SESSIONS_LOST, 'OK');
  endpoint.setAlarm(HTTP_5XX, 'OK');
  const bundle = trafficShifterBundle(join(dir, 'shifter'));
  const fn = (handler: string) => new LambdaFunction({ name: `status-${handler}`, bundle, handler, environment: endpoint.environment() });
  onEvent = fn('onEvent');
  isComplete = fn('isComplete');
});

afterAll(async () => {
  await onEvent?.stop();
  await isComplete?.stop();
  cloudformation?.close();
  await endpoint?.stop();
  await haproxy?.stop();
  targets?.forEach((t) => t.close());
  if (process.env.STATUS_CLI_CAPTURE) {
    writeFileSync(process.env.STATUS_CLI_CAPTURE, captured.join('\n\n'));
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a release through the real shifter, step by step', () => {
  let created: { PhysicalResourceId: string; Data: Record<string, unknown> };
  const createEvent = () => ({ RequestType: 'Create', PhysicalResourceId: created.PhysicalResourceId, ResourceProperties: props(), Data: created.Data });

  beforeAll(async () => {
    created = await onEvent.invoke({ RequestType: 'Create', ResourceProperties: props() }) as typeof created;
    stack.ruleArn = created.PhysicalResourceId;
  });

  test('before the first step: the plan, blue 100 / green 0, the test rules already forwarding to green, outcome shifting', async () => {
    const run = await status('--rule-arn', stack.ruleArn, '--once', ...ALARMS);
    expect(run).toMatchObject({ code: EXIT.DONE, stderr: '' });
    expect(run.stdout).toMatch(/^plan {9}canary:10:300: green 10 % -> 100 %, 5m00s between steps; bake none; hooks no$/m);
    expect(run.stdout).toMatch(/^progress {5}step 0 of 2: green at 0 %$/m);
    expect(run.stdout).toMatch(/^weights {6}blue 100 \/ green 0, group stickiness 1h00m$/m);
    expect(run.stdout).toMatch(/^next {9}step to green 10 % at the shifter's next poll, once the gates pass$/m);
    expect(run.stdout).toMatch(/^test traffic header rule \(priority 49990\): X-Release-Test: yes -> green$/m);
    expect(run.stdout).toMatch(/^test traffic cookie rule \(priority 49991\): Cookie: \*release-test=1\* -> green$/m);
    expect(run.stdout).toMatch(/^outcome {6}shifting$/m);
  });

  test('after the canary step: step 1 of 2, 90/10, the time to the next step, each gate with what it reads', async () => {
    await pollUntil(createEvent(), 'blue=90/green=10');
    // One green instance fails: its checks fail, it turns unhealthy; the other keeps the health gate passing.
    targets[2].close();
    targets[2].closeAllConnections();
    await waitFor('green-2 unhealthy', async () => (await status('--rule-arn', stack.ruleArn, '--once', ...ALARMS)).stdout.includes('1 unhealthy'));
    const run = await status('--rule-arn', stack.ruleArn, '--once', ...ALARMS);
    expect(run).toMatchObject({ code: EXIT.DONE, stderr: '' });
    expect(run.stdout).toMatch(/^progress {5}step 1 of 2: green at 10 %$/m);
    expect(run.stdout).toMatch(/^weights {6}blue 90 \/ green 10, group stickiness 1h00m$/m);
    // 300 s after the step, less the time since.
    const next = /^next {9}step to green 100 % in (\d)m(\d\d)s, once the gates pass$/m.exec(run.stdout);
    expect(next).not.toBeNull();
    expect(Number(next![1]) * 60 + Number(next![2])).toBeGreaterThan(240);
    expect(run.stdout).toMatch(/^gates \(on green, at least 1 healthy target\)$/m);
    expect(run.stdout).toMatch(/^ {2}blue {7}1\/1 healthy$/m);
    expect(run.stdout).toMatch(/^ {2}green {6}1\/2 healthy \(1 unhealthy\); unhealthy: Target\.FailedHealthChecks$/m);
    expect(run.stdout).toContain(`  alarm      ${SESSIONS_LOST}: OK (sessions lost)\n  alarm      ${HTTP_5XX}: OK\n  verdict    pass`);
    expect(run.stdout).toMatch(/^outcome {6}shifting$/m);

    const json = JSON.parse((await status('--rule-arn', stack.ruleArn, '--once', '--json', ...ALARMS)).stdout);
    expect(json).toMatchObject({
      release: { target: 'green', plan: 'canary:10:300', steps: [10, 100], secondsBetweenSteps: 300 },
      progress: { step: 1, of: 2, share: 10 }, weights: { blue: 90, green: 10 }, next: { action: 'wait' },
      gates: { color: 'green', minHealthyTargets: 1, health: { green: { healthy: 1, total: 2, states: { healthy: 1, unhealthy: 1 } } }, verdict: { verdict: 'pass' } },
      outcome: 'shifting', ended: false,
    });
    expect(json.gates.alarms).toEqual([
      { name: SESSIONS_LOST, state: 'OK', reason: 'set by the lab', sessionsLost: true },
      { name: HTTP_5XX, state: 'OK', reason: 'set by the lab', sessionsLost: false },
    ]);
  });

  test('--listener-arn finds the rule the shifter tagged; --stack finds it as the traffic shift\'s physical id, with the gate from its properties', async () => {
    const byListener = await status('--listener-arn', lb.listenerArn, '--once');
    expect(byListener.code).toBe(EXIT.DONE);
    expect(byListener.stdout).toMatch(new RegExp(`^rule {9}${stack.ruleArn}$`, 'm'));
    // Without a gate given, the alarms are not known.
    expect(byListener.stdout).toMatch(/^ {2}alarms {5}none$/m);
    expect(byListener.stdout).toMatch(/^ {2}note {7}healthy targets a step needs: not known/m);

    const byStack = await status('--stack', 'lab-stack', '--once');
    captured.push(`$ npx cdk-session-tier status --stack lab-stack --once\n${byStack.stdout.trimEnd()}`);
    expect(byStack).toMatchObject({ code: EXIT.DONE, stderr: '' });
    expect(byStack.stdout).toMatch(/^stack {8}lab-stack, RoutingTrafficShift1A2B3C4D: UPDATE_IN_PROGRESS$/m);
    expect(byStack.stdout).toContain(`  alarm      ${SESSIONS_LOST}: OK (sessions lost)\n  alarm      ${HTTP_5XX}: OK\n`);
    expect(byStack.stdout).toMatch(/^gates \(on green, at least 1 healthy target\)$/m);
    expect(byStack.stdout).not.toMatch(/^ {2}note/m);
    expect(cfnAccepted.map((r) => r.operation)).toEqual(['ListStackResources', 'ListStackResources', 'GetTemplate', 'ListExports', 'DescribeStackResources']);
    // What the command cannot resolve, it says, rather than leave the gate out unseen.
    const odd = await status('--stack', 'odd-stack', '--once');
    expect(odd.stdout).toMatch(/^ {2}note {7}AlarmNames\[2\]: \{"Fn::Sub":"\$\{AWS::StackName\}-x"\} is not a value, a Ref the stack resolves or an export of the region; not shown$/m);
  });

  test('watching, not on a terminal: a summary now, another when a gate fails and the shifter cuts green off, then exit 3', async () => {
    const watch = spawnStatus(['--stack', 'lab-stack', '--interval', '1']);
    await waitFor('the first summary', async () => watch.stdout().includes('outcome      shifting'));
    endpoint.setAlarm(SESSIONS_LOST, 'ALARM');
    await expect(isComplete.invoke(createEvent())).rejects.toThrow(FunctionError);
    const [code] = await once(watch.process, 'exit');
    await watch.closed;
    const summaries = watch.stdout().trimEnd().split('\n\n');
    const last = summaries[summaries.length - 1];
    captured.push(`$ npx cdk-session-tier status --stack lab-stack | cat     # not a terminal: a summary at each change\n${watch.stdout().trimEnd()}`);
    expect({ code, stderr: watch.stderr() }).toEqual({ code: EXIT.CUT_OFF, stderr: '' });
    // The first before the alarm; maybe one with the alarm on before the shifter's poll; the last after the cut.
    expect(summaries.length === 2 || summaries.length === 3).toBe(true);
    expect(summaries[0]).toMatch(/^outcome {6}shifting$/m);
    expect(summaries[0]).toMatch(/^stack {8}lab-stack, RoutingTrafficShift1A2B3C4D: UPDATE_IN_PROGRESS$/m);
    expect(last).toMatch(/^weights {6}blue 100 \/ green 0, green cut off \(no group stickiness\)$/m);
    expect(last).toContain(`  alarm      ${SESSIONS_LOST}: ALARM (sessions lost)`);
    expect(last).toMatch(new RegExp(`^ {2}verdict {4}fail: alarm gate failed: ${SESSIONS_LOST} in ALARM$`, 'm'));
    expect(last).toMatch(/^next {9}nothing: green failed a gate and was cut off; every user is on blue until a deploy shifts to green again$/m);
    expect(last).toMatch(/^outcome {6}cut off$/m);
  });

  test('on a terminal: the screen redrawn at each read until the release ends; the next deploy shifts all at once', async () => {
    endpoint.setAlarm(SESSIONS_LOST, 'OK');
    const next = props({ [SHIFT_PROPS.PLAN]: 'all-at-once' });
    const updated = await onEvent.invoke({ RequestType: 'Update', PhysicalResourceId: stack.ruleArn, ResourceProperties: next, OldResourceProperties: props() }) as typeof created;
    let out = '';
    let sleeps = 0;
    const saved = { ...process.env };
    Object.assign(process.env, cliEnvironment(), { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
    try {
      const code = await run(['status', '--rule-arn', stack.ruleArn, '--interval', '1', ...ALARMS], {
        write: (text) => (out += text),
        error: (text) => (out += text),
        isTty: true,
        now: () => Date.now(),
        // Between two reads, the shifter's polls take the release to its end.
        sleep: async () => {
          sleeps++;
          await waitFor('the release done', async () => ((await isComplete.invoke({
            RequestType: 'Update', PhysicalResourceId: stack.ruleArn, ResourceProperties: next, OldResourceProperties: props(), Data: updated.Data,
          })) as { IsComplete: boolean }).IsComplete);
        },
      });
      expect(code).toBe(EXIT.DONE);
    } finally {
      process.env = saved;
    }
    const frames = out.split('\x1b[H\x1b[2J');
    expect({ before: frames[0], frames: frames.length - 1, sleeps }).toEqual({ before: '', frames: 2, sleeps: 1 });
    expect(frames[1]).toMatch(/^next {9}step to green 100 % at the shifter's next poll, once the gates pass$/m);
    expect(frames[1]).toMatch(/\n\nrefreshing every 1 s; Ctrl-C to stop\n$/);
    expect(frames[2]).toMatch(/^outcome {6}done\n$/m);
  });

  test('a release done: done, and a watch exits at once with 0', async () => {
    const run = await status('--rule-arn', stack.ruleArn, '--interval', '1', ...ALARMS);
    expect(run).toMatchObject({ code: EXIT.DONE, stderr: '' });
    expect(run.stdout).toMatch(/^progress {5}step 1 of 1: green at 100 %$/m);
    expect(run.stdout).toMatch(/^weights {6}blue 0 \/ green 100, group stickiness 1h00m$/m);
    expect(run.stdout).toMatch(/^next {9}nothing: every user is on green$/m);
    expect(run.stdout).toMatch(/^outcome {6}done$/m);
    expect(run.stdout.split('\n\n')).toHaveLength(1);
  });

  test('every request the command sent passes AWS\'s service model of its operation', () => {
    const models = { elbv2: loadModel('elbv2'), cloudwatch: loadModel('cloudwatch'), cloudformation: loadModel('elbv2', CLOUDFORMATION_MODEL), lambda: loadModel('lambda') };
    const sent = [...endpoint.accepted, ...cfnAccepted.map((r) => ({ ...r, service: 'cloudformation' as const }))];
    // The command's reads among the shifter's calls.
    expect([...new Set(sent.map((r) => r.operation))]).toEqual(expect.arrayContaining([
      'DescribeRules', 'DescribeTags', 'DescribeTargetHealth', 'DescribeAlarms', 'ListStackResources', 'GetTemplate', 'ListExports', 'DescribeStackResources',
    ]));
    expect(sent.flatMap((r) => violations(models[r.service], r.operation, r.input).map((v) => `${r.operation}: ${v}`))).toEqual([]);
  });
});

describe('errors', () => {
  test('a rule that does not exist: exit 1, naming the rule and the call that failed', async () => {
    const missing = `${lb.listenerArn.replace(':listener/', ':listener-rule/')}/0000000000000000`;
    const run = await status('--rule-arn', missing, '--once');
    expect(run.code).toBe(EXIT.AWS_ERROR);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`cdk-session-tier: rule ${missing} not found: check the ARN and the region (the traffic shift's RuleArn attribute, or use --stack) `
      + `(DescribeRules for rule ${missing}: RuleNotFoundException: One or more rules not found: '${missing}')\n`);
  });

  test('a stack that does not exist: exit 1, with CloudFormation\'s message', async () => {
    const run = await status('--stack', 'no-such-stack', '--once');
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: EXIT.AWS_ERROR, stderr: 'cdk-session-tier: ListStackResources for stack no-such-stack failed: ValidationError: Stack with id no-such-stack does not exist\n',
    });
  });

  test('no region or no credentials: exit 1, with what to set', async () => {
    const noRegion = await statusWith({ AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }, '--stack', 'lab-stack', '--once');
    expect({ code: noRegion.code, stderr: noRegion.stderr }).toEqual({
      code: EXIT.AWS_ERROR, stderr: 'cdk-session-tier: ListStackResources for stack lab-stack failed: Error: Region is missing; pass --region or set AWS_REGION\n',
    });
    // No instance role either, should this machine have one.
    const noCredentials = await statusWith({
      AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_EC2_METADATA_DISABLED: 'true',
    }, '--stack', 'lab-stack', '--once');
    expect(noCredentials.code).toBe(EXIT.AWS_ERROR);
    expect(noCredentials.stderr).toMatch(/^cdk-session-tier: ListStackResources for stack lab-stack failed: CredentialsProviderError: .*; set AWS_PROFILE or AWS credentials \(the SDK's usual chain\)\n$/);
  });

  test('usage errors: exit 2, what is wrong, then the usage', async () => {
    const cases: Array<[string[], string]> = [
      [[], 'which release: give --rule-arn, --listener-arn or --stack'],
      [['--rule-arn', 'nope'], '--rule-arn: must be an ELBv2 listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/...), got "nope"'],
      [['--stack', 's', '--listener-arn', lb.listenerArn], 'which release: give one of --listener-arn, --stack, not several'],
      [['--stack', 's', '--interval', '0'], '--interval: must be a number of seconds from 1 to 3600, got "0"'],
      [['--stack', 's', '--alarm', 'a'], '--alarm and --min-healthy: not with --stack, which reads them from the traffic shift\'s properties'],
      [['--stack', 's', '--verbose'], 'unknown argument "--verbose"'],
    ];
    for (const [args, message] of cases) {
      const run = await status(...args);
      expect({ code: run.code, first: run.stderr.split('\n')[0], stdout: run.stdout }).toEqual({ code: EXIT.USAGE, first: `cdk-session-tier: ${message}`, stdout: '' });
      expect(run.stderr).toContain('Usage: cdk-session-tier status');
    }
  });
});

/**
 * The modules a bundle loads at run time, as esbuild parses it: every
 * `require()` and `import` of code (not of text that only mentions one).
 */
function importsOf(file: string): string[] {
  const result = esbuild.buildSync({ entryPoints: [file], bundle: true, write: false, metafile: true, platform: 'node', format: 'cjs', external: ['*'], logLevel: 'silent' });
  return [...new Set(Object.values(result.metafile.inputs).flatMap((input) => input.imports.map((i) => i.path)))].sort();
}

/** The imports of a bundle that are not Node.js's own modules. */
function notBuiltin(file: string): string[] {
  return importsOf(file).filter((m) => !m.startsWith('node:') && !builtinModules.includes(m));
}

test('the command\'s bundle loads nothing but Node.js\'s own modules: it runs from the installed package with no dependency', () => {
  expect(importsOf(cli).length).toBeGreaterThan(5);
  expect(notBuiltin(cli)).toEqual([]);
  expect(readFileSync(cli, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  // The check catches a bundle that needs a package, and not a string that names one.
  const broken = join(dir, 'broken.js');
  writeFileSync(broken, 'const pad = require("left-pad"); const fs = require("fs"); const t = `require("@aws-sdk/signature-v4-crt")`; module.exports = { pad, fs, t };');
  expect(notBuiltin(broken)).toEqual(['left-pad']);
});

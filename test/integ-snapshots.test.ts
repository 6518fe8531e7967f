/**
 * The integration tests (test/integ.*.ts) offline: their committed snapshots
 * match what they synthesize (integ-runner's check without a deploy, see
 * test/helpers/integ-snapshots.ts), the check reports a drift readably, the
 * stacks under test pass cdk-nag, and the assertion that a session survives
 * the shift rejects a lost session, run with integ-tests' own matcher against
 * the real sample app.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib/core';
import * as sns from 'aws-cdk-lib/aws-sns';
import { checkWithNag } from './helpers/integ-app';
import {
  integTestFiles, refreshCommand, snapshotDirOf, snapshotDrift, synthAll, writeSnapshot,
} from './helpers/integ-snapshots';
import { RunningApp, startApp } from './sample-app/helpers';

// integ-tests' matcher runs in its Lambda handler, whose base module imports the Step Functions
// client for waiting; the matching never calls it, and the package is not installed here.
jest.mock('@aws-sdk/client-sfn', () => ({ SFN: class {} }), { virtual: true });

type Json = Record<string, unknown>;
const readJson = (file: string): Json => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
const resources = (template: Json) => template.Resources as Record<string, { Type: string; Properties: Json }>;

const files = integTestFiles();
const memoryTest = files.find((f) => f.endsWith('integ.blue-memory.ts'))!;
const redisTest = files.find((f) => f.endsWith('integ.blue-green-redis.ts'))!;
let synthesized = new Map<string, string>();
const scratch: string[] = [];

beforeAll(async () => {
  synthesized = await synthAll(files);
}, 300_000);

afterAll(() => {
  for (const dir of [...synthesized.values(), ...scratch]) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A copy of the synthesized blue-memory assembly to change. */
function copyOfMemoryAssembly(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-drift-'));
  scratch.push(dir);
  fs.cpSync(synthesized.get(memoryTest)!, dir, { recursive: true });
  return dir;
}

test('the demo\'s two main variants have integration tests, each with a committed snapshot', () => {
  expect(files.map((f) => path.basename(f))).toEqual(['integ.blue-green-redis.ts', 'integ.blue-memory.ts']);
  for (const file of files) {
    expect(fs.existsSync(path.join(snapshotDirOf(file), 'integ.json'))).toBe(true);
  }
});

test.each(files.map((f) => [path.basename(f), f]))('%s synthesizes to its committed snapshot', (_name, file) => {
  const drift = snapshotDrift(file, snapshotDirOf(file), synthesized.get(file)!);
  if (drift !== '') {
    throw new Error(drift);
  }
});

describe('the snapshot check', () => {
  test('reports a changed construct by resource and property, before and after, with the refresh command', () => {
    const dir = copyOfMemoryAssembly();
    const file = path.join(dir, 'SessionTierIntegBlueMemory.template.json');
    const template = readJson(file);
    // What a change of the fleet's Stickiness to 12 hours does to the template, an output removed, a resource added.
    const [groupId, group] = Object.entries(resources(template)).find(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup')!;
    const attributes = group.Properties.TargetGroupAttributes as Array<{ Key: string; Value: string }>;
    const duration = attributes.findIndex((a) => a.Key === 'stickiness.lb_cookie.duration_seconds');
    attributes[duration].Value = '43200';
    delete (template.Outputs as Json).Url;
    resources(template).Extra = { Type: 'AWS::SNS::Topic', Properties: {} };
    fs.writeFileSync(file, JSON.stringify(template));

    const drift = snapshotDrift(memoryTest, snapshotDirOf(memoryTest), dir);
    expect(drift.split('\n')).toEqual(expect.arrayContaining([
      'integ.blue-memory: the synthesized stacks differ from the snapshot test/integ.blue-memory.ts.snapshot',
      'SessionTierIntegBlueMemory:',
      `  [~] AWS::ElasticLoadBalancingV2::TargetGroup ${groupId}`,
      `      Properties.TargetGroupAttributes[${duration}].Value: "86400" -> "43200"`,
      '  [-] Output Url',
      '  [+] AWS::SNS::Topic Extra',
      'If the change is intended, refresh the snapshot: npm run integ:snapshot -- integ.blue-memory.ts',
    ]));
  });

  test('ignores asset hashes, as integ-runner does unless told to diff assets', () => {
    const dir = copyOfMemoryAssembly();
    const file = path.join(dir, 'SessionTierIntegBlueMemory.template.json');
    const text = fs.readFileSync(file, 'utf8');
    const hash = /[0-9a-f]{64}/.exec(text)![0];
    fs.writeFileSync(file, text.split(hash).join('f'.repeat(64)));
    expect(snapshotDrift(memoryTest, snapshotDirOf(memoryTest), dir)).toBe('');
  });

  test('reports a stack the snapshot lacks and one the app no longer has, and compares no assertion stack', () => {
    const dir = copyOfMemoryAssembly();
    const integFile = path.join(dir, 'integ.json');
    const manifest = readJson(integFile) as { testCases: Record<string, { stacks: string[] }> };
    const testCase = Object.values(manifest.testCases)[0];
    testCase.stacks = ['SessionTierIntegBlueMemoryAssertions'];
    fs.writeFileSync(integFile, JSON.stringify(manifest));
    expect(snapshotDrift(memoryTest, snapshotDirOf(memoryTest), dir).split('\n')).toEqual(expect.arrayContaining([
      'SessionTierIntegBlueMemory: in the snapshot, but the app no longer has it',
      'SessionTierIntegBlueMemoryAssertions: new, not in the snapshot',
    ]));
    // The assertion stack's own template is not compared (its calls are salted with the time of synth).
    testCase.stacks = ['SessionTierIntegBlueMemory'];
    fs.writeFileSync(integFile, JSON.stringify(manifest));
    fs.writeFileSync(path.join(dir, 'SessionTierIntegBlueMemoryAssertions.template.json'), '{}');
    expect(snapshotDrift(memoryTest, snapshotDirOf(memoryTest), dir)).toBe('');
  });

  test('a missing snapshot says how to create it', () => {
    expect(snapshotDrift(memoryTest, path.join(os.tmpdir(), 'no-such-snapshot'), synthesized.get(memoryTest)!))
      .toBe(`integ.blue-memory: no snapshot at ${path.relative(process.cwd(), path.join(os.tmpdir(), 'no-such-snapshot'))}; create it with: ${refreshCommand(memoryTest)}`);
  });

  test('a written snapshot holds templates but no assets, no stack traces, and passes the check', () => {
    const target = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-written-'));
    scratch.push(target);
    writeSnapshot(synthesized.get(memoryTest)!, target);
    const entries = fs.readdirSync(target);
    expect(entries).toEqual(expect.arrayContaining(['integ.json', 'manifest.json', 'SessionTierIntegBlueMemory.template.json']));
    expect(entries.filter((e) => e.startsWith('asset.') || e === 'validation-report.json')).toEqual([]);
    expect(entries.filter((e) => e.endsWith('.metadata.json')).map((e) => fs.readFileSync(path.join(target, e), 'utf8')).join('')).not.toContain(process.cwd());
    expect(snapshotDrift(memoryTest, target, synthesized.get(memoryTest)!)).toBe('');
  });
});

test('cdk-nag\'s AwsSolutions checks run over the stacks under test: an unacknowledged finding fails the synth', () => {
  const app = new App();
  const stack = new Stack(app, 'Open');
  new sns.Topic(stack, 'Topic');
  checkWithNag(app, [stack]);
  expect(() => app.synth()).toThrow(/ERROR The SNS Topic does not require publishers to use SSL\.[^\n]*\n\s+Open\/Topic\/Resource/);
});

/**
 * Resolves the intrinsics the integ templates use (Fn::Join, Fn::Select,
 * Fn::Split, Fn::GetAtt and Fn::GetStackOutput) with the values a deploy
 * would give, so the test can replay what CloudFormation would pass.
 */
function resolve(value: unknown, outputs: (name: string) => string): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolve(v, outputs));
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const v = value as Json;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolve(p, outputs)).join(sep);
  }
  if ('Fn::Select' in v) {
    const [index, list] = v['Fn::Select'] as [number, unknown];
    return (resolve(list, outputs) as string[])[index];
  }
  if ('Fn::Split' in v) {
    const [sep, text] = v['Fn::Split'] as [string, unknown];
    return (resolve(text, outputs) as string).split(sep);
  }
  if ('Fn::GetStackOutput' in v) {
    return outputs((v['Fn::GetStackOutput'] as { OutputName: string }).OutputName);
  }
  if ('Fn::GetAtt' in v) {
    return outputs((v['Fn::GetAtt'] as string[]).join('.'));
  }
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, outputs)]));
}

describe('the session-survives-the-shift assertion, replayed against the real app', () => {
  const snapshot = snapshotDirOf(redisTest);
  const probe = resources(readJson(path.join(snapshot, 'SessionTierIntegBlueGreenRedis.template.json'))).SessionBeforeShiftLogin.Properties;
  const check = Object.values(resources(readJson(path.join(snapshot, 'SessionTierIntegBlueGreenRedisAssertions.template.json'))))
    .find((r) => r.Type === 'Custom::DeployAssert@HttpCall' && JSON.stringify(r.Properties.parameters).includes('cookie'))!.Properties;
  let blue: RunningApp;
  const running: RunningApp[] = [];

  beforeAll(async () => {
    // integ-tests' matcher logs what it compares; the mismatch is asserted below.
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    // Blue and green share the cookie sealing key, as SessionTier's colors do.
    blue = await startApp({ SESSION_STRATEGY: 'cookie', SESSION_APP_COLOR: 'blue', SESSION_APP_VERSION: 'v1' });
    running.push(blue);
  });
  afterAll(async () => {
    await Promise.all(running.map((r) => r.close()));
  });

  /** The probe's login on blue, then the assertion's request on a green with `strategy`, judged by integ-tests' matcher. */
  async function replay(strategy: string): Promise<{ failed?: boolean; assertion: string }> {
    const green = await startApp({ SESSION_STRATEGY: strategy, SESSION_APP_COLOR: 'green', SESSION_APP_VERSION: 'v2' });
    running.push(green);
    const hostOf = (url: string) => (name: string) => (name.includes('DNSName') ? url.replace('http://', '') : '');
    const login = resolve(probe.parameters, hostOf(blue.url)) as { url: string; fetchOptions: RequestInit };
    const loggedIn = await fetch(login.url, login.fetchOptions);
    const made = await loggedIn.json() as { createdAt: string };
    const outputs = (name: string) => (name.includes('setcookie') ? loggedIn.headers.getSetCookie()[0]
      : name.includes('createdAt') ? made.createdAt : hostOf(green.url)(name));
    const request = resolve(check.parameters, outputs) as { url: string; fetchOptions: RequestInit };
    const answer = await fetch(request.url, request.fetchOptions);
    // What integ-tests' HTTP handler hands the matcher: status and the parsed body.
    const actual = { status: answer.status, body: await answer.json() };
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { AssertionHandler } = require('@aws-cdk/integ-tests-alpha/lib/assertions/providers/lambda-handler/assertion');
    const handler = new AssertionHandler({ RequestType: 'Create', ResourceProperties: {}, LogicalResourceId: 'Check' }, { getRemainingTimeInMillis: () => 60_000 });
    clearTimeout(handler.timeout);
    return handler.processEvent({ actual, expected: resolve(check.expected, outputs) });
  }

  test('passes when green reads the session blue made (a shared store)', async () => {
    const result = await replay('cookie');
    expect(JSON.parse(result.assertion)).toEqual({ status: 'success' });
    expect(result.failed).toBeUndefined();
  });

  test('fails when the session is lost (green keeps sessions in memory): the app answers with a new one', async () => {
    const result = await replay('memory');
    expect(result.failed).toBe(true);
    // The mismatch as integ-runner would print it: a new session, not the user's.
    const message = JSON.parse(result.assertion).message as string;
    expect(message).toMatch(/Expected type string but received object\s+"user": null/);
    expect(message).toMatch(/Expected \S+Z but received \S+Z\s+"createdAt"/);
  });
});

/**
 * The lab's CloudFormation driver and provider framework, against a small
 * handler bundle whose behaviour each test sets through the resource's
 * properties: the requests CloudFormation sends in each documented case, and
 * what the provider framework answers, each as the docs and the framework's
 * runtime say.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { CustomResourceStack, Provider } from '../../lab/cloudformation';
import { LambdaFunction } from '../../lab/lambda';

jest.setTimeout(60_000);

/** A handler that records each call and does what the properties say: fail, poll n times, sleep, or name its physical id. */
const HANDLER = `
const fs = require('fs');
const record = (entry) => fs.appendFileSync(process.env.CALLS, JSON.stringify(entry) + '\\n');
const polls = {};
exports.onEvent = async (event) => {
  const p = event.ResourceProperties;
  record({ fn: 'onEvent', type: event.RequestType, physical: event.PhysicalResourceId, name: p.Name, old: event.OldResourceProperties && event.OldResourceProperties.Name });
  if (p.FailOnEvent === event.RequestType) { throw new Error('onEvent failed'); }
  return event.RequestType === 'Delete' ? {} : { PhysicalResourceId: p.Name, Data: { FromOnEvent: 'yes' } };
};
exports.isComplete = async (event) => {
  const p = event.ResourceProperties;
  const n = polls[event.RequestId] = (polls[event.RequestId] || 0) + 1;
  record({ fn: 'isComplete', type: event.RequestType, physical: event.PhysicalResourceId, n, data: event.Data });
  if (p.FailIsComplete === event.RequestType) { throw new Error('isComplete failed'); }
  if (p.Sleep) { await new Promise((r) => setTimeout(r, Number(p.Sleep))); }
  return n >= Number(p.Polls || 1) ? { IsComplete: true, Data: { Polls: String(n) } } : { IsComplete: false };
};
`;

let dir: string;
let calls: string;
let functions: LambdaFunction[];
let stack: CustomResourceStack;

/** The calls the handler recorded since the last look. */
function recorded(): Array<Record<string, unknown>> {
  const lines = readFileSync(calls, 'utf8').split('\n').filter((l) => l !== '');
  writeFileSync(calls, '');
  return lines.map((l) => JSON.parse(l));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cfn-driver-'));
  calls = join(dir, 'calls.jsonl');
  writeFileSync(calls, '');
  const bundle = join(dir, 'index.js');
  writeFileSync(bundle, HANDLER);
  const fn = (handler: string) => new LambdaFunction({ name: `test-${handler}`, bundle, handler, environment: { CALLS: calls }, timeoutMs: 2000 });
  functions = [fn('onEvent'), fn('isComplete')];
  stack = new CustomResourceStack(new Provider(functions[0], functions[1], { queryIntervalMs: 50, totalTimeoutMs: 500 }), 'arn:aws:lambda:eu-west-1:123456789012:function:framework');
});

afterEach(async () => {
  await Promise.all(functions.map((f) => f.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test('Create: onEvent once, then isComplete at once and every queryInterval until it is complete; the attributes of both', async () => {
  const op = await stack.create({ Name: 'rule-1', Polls: '3' });
  expect(op.status).toBe('CREATE_COMPLETE');
  expect(recorded()).toEqual([
    { fn: 'onEvent', type: 'Create', name: 'rule-1' },
    { fn: 'isComplete', type: 'Create', physical: 'rule-1', n: 1, data: { FromOnEvent: 'yes' } },
    { fn: 'isComplete', type: 'Create', physical: 'rule-1', n: 2, data: { FromOnEvent: 'yes' } },
    { fn: 'isComplete', type: 'Create', physical: 'rule-1', n: 3, data: { FromOnEvent: 'yes' } },
  ]);
  expect(stack.data).toEqual({ FromOnEvent: 'yes', Polls: '3' });
  // ServiceToken among the properties, as CloudFormation passes it.
  expect(op.requests[0].request.ResourceProperties).toMatchObject({ ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:framework' });
});

test('a Create whose onEvent fails rolls back with a Delete the framework answers itself (the marker physical id)', async () => {
  const op = await stack.create({ Name: 'rule-1', FailOnEvent: 'Create' });
  expect(op.status).toBe('ROLLBACK_COMPLETE');
  expect(op.requests.map((r) => [r.phase, r.request.RequestType, r.request.PhysicalResourceId, r.response.Status])).toEqual([
    ['deploy', 'Create', undefined, 'FAILED'],
    ['rollback', 'Delete', 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED', 'SUCCESS'],
  ]);
  expect(recorded().map((c) => `${c.fn} ${c.type}`)).toEqual(['onEvent Create']);
});

test('a Create whose isComplete fails rolls back with a Delete of the physical id onEvent answered, which reaches the handler', async () => {
  const op = await stack.create({ Name: 'rule-1', FailIsComplete: 'Create' });
  expect(op.status).toBe('ROLLBACK_COMPLETE');
  expect(op.reason).toBe('isComplete failed');
  expect(recorded().map((c) => `${c.fn} ${c.type} ${c.physical ?? ''}`.trim())).toEqual(['onEvent Create', 'isComplete Create rule-1', 'onEvent Delete rule-1', 'isComplete Delete rule-1']);
});

test('Update: the old properties along; unchanged properties send nothing; a failure rolls back with the properties reversed', async () => {
  await stack.create({ Name: 'rule-1', Color: 'blue' });
  recorded();
  expect(await stack.update({ Name: 'rule-1', Color: 'blue' })).toEqual({ status: 'UPDATE_COMPLETE', requests: [] });
  const op = await stack.update({ Name: 'rule-1', Color: 'green', FailIsComplete: 'Update' });
  expect(op.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  expect(op.requests.map((r) => [r.phase, r.request.ResourceProperties.Color, r.request.OldResourceProperties?.Color, r.response.Status])).toEqual([
    ['deploy', 'green', 'blue', 'FAILED'],
    ['rollback', 'blue', 'green', 'SUCCESS'],
  ]);
  expect(stack.properties).toMatchObject({ Color: 'blue' });
});

test('an Update that answers a new physical id is a replacement: the cleanup deletes the old id with its old properties', async () => {
  await stack.create({ Name: 'rule-1' });
  recorded();
  const op = await stack.update({ Name: 'rule-2' });
  expect(op.status).toBe('UPDATE_COMPLETE');
  expect(op.requests.map((r) => [r.phase, r.request.RequestType, r.request.PhysicalResourceId, r.request.ResourceProperties.Name])).toEqual([
    ['deploy', 'Update', 'rule-1', 'rule-2'],
    ['cleanup', 'Delete', 'rule-1', 'rule-1'],
  ]);
  expect(stack.physicalResourceId).toBe('rule-2');
});

test('the waiter gives up after totalTimeout / queryInterval more polls: FAILED, "Operation timed out"', async () => {
  const op = await stack.create({ Name: 'rule-1', Polls: '1000' });
  expect(op.requests[0].response).toMatchObject({ Status: 'FAILED', Reason: 'Operation timed out', PhysicalResourceId: 'rule-1' });
  expect(op.requests[0].polls).toBe(500 / 50 + 1);
});

test('an invocation past the function\'s timeout fails the request, and the next one starts a new environment', async () => {
  const op = await stack.create({ Name: 'rule-1', Sleep: '5000' });
  expect(op.requests[0].response.Reason).toMatch(/^RequestId: req-\d+ Error: Task timed out after 2\.00 seconds$/);
  expect(functions[1].coldStarts).toBe(2); // the rollback's isComplete ran in a new process
});

/**
 * A short release sequence through the real traffic shifter (the shipped
 * bundle, run by CloudFormation's lifecycle against the lab's ELBv2 endpoint):
 * a failed canary and the next release to the same color, and a deploy that
 * adds green and targets it, with what must hold at each step.
 */
import { ReleaseStep, mustLose, releaseSequence, releaseTable, sessionSurvives } from '../../lab/releases';
import { VirtualUser } from '../../lab/scenarios';

jest.setTimeout(180_000);

test('where each strategy keeps a session decides which moves lose it', () => {
  const at = (instance: string, strategy: 'memory' | 'cookie' | 'redis') => ({ instance, strategy });
  expect(sessionSurvives(at('blue-1', 'memory'), at('blue-1', 'memory'))).toBe(true);
  expect(sessionSurvives(at('blue-1', 'memory'), at('blue-2', 'memory'))).toBe(false);
  expect(sessionSurvives(at('blue-1', 'redis'), at('green-3', 'redis'))).toBe(true);
  expect(sessionSurvives(at('blue-1', 'cookie'), at('green-3', 'cookie'))).toBe(true);
  expect(sessionSurvives(at('green-1', 'memory'), at('green-3', 'redis'))).toBe(false);
  // Counted from the answers in the window, against the answer before it; a user answered by one instance throughout loses nothing.
  const user = (instances: string[]) => Object.assign(new VirtualUser('http://127.0.0.1:1'), {
    log: instances.map((instance, i) => ({ sentAt: i * 10, doneAt: i * 10 + 1, status: 200, instance })),
  });
  const strategies = new Map([['blue-1', 'memory'], ['green-1', 'memory'], ['green-2', 'redis']] as const);
  expect(mustLose([user(['blue-1', 'blue-1', 'green-1']), user(['blue-1', 'blue-1', 'blue-1'])], strategies, 15, 100)).toBe(1);
  expect(mustLose([user(['blue-1', 'green-1', 'green-1'])], strategies, 15, 100)).toBe(0); // the move was before the window
  expect(mustLose([user(['green-1', 'green-2'])], strategies, 0, 100)).toBe(1);
});

describe('a release sequence through the real shifter (short run)', () => {
  let steps: ReleaseStep[];
  const at = (step: string) => steps.find((s) => s.step === step && s.stack !== undefined)!;

  beforeAll(async () => {
    steps = await releaseSequence('memory', { users: 6, rounds: 4 }, ['a', 'b', 'e', 'f', 'g']);
  });

  test('every step that is a deploy ends as CloudFormation would: created, rolled back after the failed gate, updated', () => {
    expect(steps.map((s) => `${s.step} ${s.stack?.split(' ')[0] ?? '-'}`)).toEqual([
      'a -', 'b CREATE_COMPLETE', 'e UPDATE_ROLLBACK_COMPLETE', 'f UPDATE_COMPLETE', 'a -', 'g CREATE_COMPLETE',
    ]);
    expect(releaseTable(steps)).toContain('| memory | (e) canary to green');
  });

  test('a failed canary: users on green lose their memory session, nobody is sent to green after the rule change', () => {
    const e = at('e');
    expect(e.mustLose).toBeGreaterThan(0); // users were on green when it died
    expect(e.lost).toBe(e.mustLose);
    expect(e.sentToFailed).toMatchObject({ afterChange: 0 });
  });

  test('the next release to the failed color shifts by its plan: its targets were health-checked all along (defect 7)', () => {
    const f = at('f');
    expect(f.note).toMatch(/^green before the deploy: green-\d+ (healthy|initial), green-\d+ (healthy|initial);/);
    expect(f.note).toContain('rule blue=0/green=100');
    expect({ failed: f.failed, lost: f.lost }).toEqual({ failed: 0, lost: f.mustLose });
  });

  test('a deploy that adds green and targets it starts where users are and loses nobody (defect 8)', () => {
    const g = at('g');
    expect(g.note).toMatch(/^the new rule started at blue=100\/green=0/);
    expect({ failed: g.failed, lost: g.lost, mustLose: g.mustLose }).toEqual({ failed: 0, lost: 0, mustLose: 0 });
  });
});

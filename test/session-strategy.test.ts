import { SessionStrategy } from '../lib';

describe('SessionStrategy', () => {
  test.each([
    ['memory', false],
    ['cookie', true],
    ['redis', true],
    ['file', true],
    ['database', true],
  ])('fromName(%s) gives the %s strategy', (name, survives) => {
    const strategy = SessionStrategy.fromName(name);
    expect(strategy.name).toBe(name);
    expect(strategy.survivesInstanceLoss).toBe(survives);
  });

  test('fails on an unknown name and lists the known ones', () => {
    expect(() => SessionStrategy.fromName('sticky')).toThrow(
      'strategy: unknown session strategy, got "sticky"; use one of memory, cookie, redis, file, database',
    );
  });
});

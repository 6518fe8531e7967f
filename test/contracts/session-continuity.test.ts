import { SESSION_CONTINUITY_DEFAULTS, continuityExpression, lostShare } from '../../lib/contract/session-continuity';

describe('the session-continuity alarm\'s metric', () => {
  test.each([
    [0, 100, 0],
    [2, 0, 0], // fewer than the minimum: a replayed old cookie or two stop no release
    [3, 0, 100],
    [3, 57, 5],
    [10, 90, 10],
    [0, 0, 0],
  ])('%i lost of %i loaded reads %d %%', (lost, loaded, share) => {
    expect(lostShare(lost, loaded, SESSION_CONTINUITY_DEFAULTS.minimumLost)).toBeCloseTo(share);
  });

  test('CloudWatch computes the same expression over lost and loaded', () => {
    expect(continuityExpression(3)).toBe('IF(FILL(lost, 0) >= 3, 100 * FILL(lost, 0) / (FILL(lost, 0) + FILL(loaded, 0)), 0)');
  });
});

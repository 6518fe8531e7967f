/**
 * The session-continuity alarm: per color, the share of returning users whose
 * session the store no longer had (the app's `SessionsLost`, of
 * `SessionsLost` + `SessionsLoaded`), once enough were lost to mean
 * something. The dashboard's alarm and the lab's evaluation of it both read
 * this module, so the gate the lab measures is the one a stack deploys.
 */
import { SESSIONS_LOST_METRIC } from './app-env';

/** The app's count of sessions it found in its store (EMF, namespace `SessionTier/App`, dimension `Color`). */
export const SESSIONS_LOADED_METRIC = 'SessionsLoaded';

export { SESSIONS_LOST_METRIC };

/** The alarm's defaults. */
export const SESSION_CONTINUITY_DEFAULTS = {
  /** Alarm when more than this share of returning users lost their session, in percent. */
  lostPercent: 5,
  /** ... and at least this many did in the period: one replayed old cookie must not stop a release. */
  minimumLost: 3,
  /** The period the metrics are summed over, in seconds (the app publishes every minute). */
  periodSeconds: 60,
} as const;

/**
 * The alarm's metric for one period: the share of returning users who lost
 * their session, in percent, or 0 while fewer than `minimumLost` did (or
 * nobody came back). CloudWatch computes the same from
 * {@link continuityExpression}.
 */
export function lostShare(lost: number, loaded: number, minimumLost: number): number {
  return lost >= minimumLost && lost + loaded > 0 ? (100 * lost) / (lost + loaded) : 0;
}

/**
 * {@link lostShare} as a CloudWatch metric math expression over the metrics
 * `lost` and `loaded` (a period without any `loaded` datapoint counts 0).
 */
export function continuityExpression(minimumLost: number): string {
  return `IF(FILL(lost, 0) >= ${minimumLost}, 100 * FILL(lost, 0) / (FILL(lost, 0) + FILL(loaded, 0)), 0)`;
}

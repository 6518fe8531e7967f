/**
 * What the shifter records on its rule about the release under way, as tag
 * values (ELBv2 tag values take letters, digits, spaces and `_.:/=+-@`, at
 * most 256 characters): the release itself, written by `onEvent` at each
 * deploy, and how far its hook got, written by `isComplete`. The status
 * command reads the same tags. Pure: no SDK, no clock.
 */
import { FleetColorName } from '../../lib/contract/app-env';
import { Weights } from '../../lib/contract/traffic-shift';
import { StageKey, formatWeights } from './plan';

/** Tags on the rule that record what the shifter last set (elb.ts writes them), so a change by anyone else shows. */
export const TAG_WEIGHTS = 'cdk-session-tier:weights';
export const TAG_SHIFTED_AT = 'cdk-session-tier:shifted-at';

/** Tag keys on the weighted rule. */
export const RELEASE_TAGS = {
  /** The release under way: {@link formatRelease}. */
  RELEASE: 'cdk-session-tier:release',
  /** How far the release's hook got: {@link formatHookProgress}. */
  HOOK: 'cdk-session-tier:hook',
  /** The ARN of the test rule matching the header, or `none`. */
  TEST_HEADER_RULE: 'cdk-session-tier:test-header-rule',
  /** The ARN of the test rule matching the cookie, or `none`. */
  TEST_COOKIE_RULE: 'cdk-session-tier:test-cookie-rule',
} as const;

/** The release a deploy began: what it moves where, and how. */
export interface ReleaseRecord {
  /** When the deploy's onEvent ran, ms since the epoch: the release's identity. */
  readonly at: number;
  readonly target: FleetColorName;
  /** The plan, as the `Plan` property reads. */
  readonly plan: string;
  readonly bakeSeconds: number;
  /** The weights when the release began. */
  readonly start: Weights;
  /** Whether a hook is called at each stage. */
  readonly hooks: boolean;
}

/** `at=2026-11-24T12:00:00.000Z target=green plan=canary:10:300 bake=600 start=blue=100/green=0 hooks=yes` */
export function formatRelease(r: ReleaseRecord): string {
  return `at=${new Date(r.at).toISOString()} target=${r.target} plan=${r.plan} bake=${r.bakeSeconds} start=${formatWeights(r.start)} hooks=${r.hooks ? 'yes' : 'no'}`;
}

/** Parses {@link formatRelease}; undefined for anything else. */
export function parseRelease(text: string | undefined): ReleaseRecord | undefined {
  const match = /^at=(\S+) target=(blue|green) plan=(\S+) bake=(\d+) start=blue=(\d{1,3})\/green=(\d{1,3}) hooks=(yes|no)$/.exec(text ?? '');
  const at = Date.parse(match?.[1] ?? '');
  if (!match || Number.isNaN(at)) {
    return undefined;
  }
  return {
    at,
    target: match[2] as FleetColorName,
    plan: match[3],
    bakeSeconds: Number(match[4]),
    start: { blue: Number(match[5]), green: Number(match[6]) },
    hooks: match[7] === 'yes',
  };
}

/** How far a release's hook got: the stage last asked, and whether it passed or since when it answers IN_PROGRESS. */
export interface HookProgress {
  /** The release ({@link ReleaseRecord.at}) this progress belongs to. */
  readonly releaseAt: number;
  readonly stage: StageKey;
  /** `passed`, or `asking` while the hook answers IN_PROGRESS. */
  readonly status: 'passed' | 'asking';
  /** When the stage's hook was first asked, ms since the epoch. */
  readonly since: number;
  /** How many times it was asked. */
  readonly attempts: number;
}

/** `release=<iso> stage=after-step:10 status=asking since=<iso> attempts=3` */
export function formatHookProgress(p: HookProgress): string {
  return `release=${new Date(p.releaseAt).toISOString()} stage=${p.stage} status=${p.status} since=${new Date(p.since).toISOString()} attempts=${p.attempts}`;
}

/** Parses {@link formatHookProgress}; undefined for anything else. */
export function parseHookProgress(text: string | undefined): HookProgress | undefined {
  const match = /^release=(\S+) stage=([a-z:0-9-]+) status=(passed|asking) since=(\S+) attempts=(\d+)$/.exec(text ?? '');
  const releaseAt = Date.parse(match?.[1] ?? '');
  const since = Date.parse(match?.[4] ?? '');
  if (!match || Number.isNaN(releaseAt) || Number.isNaN(since)) {
    return undefined;
  }
  return { releaseAt, stage: match[2], status: match[3] as HookProgress['status'], since, attempts: Number(match[5]) };
}

/** The stage whose hook passed last in `release`, if any: progress of an earlier release does not count. */
export function passedStage(release: ReleaseRecord | undefined, progress: HookProgress | undefined): StageKey | undefined {
  return release && progress && progress.releaseAt === release.at && progress.status === 'passed' ? progress.stage : undefined;
}

/**
 * Section 3 of `npm run bench`: whole `cdk synth` processes, each next to its
 * anchor. The demo app against an empty `cdk init app`; a consumer's project
 * using the installed package against the same project without it.
 */
import { execFileSync, spawnSync } from 'child_process';
import { existsSync, mkdirSync, rmSync } from 'fs';
import { join } from 'path';
import { initProject, installLibrary, packLibrary } from '../local/consumer-project';
import { OUT, log, median, round } from './common';

const ROOT = join(__dirname, '..');
const CDK = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');

/** One kind of synth, timed against its anchor within each round. */
interface SynthCase {
  readonly name: string;
  readonly cwd: string;
  readonly env?: Record<string, string>;
  /** The case it is compared with; none for an anchor. */
  readonly anchor?: string;
}

export interface SynthFigures {
  readonly app: string;
  readonly seconds: number;
  readonly peakMb: number;
  /** The anchor's name; undefined for an anchor. */
  readonly anchor?: string;
  /** Median over the rounds of this synth's time over its anchor's in the same round; 1 for an anchor. */
  readonly ratio: number;
}

/** The ratios the project holds itself to, by case name. */
export const SYNTH_TARGETS: Readonly<Record<string, number>> = {
  'demo app': 1.1,
  'consumer project with the library': 1.15,
};

/**
 * One whole `cdk synth -q` in `cwd`, from no cdk.out, with the CLI this
 * repository pins (the same for every case): its wall time and the peak
 * resident memory of its largest process.
 */
function synthOnce(cwd: string, env: Record<string, string> = {}): { seconds: number; peakMb: number } {
  rmSync(join(cwd, 'cdk.out'), { recursive: true, force: true });
  const res = spawnSync('/usr/bin/time', ['-f', 'TIME %e %M', process.execPath, CDK, 'synth', '-q'], {
    cwd, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true', ...env },
  });
  const match = /TIME ([\d.]+) (\d+)/.exec(res.stderr);
  if (res.status !== 0 || !match) {
    throw new Error(`cdk synth in ${cwd} failed:\n${res.stderr.slice(-2000)}`);
  }
  return { seconds: Number(match[1]), peakMb: Number(match[2]) / 1024 };
}

/** An empty `cdk init app --language typescript`, made once (it needs the npm registry). */
function emptyInitApp(): string {
  const dir = join(OUT, 'empty-app');
  if (!existsSync(join(dir, 'cdk.json'))) {
    log('creating an empty `cdk init app --language typescript` (once; needs the npm registry)');
    mkdirSync(dir, { recursive: true });
    execFileSync(process.execPath, [CDK, 'init', 'app', '--language', 'typescript', '--generate-only'], { cwd: dir, stdio: 'ignore' });
    execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
  }
  return dir;
}

/**
 * Two projects shaped like `cdk init app`, made anew from the package as it is
 * now: one with the library installed and a stack that uses it (the
 * package test's), one without.
 */
function consumerProjects(): { without: string; with: string } {
  const work = join(OUT, 'consumers');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  log('building and packing the package for the consumer projects');
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
  const library = packLibrary(work);
  const without = initProject(work, 'without-library', 'node_modules/aws-cdk-lib');
  const withLibrary = initProject(work, 'with-library', 'node_modules/aws-cdk-lib');
  installLibrary(withLibrary, library);
  return { without: without.dir, with: withLibrary.dir };
}

/**
 * The synths take turns within each round, so that a slow minute falls on
 * every case, and each ratio is taken within one round. The demo's usual
 * synth finds its bundles in the bundle cache (a first synth filled it); the
 * fresh checkout's first synth must bundle. The last pair turns aws-cdk-lib's
 * own template validation off on both sides, to show what is the library's
 * and what that validation adds to a larger template.
 */
export function measureSynth(rounds: number): SynthFigures[] {
  if (!existsSync('/usr/bin/time')) {
    throw new Error('/usr/bin/time is missing: apt-get install -y time');
  }
  const empty = emptyInitApp();
  const consumers = consumerProjects();
  const off = { CDK_VALIDATION: 'false' };
  const cases: SynthCase[] = [
    { name: 'empty `cdk init app`', cwd: empty },
    { name: 'demo app', cwd: ROOT, anchor: 'empty `cdk init app`' },
    { name: 'demo app, first synth of a fresh checkout (no bundle cache)', cwd: ROOT, env: { CDK_SESSION_TIER_BUNDLE_CACHE: 'off' }, anchor: 'empty `cdk init app`' },
    { name: 'consumer project without the library', cwd: consumers.without },
    { name: 'consumer project with the library', cwd: consumers.with, anchor: 'consumer project without the library' },
    { name: 'empty `cdk init app`, CDK_VALIDATION=false', cwd: empty, env: off },
    { name: 'demo app, CDK_VALIDATION=false', cwd: ROOT, env: off, anchor: 'empty `cdk init app`, CDK_VALIDATION=false' },
  ];
  // A first synth of each fills what any first synth fills (the bundle cache, tsx's cache).
  for (const c of cases) synthOnce(c.cwd, c.env);
  const turns = Array.from({ length: rounds }, () => cases.map((c) => synthOnce(c.cwd, c.env)));
  const index = (name: string) => cases.findIndex((c) => c.name === name);
  const figures = cases.map((c, i) => {
    const anchor = c.anchor === undefined ? i : index(c.anchor);
    return {
      app: c.name,
      seconds: round(median(turns.map((turn) => turn[i].seconds)), 2),
      peakMb: round(median(turns.map((turn) => turn[i].peakMb))),
      anchor: c.anchor,
      ratio: round(median(turns.map((turn) => turn[i].seconds / turn[anchor].seconds)), 2),
    };
  });
  log(figures);
  return figures;
}

/**
 * Section 4 of `npm run bench`: the bundles' sizes, and how long each takes to
 * start.
 */
import { execFileSync } from 'child_process';
import { readFileSync, statSync } from 'fs';
import { join } from 'path';
import { gzipSync } from 'zlib';
import { APP_ENV } from '../lib/contract/app-env';
import { CLI_BUNDLE, TRAFFIC_SHIFTER_BUNDLE, bundleWithEsbuild, sourceBundle } from '../lib/private/esbuild-bundle';
import { OUT, SECRET, log, median, round, startServer } from './common';


export interface BundleFigures {
  readonly bundle: string;
  readonly kb: number;
  readonly gzipKb: number;
  readonly loadMs: number;
  readonly what: string;
}

function moduleLoadMs(file: string): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-t)/1e6)`], { encoding: 'utf8' });
    runs.push(Number(out.trim()));
  }
  return round(median(runs), 1);
}

/** Process start to exit of `node file args`: the median of 5 runs. */
function processMs(file: string, args: string[]): number {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = process.hrtime.bigint();
    execFileSync(process.execPath, [file, ...args], { stdio: 'ignore' });
    runs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return round(median(runs), 1);
}

/** Section 4 for `app`, the sample app's bundle, the traffic shifter's and the status command's. */
export async function measureBundles(app: string): Promise<BundleFigures[]> {
  const starts: number[] = [];
  const cookieStarts: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const [strategy, into] of [['memory', starts], ['cookie', cookieStarts]] as const) {
      const server = await startServer(app, { [APP_ENV.STRATEGY]: strategy, [APP_ENV.COOKIE_SECRETS]: SECRET });
      into.push(server.startMs);
      await server.stop();
    }
  }
  // The bundle the construct stages, for the runtime it runs on.
  const shifter = join(OUT, 'traffic-shifter.js');
  bundleWithEsbuild(sourceBundle(TRAFFIC_SHIFTER_BUNDLE), shifter);
  const cli = join(OUT, 'cdk-session-tier.js');
  bundleWithEsbuild(sourceBundle(CLI_BUNDLE), cli);
  const size = (f: string) => ({ kb: round(statSync(f).size / 1024), gzipKb: round(gzipSync(readFileSync(f)).length / 1024) });
  const figures = [
    { bundle: 'sample app (server.js)', ...size(app), loadMs: round(median(starts), 1), what: 'process start to first `/health` answer (`memory`)' },
    { bundle: 'sample app (server.js), `cookie`', ...size(app), loadMs: round(median(cookieStarts), 1), what: 'the same with `cookie`, which loads libsodium' },
    { bundle: 'traffic shifter (index.js, SDK bundled)', ...size(shifter), loadMs: moduleLoadMs(shifter), what: '`require()` of the handler module' },
    { bundle: 'status command (cli/index.js, SDK bundled)', ...size(cli), loadMs: processMs(cli, ['status', '--help']), what: 'process start to exit of `cdk-session-tier status --help`' },
  ];
  log(figures);
  return figures;
}

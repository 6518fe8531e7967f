/**
 * `npm run bench`: measures, on loopback, each figure next to its anchor, and
 * writes bench/results.md. Every run is bounded in time; every figure is the
 * median of several runs; ratios carry the verdict, so a slow or busy machine
 * moves both sides together.
 *
 *   BENCH_DURATION=3 BENCH_RUNS=5 BENCH_CONNECTIONS=32 BENCH_SYNTH_RUNS=5 npm run bench [-- http stores synth bundles]
 *
 * Named parts run alone and replace their sections of results.md; the others stay.
 *
 * Many short rounds rather than a few long ones: on a shared 2-core machine a
 * slow spell of tens of seconds is common, and with 5 rounds the median ratio
 * needs three of them to go wrong together.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { cpus } from 'os';
import { join } from 'path';
import { bundleSampleApp } from '../lib/private/sample-app-asset';
import { BundleFigures, measureBundles } from './bundles';
import { CONNECTIONS, DURATION, OUT, RUNS, SYNTH_RUNS, round } from './common';
import { HttpFigures, measureHttp } from './http';
import { StoreFigures, measureStores } from './stores';
import { SYNTH_TARGETS, SynthFigures, measureSynth } from './synth';

// ---------------------------------------------------------------- report

function verdict(ok: boolean): string {
  return ok ? 'met' : '**not met**';
}

/** The parts `npm run bench -- <part>...` names (all when none): each writes its section of results.md. */
const PARTS = ['http', 'stores', 'synth', 'bundles'] as const;
type Part = typeof PARTS[number];

function partsToRun(args: string[]): Part[] {
  const unknown = args.filter((a) => !(PARTS as readonly string[]).includes(a));
  if (unknown.length > 0) {
    throw new Error(`npm run bench: unknown part ${unknown.join(', ')}; use any of ${PARTS.join(', ')}, or none for all`);
  }
  return args.length === 0 ? [...PARTS] : args as Part[];
}

/** A markdown table: a column per header, right-aligned where the header ends in `:`. */
function table(headers: string[], rows: (string | number)[][]): string[] {
  const names = headers.map((h) => h.replace(/:$/, ''));
  const rule = headers.map((h) => (h.endsWith(':') ? '---:' : '---'));
  return [names, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`);
}

function httpSection(http: HttpFigures[]): string[] {
  const by = (name: string) => http.find((h) => h.name.startsWith(name))!;
  const peer = by('express-session');
  const redis = by('redis');
  const cookie = by('cookie');
  return [
    '## 1. The sample app: `POST /api/counter` (load the session, add one, save it)',
    '',
    `${CONNECTIONS} connections, ${RUNS} rounds of ${DURATION} s per server after a 2 s warm-up, the servers taking turns within each round.`,
    '',
    ...table(['server', 'requests/s:', 'p50 ms:', 'p99 ms:', 'vs no sessions:', 'non-2xx + errors:'],
      http.map((h) => [h.name, h.rps, h.p50, h.p99, `${h.vsAnchor}x`, h.failures])),
    '',
    ...table(['target', 'figure', 'verdict'], [
      ["`redis` at 3x the peer's throughput or better, at a lower p99", `${redis.vsPeer}x, p99 ${redis.p99} ms vs ${peer.p99} ms`,
        verdict(redis.vsPeer >= 3 && redis.p99 < peer.p99)],
      ['`cookie` at half the no-session throughput or better', `${cookie.vsAnchor}x`, verdict(cookie.vsAnchor >= 0.5)],
    ]),
  ];
}

function storesSection(stores: StoreFigures[]): string[] {
  return [
    '## 2. The stores against their backends (load + save pairs per second)',
    '',
    ...table(['store', 'pairs/s:', 'anchor', 'anchor pairs/s:', 'ratio:'],
      stores.map((s) => [s.store, s.pairsPerSecond, s.anchor, s.anchorPairsPerSecond, round(s.pairsPerSecond / s.anchorPairsPerSecond, 2)])),
  ];
}

function synthSection(synth: SynthFigures[]): string[] {
  return [
    '## 3. `cdk synth`, whole process',
    '',
    `${SYNTH_RUNS} rounds, each running every case in turn from no cdk.out, with the CLI this repository pins; each ratio is taken against its anchor within a round.`,
    '',
    ...table(['app', 'median s:', 'peak RSS MB:', 'against', 'ratio:', 'target'], synth.map((s) => {
      const target = SYNTH_TARGETS[s.app];
      return [s.app, s.seconds, s.peakMb, s.anchor ?? '(anchor)', `${s.ratio}x`, target === undefined ? '' : `${target}x: ${verdict(s.ratio <= target)}`];
    })),
  ];
}

function bundlesSection(bundles: BundleFigures[]): string[] {
  return [
    '## 4. Bundles',
    '',
    ...table(['bundle', 'KB:', 'gzip KB:', 'start-up ms:', 'measured'], bundles.map((b) => [b.bundle, b.kb, b.gzipKb, b.loadMs, b.what])),
  ];
}

/** results.md's numbered sections by number, and what follows them (written by hand). */
function previousSections(text: string): { sections: Map<string, string>; rest: string } {
  const why = text.indexOf('## Why the code is as it is');
  const body = why < 0 ? text : text.slice(0, why);
  const sections = new Map<string, string>();
  for (const chunk of body.split(/^(?=## \d+\. )/m).slice(1)) {
    sections.set(/^## (\d+)\./.exec(chunk)![1], chunk.trimEnd());
  }
  return { sections, rest: why < 0 ? '' : text.slice(why) };
}

async function main(): Promise<void> {
  const parts = partsToRun(process.argv.slice(2));
  mkdirSync(OUT, { recursive: true });
  const started = Date.now();
  const fresh = new Map<string, string[]>();
  // One bundle of the sample app, as the fleets run it, for the requests and for its size and start-up.
  const app = join(OUT, 'server.js');
  if (parts.includes('http') || parts.includes('bundles')) bundleSampleApp(app);
  if (parts.includes('http')) fresh.set('1', httpSection(await measureHttp(app)));
  if (parts.includes('stores')) fresh.set('2', storesSection(await measureStores()));
  if (parts.includes('synth')) fresh.set('3', synthSection(measureSynth(SYNTH_RUNS)));
  if (parts.includes('bundles')) fresh.set('4', bundlesSection(await measureBundles(app)));

  const resultsFile = join(__dirname, 'results.md');
  const previous = previousSections(existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '');
  const today = new Date().toISOString().slice(0, 10);
  const sections = ['1', '2', '3', '4'].map((n) => fresh.has(n)
    ? [...fresh.get(n)!, '', `Measured on ${today}.`].join('\n')
    : previous.sections.get(n) ?? `## ${n}. (not measured yet: npm run bench -- ${PARTS[Number(n) - 1]})`);
  const lines = [
    '# Benchmark results',
    '',
    `Written by \`npm run bench\`: Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}; medians, and each ratio the median`,
    'of the ratios within one round. Load generator (autocannon), servers and stores share the machine.',
    `The last run (${parts.join(', ')}) took ${Math.round((Date.now() - started) / 1000)} s.`,
    '',
    sections.join('\n\n'),
    '',
  ];
  writeFileSync(resultsFile, lines.join('\n') + (previous.rest ? `\n${previous.rest}` : ''));
  console.log([...fresh.values()].map((section) => section.join('\n')).join('\n\n'));
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});

/**
 * `npm run lab:scenarios`: every scenario for each strategy and stickiness
 * setting; writes lab/results/results.md and lab/results/chart.svg, and puts
 * the table in lab/README.md and README.md.
 *
 *   LAB_USERS=30 LAB_ROUNDS=20 LAB_STRATEGIES=memory,redis npm run lab:scenarios
 */
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { SESSION_STRATEGIES, SessionStrategyName } from '../lib/contract/app-env';
import { Stickiness } from '../lib/stickiness';
import { Hang, cacheFailover, databaseFailover, storeHangs, zoneLost } from './drills';
import { gateScenarios } from './release-gates';
import { ReleaseStep, releaseSequence, releaseTable } from './releases';
import { RollbackResult, failedCanary } from './rollback';
import { APP_DAY, LB_DAY, ScenarioResult, ScenarioSize, outage, shift, steadyAndKill } from './scenarios';

/** The stickiness settings every strategy runs under in scenarios 1 and 2. */
const STICKINESS_SETTINGS = [LB_DAY, APP_DAY, Stickiness.none()];

/**
 * The parts of a run: the scenarios (1 to 4), the store drills (5 to 8), the
 * failed canary's rollback (9), the release sequences through the real
 * shifter (lab/releases.ts, their own table), and issue 26's gates (j) to (n)
 * (lab/release-gates.ts, a table of their own in the same file).
 */
const PARTS = ['scenarios', 'drills', 'rollback', 'releases', 'gates'] as const;

/** The strategies the release sequences run for (of those asked): a sticky in-memory session, a sealed cookie, a shared store. */
const RELEASE_STRATEGIES: readonly SessionStrategyName[] = ['memory', 'cookie', 'redis'];

/**
 * The whole matrix, in order: the strategies given, each under every
 * stickiness setting, then the shifts and outages that involve them, then
 * the drills (failovers, a zone lost, stores that hang).
 */
async function runAll(size: ScenarioSize, strategies: readonly SessionStrategyName[], parts: ReadonlyArray<(typeof PARTS)[number]>,
  log: (r: ScenarioResult) => void = () => undefined): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const add = (r: ScenarioResult[]) => {
    r.forEach(log);
    results.push(...r);
  };
  if (parts.includes('scenarios')) {
    await runScenarios(size, strategies, add);
  }
  if (parts.includes('drills')) {
    await runDrills(size, strategies, add);
  }
  if (parts.includes('rollback')) {
    await runRollbacks(size, strategies, add);
  }
  return results;
}

/** Scenarios 1 to 4. */
async function runScenarios(size: ScenarioSize, strategies: readonly SessionStrategyName[], add: (r: ScenarioResult[]) => void): Promise<void> {
  for (const strategy of strategies) {
    for (const stickiness of STICKINESS_SETTINGS) {
      add(await steadyAndKill(strategy, stickiness, size));
    }
  }
  const shifts: Array<[SessionStrategyName, SessionStrategyName, Stickiness]> = [
    ['memory', 'memory', LB_DAY],
    ['memory', 'redis', LB_DAY],
    ['memory', 'redis', Stickiness.none()],
    ['redis', 'redis', Stickiness.none()],
  ];
  for (const [blue, green, group] of shifts.filter(([b, g]) => strategies.includes(b) && strategies.includes(g))) {
    add([await shift(blue, green, group, size)]);
  }
  for (const strategy of (['redis', 'database'] as const).filter((s) => strategies.includes(s))) {
    add([await outage(strategy, size)]);
  }
}

/** The store drills of the strategies given. */
async function runDrills(size: ScenarioSize, strategies: readonly SessionStrategyName[], add: (r: ScenarioResult[]) => void): Promise<void> {
  for (const strategy of (['redis', 'database'] as const).filter((s) => strategies.includes(s))) {
    add([await cacheFailover(strategy, size)]);
  }
  if (strategies.includes('database')) {
    for (const engine of ['postgres', 'mysql'] as const) {
      add([await databaseFailover(engine, size)]);
    }
  }
  for (const strategy of strategies) {
    add([await zoneLost(strategy, size)]);
  }
  const hangs: Array<[Hang, SessionStrategyName]> = [['redis', 'redis'], ['database', 'database'], ['database lock', 'database'], ['file', 'file']];
  for (const [hang] of hangs.filter(([, s]) => strategies.includes(s))) {
    add([await storeHangs(hang, size)]);
  }
}

/** A failed canary for `memory` and the shared `redis`, rolled back by the real shifter and CloudFormation. */
async function runRollbacks(size: ScenarioSize, strategies: readonly SessionStrategyName[], add: (r: ScenarioResult[]) => void): Promise<void> {
  for (const strategy of (['memory', 'redis'] as const).filter((s) => strategies.includes(s))) {
    add([await failedCanary(strategy, size)]);
  }
}

function perInstance(r: ScenarioResult): string {
  return Object.entries(r.perInstance).map(([name, n]) => `${name} ${n}`).join(', ');
}

/** The results as a Markdown table. */
export function markdownTable(results: readonly ScenarioResult[]): string {
  return [
    '| scenario | setup | users | requests answered | requests failed | sessions lost | users bounced between colors | requests per instance | busiest instance / even share | note |',
    '|---|---|---:|---:|---:|---:|---:|---|---:|---|',
    ...results.map((r) => `| ${r.scenario} | ${r.setup} | ${r.users} | ${r.requests} | ${r.errors} | ${r.sessionsLost} | ${r.bounced} | ${perInstance(r)} | ${r.skew} | ${r.note} |`),
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Width of the bars' area of the chart, in pixels. */
const BAR_WIDTH = 300;

/** One panel of horizontal bars: a label, a bar scaled to `max`, and the value's text. */
function barPanel(title: string, top: number, left: number, rows: ReadonlyArray<{ label: string; value: number; max: number; text: string; fill: string }>): { svg: string[]; height: number } {
  const row = 22;
  const svg = [`<text x="${left}" y="${top + 18}" font-weight="bold">${escapeXml(title)}</text>`];
  rows.forEach((r, i) => {
    const y = top + 30 + i * row;
    const bar = Math.max(1, (r.value / r.max) * BAR_WIDTH);
    svg.push(
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${escapeXml(r.label)}</text>` +
      `<rect x="${left}" y="${y + 3}" width="${bar.toFixed(1)}" height="${row - 8}" fill="${r.fill}"/>` +
      `<text x="${(left + bar + 6).toFixed(1)}" y="${y + 14}">${escapeXml(r.text)}</text>`,
    );
  });
  return { svg, height: 40 + rows.length * row };
}

/**
 * Bar charts: the share of users who lost their session, per scenario and
 * setup; the load spread under steady load (the busiest instance's requests
 * over an even share), which stickiness skews; and, with failed canaries, the
 * users on green still sent there after the rollback's rule change.
 */
export function chartSvg(results: readonly ScenarioResult[]): string {
  const label = (r: ScenarioResult) => `${r.scenario}: ${r.setup}`;
  // About 6.6 px per character of 12 px sans-serif, so the longest label fits.
  const left = Math.ceil(Math.max(...results.map((r) => label(r).length)) * 6.6) + 20;
  const lost = barPanel('Users who lost their session', 0, left, results.map((r) => {
    const share = r.users === 0 ? 0 : r.sessionsLost / r.users;
    return { label: label(r), value: share, max: 1, text: `${Math.round(share * 100)} %`, fill: share > 0 ? '#d9534f' : '#5cb85c' };
  }));
  const steady = results.filter((r) => r.scenario === 'steady load');
  const maxSkew = Math.max(2, ...steady.map((r) => r.skew));
  const spread = barPanel('Steady load: busiest instance over an even share (1 is even)', lost.height + 10, left, steady.map((r) => (
    { label: r.setup, value: r.skew, max: maxSkew, text: r.skew.toFixed(2), fill: '#4a7bb7' }
  )));
  // A user pinned to the failed color gets nothing but errors, which "sessions lost" does not show: so a panel of its own.
  const canaries = results.filter((r): r is RollbackResult => r.scenario === 'failed canary');
  const pinned = barPanel('Failed canary: users on green still sent there after the rule change', lost.height + spread.height + 20, left, canaries.map((r) => {
    const share = r.onGreen === 0 ? 0 : r.usersSentToGreenAfter / r.onGreen;
    return { label: r.setup, value: share, max: 1, text: `${r.usersSentToGreenAfter} of ${r.onGreen}`, fill: share > 0 ? '#d9534f' : '#5cb85c' };
  }));
  const panels = canaries.length > 0 ? [lost, spread, pinned] : [lost, spread];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + BAR_WIDTH + 120}" height="${panels.reduce((a, p) => a + p.height + 10, -10)}" font-family="sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    ...panels.flatMap((p) => p.svg),
    '</svg>',
    '',
  ].join('\n');
}

/** A README (lab/README.md, README.md) with the table between its markers (`<!-- results:start -->`, or another name's) replaced. */
export function readmeWithTable(readme: string, table: string, name = 'results'): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) {
    throw new Error(`README: the markers ${start} and ${end} are missing; put them where the table goes`);
  }
  return `${readme.slice(0, from + start.length)}\n${table}\n${readme.slice(to)}`;
}

function strategiesFromEnv(): SessionStrategyName[] {
  const text = process.env.LAB_STRATEGIES;
  if (text === undefined) {
    return [...SESSION_STRATEGIES];
  }
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(SESSION_STRATEGIES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new Error(`LAB_STRATEGIES: must be a comma-separated list of ${SESSION_STRATEGIES.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return names as SessionStrategyName[];
}

function partsFromEnv(): Array<(typeof PARTS)[number]> {
  const text = process.env.LAB_PARTS ?? PARTS.join(',');
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => !(PARTS as readonly string[]).includes(n))) {
    throw new Error(`LAB_PARTS: must be a comma-separated list of ${PARTS.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return names as Array<(typeof PARTS)[number]>;
}

function wholeNumberFromEnv(name: string, fallback: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${name}: must be a whole number from 1 to ${max}, got ${process.env[name]}`);
  }
  return value;
}

/** The release sequences of the strategies asked, written to lab/results/releases.md and lab/README.md. */
async function runReleases(size: ScenarioSize, strategies: readonly SessionStrategyName[]): Promise<void> {
  const started = Date.now();
  const steps: ReleaseStep[] = [];
  for (const strategy of RELEASE_STRATEGIES.filter((s) => strategies.includes(s))) {
    const sequence = await releaseSequence(strategy, size);
    sequence.forEach((s) => console.error(`[lab] ${s.strategy} (${s.step}) ${s.title}: failed ${s.failed}/${s.requests}, lost ${s.lost} (had to: ${s.mustLose}), ${s.stack ?? ''}; ${s.note}`));
    steps.push(...sequence);
  }
  const table = releaseTable(steps);
  writeFileSync(join(__dirname, 'results', 'releases.md'), [
    '# Release sequences through the real traffic shifter',
    '',
    `Written by \`LAB_PARTS=releases npm run lab:scenarios\` on ${new Date().toISOString().slice(0, 10)}: ${size.users} virtual users clicking throughout`,
    `(more arrive at each step), ${Math.round((Date.now() - started) / 1000)} s in all. See [../README.md](../README.md#release-sequences) for what each step does.`,
    '',
    table,
    '',
  ].join('\n'));
  // lab/README.md, and the copy in the project's README (its section on the lab).
  for (const readme of [join(__dirname, 'README.md'), join(__dirname, '..', 'README.md')]) {
    writeFileSync(readme, readmeWithTable(readFileSync(readme, 'utf8'), table, 'releases'));
  }
  console.log(table);
}

/**
 * Issue 26's gate scenarios, (j) to (n): their table goes into
 * lab/results/releases.md (after the sequences') and lab/README.md, each
 * between its `gates` markers.
 */
async function runGates(size: ScenarioSize): Promise<void> {
  const started = Date.now();
  const steps = await gateScenarios(size);
  steps.forEach((s) => console.error(`[lab] (${s.step}) ${s.title}: failed ${s.failed}/${s.requests}, lost ${s.lost}, ${s.stack ?? ''}; ${s.note}`));
  const table = [
    `Written by \`LAB_PARTS=gates npm run lab:scenarios\` on ${new Date().toISOString().slice(0, 10)}: ${size.users} virtual users clicking throughout, ` +
      `${Math.round((Date.now() - started) / 1000)} s in all; blue on Redis, the apps' metrics evaluated by the lab's CloudWatch ` +
      '(see [../README.md](../README.md#release-gates)).',
    '',
    releaseTable(steps),
  ].join('\n');
  const results = join(__dirname, 'results', 'releases.md');
  let text = readFileSync(results, 'utf8');
  if (!text.includes('<!-- gates:start -->')) {
    text = `${text.trimEnd()}\n\n## Release gates (issue 26)\n\n<!-- gates:start -->\n<!-- gates:end -->\n`;
  }
  writeFileSync(results, readmeWithTable(text, table, 'gates'));
  for (const readme of [join(__dirname, 'README.md'), join(__dirname, '..', 'README.md')]) {
    writeFileSync(readme, readmeWithTable(readFileSync(readme, 'utf8'), releaseTable(steps), 'gates'));
  }
  console.log(table);
}

async function main(): Promise<void> {
  const size = { users: wholeNumberFromEnv('LAB_USERS', 30, 500), rounds: wholeNumberFromEnv('LAB_ROUNDS', 20, 500) };
  const strategies = strategiesFromEnv();
  const parts = partsFromEnv();
  if (parts.includes('releases')) {
    await runReleases(size, strategies);
  }
  if (parts.includes('releases') || parts.includes('gates')) {
    await runGates(size);
  }
  if (parts.every((p) => p === 'releases' || p === 'gates')) {
    return;
  }
  const started = Date.now();
  const results = await runAll(size, strategies, parts, (r) =>
    console.error(`[lab] ${r.scenario} | ${r.setup}: lost ${r.sessionsLost}/${r.users}, bounced ${r.bounced}, errors ${r.errors}, skew ${r.skew}; ${r.note}`));
  const table = markdownTable(results);
  const dir = join(__dirname, 'results');
  writeFileSync(join(dir, 'results.md'), [
    '# Session lab results',
    '',
    `Written by \`npm run lab:scenarios\` on ${new Date().toISOString().slice(0, 10)}: ${size.users} virtual users, ${size.rounds} rounds each,`,
    'the real sample app behind HAProxy on loopback (3 instances of one color in steady load and instance kill, 2 per color',
    'in shifts, outages and the failed canary, 3 of one color in the failover and hang drills, 4 per color when a zone is lost),',
    `${Math.round((Date.now() - started) / 1000)} s in all. See [../README.md](../README.md) for what each scenario does.`,
    '',
    table,
    '',
    '![Users who lost their session, the load spread under steady load, and users still sent to a failed green](chart.svg)',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'chart.svg'), chartSvg(results));
  // lab/README.md, and the copy in the project's README (its section on the lab).
  for (const readme of [join(__dirname, 'README.md'), join(__dirname, '..', 'README.md')]) {
    writeFileSync(readme, readmeWithTable(readFileSync(readme, 'utf8'), table));
  }
  console.log(table);
}

if (require.main === module) {
  main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
  });
}

/**
 * `npm run lab:scenarios`: every scenario for each strategy and stickiness
 * setting; writes lab/results/results.md and lab/results/chart.svg.
 *
 *   LAB_USERS=30 LAB_ROUNDS=20 npm run lab:scenarios
 */
import { writeFileSync } from 'fs';
import { join } from 'path';
import { Stickiness } from '../lib/stickiness';
import { APP_DAY, LB_DAY, ScenarioResult, ScenarioSize, outage, shift, steadyAndKill } from './scenarios';

/** The whole matrix, in order. */
export async function runAll(size: ScenarioSize, log: (line: string) => void = () => undefined): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const add = (r: ScenarioResult[]) => {
    r.forEach((x) => log(`${x.scenario} | ${x.setup}: lost ${x.sessionsLost}/${x.users}, bounced ${x.bounced}, errors ${x.errors}, skew ${x.skew} ${x.note}`));
    results.push(...r);
  };
  add(await steadyAndKill('memory', LB_DAY, size));
  add(await steadyAndKill('memory', APP_DAY, size));
  add(await steadyAndKill('memory', Stickiness.none(), size));
  for (const strategy of ['cookie', 'redis', 'file', 'database'] as const) {
    add(await steadyAndKill(strategy, Stickiness.none(), size));
  }
  add([await shift('memory', 'memory', LB_DAY, size)]);
  add([await shift('memory', 'redis', LB_DAY, size)]);
  add([await shift('memory', 'redis', Stickiness.none(), size)]);
  add([await shift('redis', 'redis', Stickiness.none(), size)]);
  add([await outage('redis', size)]);
  add([await outage('database', size)]);
  return results;
}

/** The results as a Markdown table. */
export function markdownTable(results: readonly ScenarioResult[]): string {
  return [
    '| scenario | setup | users | requests | errors | sessions lost | users bounced between colors | busiest instance / even share | note |',
    '|---|---|---:|---:|---:|---:|---:|---:|---|',
    ...results.map((r) => `| ${r.scenario} | ${r.setup} | ${r.users} | ${r.requests} | ${r.errors} | ${r.sessionsLost} | ${r.bounced} | ${r.skew} | ${r.note} |`),
  ].join('\n');
}

/** A horizontal bar chart of the share of users who lost their session, per scenario and setup. */
export function chartSvg(results: readonly ScenarioResult[]): string {
  const row = 22;
  const labels = results.map((r) => `${r.scenario}: ${r.setup}`);
  // About 6.6 px per character of 12 px sans-serif, so the longest label fits.
  const left = Math.ceil(Math.max(...labels.map((l) => l.length)) * 6.6) + 20;
  const width = 300;
  const height = 40 + results.length * row;
  const bars = results.map((r, i) => {
    const share = r.users === 0 ? 0 : r.sessionsLost / r.users;
    const y = 30 + i * row;
    const label = labels[i].replace(/&/g, '&amp;').replace(/</g, '&lt;');
    return [
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${label}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${Math.max(1, share * width).toFixed(1)}" height="${row - 8}" fill="${share > 0 ? '#d9534f' : '#5cb85c'}"/>`,
      `<text x="${left + Math.max(1, share * width) + 6}" y="${y + 14}">${Math.round(share * 100)} %</text>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + width + 60}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${left}" y="18" font-weight="bold">Users who lost their session</text>`,
    ...bars,
    '</svg>',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const size = { users: Number(process.env.LAB_USERS ?? 30), rounds: Number(process.env.LAB_ROUNDS ?? 20) };
  const started = Date.now();
  const results = await runAll(size, (line) => console.error(`[lab] ${line}`));
  const dir = join(__dirname, 'results');
  const table = markdownTable(results);
  writeFileSync(join(dir, 'results.md'), [
    '# Session lab results',
    '',
    `Written by \`npm run lab:scenarios\` on ${new Date().toISOString().slice(0, 10)}: ${size.users} virtual users, ${size.rounds} rounds each,`,
    `the real sample app behind HAProxy on loopback (3 instances per color alone, 2 per color in shifts), ${Math.round((Date.now() - started) / 1000)} s in all.`,
    '',
    table,
    '',
    '![Users who lost their session](chart.svg)',
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'chart.svg'), chartSvg(results));
  console.log(table);
}

if (require.main === module) {
  main().then(() => process.exit(0), (e) => {
    console.error(e);
    process.exit(1);
  });
}

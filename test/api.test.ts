/**
 * The public API is recorded in API.md, which jsii-docgen writes from the
 * jsii assembly (.jsii, written by `npm run jsii`, which `npm test` runs
 * before jest) as Construct Hub shows it. A change of the surface fails here
 * until API.md is regenerated and committed, so it shows in review.
 *
 * API.md is the record rather than the assembly itself: the assembly also
 * carries the README, source locations and the version, which change without
 * the API changing.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { copyOfBuiltPackage } from './helpers/assembly';

const ROOT = path.join(__dirname, '..');
const RECORD = path.join(ROOT, 'API.md');
const STALE_RECORD = 'the public API changed: run `npm run docgen` and commit API.md';

interface Docs { readonly summary?: string }
interface Member { readonly name: string; readonly docs?: Docs; readonly static?: boolean; readonly parameters?: Array<{ readonly name: string }> }
interface JsiiType {
  readonly fqn: string;
  readonly kind: 'class' | 'interface' | 'enum';
  readonly docs?: Docs;
  readonly initializer?: { readonly parameters?: Array<{ readonly name: string }> };
  readonly properties?: Member[];
  readonly methods?: Member[];
  readonly members?: Member[];
}

/** API.md as `npm run docgen` writes it from the package built in `dir` (the same command, another output file). */
function generateApiDoc(dir: string): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'api-md-'));
  try {
    const docgen = path.join(ROOT, 'node_modules', 'jsii-docgen', 'bin', 'jsii-docgen');
    const run = spawnSync(process.execPath, [docgen, '--output', path.join(out, 'API.md')], { cwd: dir, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`jsii-docgen failed: ${run.stderr}`);
    return fs.readFileSync(path.join(out, 'API.md'), 'utf8');
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The first line where the record and the regenerated text differ, for the failure message. */
function firstDifference(recorded: string, generated: string): string | undefined {
  const a = recorded.split('\n');
  const b = generated.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `API.md line ${i + 1}: recorded ${JSON.stringify(a[i])}, now ${JSON.stringify(b[i])}`;
  }
  return undefined;
}

/** A failure message naming the fix when the record is not what the assembly gives. */
function apiRecordProblem(recorded: string, generated: string): string | undefined {
  const difference = firstDifference(recorded, generated);
  return difference && `${STALE_RECORD} (${difference})`;
}

/** Every anchor jsii-docgen writes for a type and its public members, parameters included. */
function expectedAnchors(t: JsiiType): string[] {
  const params = (prefix: string, ps?: Array<{ readonly name: string }>) => (ps ?? []).map((p) => `${prefix}.parameter.${p.name}`);
  return [
    t.fqn,
    ...params(`${t.fqn}.Initializer`, t.initializer?.parameters),
    ...(t.properties ?? []).map((p) => `${t.fqn}.property.${p.name}`),
    ...(t.methods ?? []).flatMap((m) => [`${t.fqn}.${m.name}`, ...params(`${t.fqn}.${m.name}`, m.parameters)]),
    ...(t.members ?? []).map((m) => `${t.fqn}.${m.name}`),
  ];
}

const lib = path.join(ROOT, 'lib');
const sources = (fs.readdirSync(lib, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => path.join(lib, f));

let built: string;

beforeAll(() => {
  const assembly = path.join(ROOT, '.jsii');
  if (!fs.existsSync(assembly)) throw new Error('no jsii assembly (.jsii): run `npm run jsii` (npm test runs it before jest)');
  const builtAt = fs.statSync(assembly).mtimeMs;
  const newer = sources.filter((f) => fs.statSync(f).mtimeMs > builtAt);
  if (newer.length > 0) throw new Error(`.jsii is older than ${path.relative(ROOT, newer[0])}: run \`npm run jsii\` (npm test runs it before jest)`);
  built = copyOfBuiltPackage();
});

afterAll(() => {
  fs.rmSync(built, { recursive: true, force: true });
});

test('API.md is what jsii-docgen writes from the current assembly', () => {
  const generated = generateApiDoc(built);
  expect(apiRecordProblem(fs.readFileSync(RECORD, 'utf8'), generated)).toBeUndefined();
}, 120_000);

test('a change of the surface is reported with the command that records it', () => {
  const recorded = fs.readFileSync(RECORD, 'utf8');
  const changed = recorded.replace('| <code><a href="#cdk-session-tier.AppFleetProps.property.', '| <code><a href="#cdk-session-tier.AppFleetProps.property.renamed');
  expect(changed).not.toBe(recorded);
  expect(apiRecordProblem(recorded, changed)).toMatch(/^the public API changed: run `npm run docgen` and commit API\.md \(API\.md line \d+: recorded /);
  expect(apiRecordProblem(recorded, recorded)).toBeUndefined();
});

test('API.md documents every public type and member of the assembly, each with a summary', () => {
  const assembly = JSON.parse(fs.readFileSync(path.join(built, '.jsii'), 'utf8')) as { types: Record<string, JsiiType> };
  const recorded = fs.readFileSync(RECORD, 'utf8');
  const types = Object.values(assembly.types);
  expect(types.length).toBeGreaterThan(40);
  const missing = types.flatMap(expectedAnchors).filter((id) => !recorded.includes(` id="${id}"`));
  expect(missing).toEqual([]);
  const undocumented = types.flatMap((t) => [t, ...(t.properties ?? []), ...(t.methods ?? []), ...(t.members ?? [])]
    .filter((m) => !m.docs?.summary).map((m) => (m === t ? t.fqn : `${t.fqn}.${(m as Member).name}`)));
  expect(undocumented).toEqual([]);
});

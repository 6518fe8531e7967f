/**
 * The integration tests' snapshots, checked offline: what `integ-runner` does
 * without deploying (synthesize each test/integ.*.ts, compare the templates of
 * its stacks under test with the committed `<file>.snapshot` directory, asset
 * hashes ignored), done here because @aws-cdk/integ-runner 2.197.10, the
 * newest the npm registry offers, reads cloud assemblies up to schema 53 and
 * aws-cdk-lib 2.276 writes 55 (the schema gained only integ-manifest fields:
 * `allowDeleteFailures` and a `destructive` enum value). The snapshots keep
 * integ-runner's layout, so a release of it that reads schema 55 checks and
 * deploys them as they are.
 *
 * Refresh after an intended change (one line; a file name narrows it):
 *   npm run integ:snapshot [-- integ.blue-memory.ts]
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const TEST_DIR = path.resolve(__dirname, '..');

/** integ-runner's TypeScript file pattern, as integ.config.json gives it. */
const INTEG_FILE = /^integ\..*\.ts$/;

/** Asset hashes (64 hex digits) change with any asset's content; integ-runner leaves them out of the comparison unless told to diff assets. */
const ASSET_HASH = /[0-9a-f]{64}/g;

/** The command that refreshes a snapshot, for messages. */
export function refreshCommand(file?: string): string {
  return `npm run integ:snapshot${file ? ` -- ${path.basename(file)}` : ''}`;
}

/** The integration-test apps: test/integ.*.ts. */
export function integTestFiles(): string[] {
  return fs.readdirSync(TEST_DIR).filter((f) => INTEG_FILE.test(f)).sort().map((f) => path.join(TEST_DIR, f));
}

/** Where a test's snapshot lives, as integ-runner names it: beside the file, `<file>.snapshot`. */
export function snapshotDirOf(file: string): string {
  return `${file}.snapshot`;
}

/**
 * Synthesizes an integ app into `outdir` as integ-runner does: the app run by
 * itself (`node --import tsx <file>`, integ.config.json's `app`), without path
 * or asset metadata or version reporting, and without lookups. Rejects with the
 * app's output when it fails (a bad prop, an unacknowledged cdk-nag finding).
 */
function synthIntegApp(file: string, outdir: string): Promise<void> {
  const context = {
    'aws:cdk:enable-path-metadata': false, 'aws:cdk:enable-asset-metadata': false, 'aws:cdk:version-reporting': false,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: path.resolve(TEST_DIR, '..'),
      env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify(context) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0
      ? resolve()
      : reject(new Error(`${path.basename(file)}: synth failed (exit ${code}):\n${output.trim()}`))));
  });
}

/** The stacks under test of an assembly (integ.json's test cases; not the assertion stacks, which integ-runner does not compare). */
function stacksUnderTest(assemblyDir: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'integ.json'), 'utf8')) as { testCases: Record<string, { stacks: string[] }> };
  return [...new Set(Object.values(manifest.testCases).flatMap((c) => c.stacks))].sort();
}

function template(assemblyDir: string, stack: string): Record<string, unknown> {
  const text = fs.readFileSync(path.join(assemblyDir, `${stack}.template.json`), 'utf8');
  return JSON.parse(text.replace(ASSET_HASH, '[ASSET HASH]')) as Record<string, unknown>;
}

/** Paths below `at` where `a` and `b` differ, as `path: before -> after` lines. */
function differences(a: unknown, b: unknown, at: string): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) {
    return [];
  }
  const bothObjects = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) {
    return [`${at}: ${show(a)} -> ${show(b)}`];
  }
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])];
  return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : `${at}.${k}`));
}

function show(value: unknown): string {
  const text = value === undefined ? '(absent)' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** At most this many changed paths are listed per resource, so a large change stays readable. */
const MAX_PATHS = 8;

/** One template's changes, resource by resource (and output, parameter...), in integ-runner's [+] [-] [~] notation. */
function templateDrift(expected: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const sections = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
  for (const section of sections) {
    const before = (expected[section] ?? {}) as Record<string, unknown>;
    const after = (actual[section] ?? {}) as Record<string, unknown>;
    if (typeof before !== 'object' || typeof after !== 'object') {
      lines.push(...differences(before, after, section).map((d) => `[~] ${d}`));
      continue;
    }
    for (const id of [...new Set([...Object.keys(before), ...Object.keys(after)])]) {
      const type = (x: unknown) => (section === 'Resources' ? `${(x as { Type: string }).Type} ` : `${section.replace(/s$/, '')} `);
      if (!(id in before)) {
        lines.push(`[+] ${type(after[id])}${id}`);
      } else if (!(id in after)) {
        lines.push(`[-] ${type(before[id])}${id}`);
      } else {
        const paths = differences(before[id], after[id], '');
        if (paths.length > 0) {
          lines.push(`[~] ${type(after[id])}${id}`, ...paths.slice(0, MAX_PATHS).map((p) => `    ${p.slice(1)}`));
          if (paths.length > MAX_PATHS) {
            lines.push(`    ... and ${paths.length - MAX_PATHS} more`);
          }
        }
      }
    }
  }
  return lines;
}

/**
 * How the assembly in `actualDir` differs from the snapshot in `snapshotDir`:
 * empty when they match; otherwise a readable report that ends with the
 * command that refreshes the snapshot.
 */
export function snapshotDrift(file: string, snapshotDir: string, actualDir: string): string {
  const name = path.basename(file, '.ts');
  if (!fs.existsSync(path.join(snapshotDir, 'integ.json'))) {
    return `${name}: no snapshot at ${path.relative(process.cwd(), snapshotDir)}; create it with: ${refreshCommand(file)}`;
  }
  const expectedStacks = stacksUnderTest(snapshotDir);
  const actualStacks = stacksUnderTest(actualDir);
  const lines: string[] = [];
  for (const stack of [...new Set([...expectedStacks, ...actualStacks])].sort()) {
    if (!actualStacks.includes(stack)) {
      lines.push(`${stack}: in the snapshot, but the app no longer has it`);
    } else if (!expectedStacks.includes(stack)) {
      lines.push(`${stack}: new, not in the snapshot`);
    } else {
      const drift = templateDrift(template(snapshotDir, stack), template(actualDir, stack));
      if (drift.length > 0) {
        lines.push(`${stack}:`, ...drift.map((l) => `  ${l}`));
      }
    }
  }
  if (lines.length === 0) {
    return '';
  }
  return [
    `${name}: the synthesized stacks differ from the snapshot ${path.relative(process.cwd(), snapshotDir)}`,
    ...lines,
    `If the change is intended, refresh the snapshot: ${refreshCommand(file)}`,
    'and, with an AWS account, deploy it for real (README, "Integration tests").',
  ].join('\n');
}

/** A stack's metadata without stack traces, which name this machine's paths (integ-runner cleans its snapshots' metadata too). */
function withoutTraces(text: string): string {
  const metadata = JSON.parse(text) as Record<string, Array<{ type: string; trace?: unknown }>>;
  const clean = Object.fromEntries(Object.entries(metadata).map(([p, entries]) => [p,
    entries.filter((e) => e.type !== 'aws:cdk:creationStack').map(({ trace: _trace, ...entry }) => entry)]));
  return `${JSON.stringify(clean, undefined, 1)}\n`;
}

/**
 * Writes the assembly in `assemblyDir` as the snapshot, the way integ-runner
 * keeps one for tests without the update workflow: the manifest, integ.json,
 * the tree, the templates and the stacks' metadata (without stack traces); not
 * the assets (the sample app and Lambda bundles) nor the validation report.
 */
export function writeSnapshot(assemblyDir: string, snapshotDir: string): void {
  fs.rmSync(snapshotDir, { recursive: true, force: true });
  fs.mkdirSync(snapshotDir, { recursive: true });
  for (const entry of fs.readdirSync(assemblyDir)) {
    const from = path.join(assemblyDir, entry);
    if (entry.endsWith('.metadata.json')) {
      fs.writeFileSync(path.join(snapshotDir, entry), withoutTraces(fs.readFileSync(from, 'utf8')));
    } else if (!entry.startsWith('asset.') && entry !== '.cache' && entry !== 'validation-report.json') {
      fs.cpSync(from, path.join(snapshotDir, entry), { recursive: true });
    }
  }
}

/** Synthesizes `files` (all integ apps by default) into fresh temporary directories, two at a time. */
export async function synthAll(files: string[] = integTestFiles()): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const queue = [...files];
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${path.basename(file, '.ts')}-`));
      await synthIntegApp(file, dir);
      out.set(file, dir);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

/** `npm run integ:snapshot [-- <file>...]`: synthesizes and writes the snapshots. */
async function main(args: string[]): Promise<void> {
  const files = args.length > 0 ? args.map((a) => path.join(TEST_DIR, path.basename(a))) : integTestFiles();
  const unknown = files.filter((f) => !integTestFiles().includes(f));
  if (unknown.length > 0) {
    throw new Error(`no such integration test: ${unknown.map((f) => path.basename(f)).join(', ')}; the tests are ${integTestFiles().map((f) => path.basename(f)).join(', ')}`);
  }
  for (const [file, dir] of await synthAll(files)) {
    writeSnapshot(dir, snapshotDirOf(file));
    fs.rmSync(dir, { recursive: true, force: true });
    console.log(`wrote ${path.relative(process.cwd(), snapshotDirOf(file))}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}

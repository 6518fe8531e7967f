/**
 * Every TypeScript block of README.md is a complete file a user can copy: each
 * is written to a project of its own and type-checked, strict, against this
 * package (`cdk-session-tier` resolves to its declarations), with aws-cdk-lib
 * and constructs as a consumer has them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');

/** The ```ts blocks of a Markdown text, with the line each starts on. */
export function typescriptBlocks(markdown: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '```ts') {
      const start = i + 1;
      let end = start;
      while (end < lines.length && lines[end].trim() !== '```') end++;
      blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
      i = end;
    }
  }
  return blocks;
}

/**
 * Where a block goes in the project: the path its first line names
 * (`// lib/shop-tier-stack.ts`), so that another block can import it as a
 * user's test imports the user's stack; else `readme-line-<n>.ts`.
 */
export function blockFile(block: { line: number; code: string }): string {
  const named = /^\/\/ ((?:[\w-]+\/)*[\w.-]+\.ts)$/.exec(block.code.split('\n', 1)[0]);
  return named ? named[1] : `readme-line-${block.line}.ts`;
}

/**
 * A project of the blocks, one module each (`readme-line-<n>.ts`, or the path its first line names), with
 * aws-cdk-lib, constructs and @types/node as a consumer's project has them,
 * `cdk-session-tier` resolving to this package, and the application
 * directories the examples ship (`./app`, `./php-app`).
 */
function project(blocks: Array<{ line: number; code: string }>): { dir: string; files: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-'));
  const files = blocks.map((b) => {
    const file = path.join(dir, blockFile(b));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, b.code);
    return file;
  });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'node-app'), path.join(dir, 'app'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'test', 'fixtures', 'php-app'), path.join(dir, 'php-app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
      paths: { 'cdk-session-tier': [path.join(ROOT, 'lib', 'index.ts')] },
    },
    files,
  }));
  return { dir, files };
}

/** Type-checks each block as its own module; returns tsc's diagnostics, per block line. */
function typeCheck(blocks: Array<{ line: number; code: string }>): string[] {
  const { dir } = project(blocks);
  try {
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    return (result.stdout + result.stderr).split('\n').filter((l) => /error TS/.test(l)).map((l) => l.replace(dir + path.sep, ''));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Runs each block as a program, as `cdk synth` runs an app (CDK_OUTDIR set, so
 * the App synthesizes when the program ends); returns what failed, per block.
 */
async function synthesize(blocks: Array<{ line: number; code: string }>): Promise<string[]> {
  const { dir, files } = project(blocks);
  const run = (file: string) => new Promise<string | undefined>((resolve) => {
    const out = path.join(dir, `cdk.out-${path.basename(file, '.ts')}`);
    const child = require('child_process').spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: dir, env: { ...process.env, CDK_OUTDIR: out, CDK_DEFAULT_REGION: 'eu-west-1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    child.on('exit', (code: number) => {
      // An example without an App (a value class's) only has to run.
      const synthesized = !/new App\(/.test(fs.readFileSync(file, 'utf8')) || (fs.existsSync(out) && fs.readdirSync(out).some((f) => f.endsWith('.template.json')));
      resolve(code === 0 && synthesized ? undefined : `${path.relative(dir, file)}: exit ${code}, ${synthesized ? '' : 'no template, '}${output.slice(-2000)}`);
    });
  });
  try {
    const failures: string[] = [];
    // Two at a time: each is a synth.
    for (let i = 0; i < files.length; i += 2) {
      failures.push(...(await Promise.all(files.slice(i, i + 2).map(run))).filter((f): f is string => f !== undefined));
    }
    return failures;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const blocks = typescriptBlocks(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'));

test('README.md has TypeScript examples, each a complete file that imports what it uses', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(10);
  for (const b of blocks) {
    expect({ line: b.line, imports: /^import .* from 'cdk-session-tier';$/m.test(b.code) }).toEqual({ line: b.line, imports: true });
    // As cdk init does: the services' entry points, never the aws-cdk-lib root.
    expect({ line: b.line, root: /from 'aws-cdk-lib';/.test(b.code) }).toEqual({ line: b.line, root: false });
  }
});

test('every TypeScript example of README.md compiles against the package', () => {
  expect(typeCheck(blocks)).toEqual([]);
}, 120_000);

test('every TypeScript example of README.md synthesizes: no construct refuses its props', async () => {
  expect(await synthesize(blocks)).toEqual([]);
}, 600_000);

test('a block whose first line names a file is written there, so another block imports it as a user\'s test imports the stack', () => {
  expect(blockFile({ line: 3, code: '// lib/shop-tier-stack.ts\nexport class A {}' })).toBe('lib/shop-tier-stack.ts');
  expect(blockFile({ line: 3, code: '// not a file name\nexport class A {}' })).toBe('readme-line-3.ts');
  expect(blockFile({ line: 3, code: '// ../outside.ts' })).toBe('readme-line-3.ts');
  const named = blocks.filter((b) => blockFile(b) !== `readme-line-${b.line}.ts`).map(blockFile);
  expect(new Set(named).size).toBe(named.length);
});

test('the check catches an example that uses a name it never declares (the README\'s old first example)', () => {
  const broken = {
    line: 1,
    code: [
      "import { App, Stack } from 'aws-cdk-lib/core';",
      "import { SessionTier } from 'cdk-session-tier';",
      "new SessionTier(new Stack(new App(), 'S'), 'Tier', { gateAlarms: [green5xxAlarm] });",
    ].join('\n'),
  };
  expect(typeCheck([broken]).join('\n')).toMatch(/readme-line-1\.ts\(3,\d+\): error TS2304: Cannot find name 'green5xxAlarm'/);
}, 120_000);

test('the synth check catches an example whose props a construct refuses', async () => {
  const broken = {
    line: 2,
    code: [
      "import { App, Duration, Stack } from 'aws-cdk-lib/core';",
      "import { Stickiness } from 'cdk-session-tier';",
      "new Stack(new App(), 'S');",
      'Stickiness.loadBalancerCookie(Duration.days(8));',
    ].join('\n'),
  };
  expect((await synthesize([broken])).join('\n')).toMatch(/readme-line-2\.ts: exit 1[\s\S]*604800 s\), got 8 days/);
}, 120_000);

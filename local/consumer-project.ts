/**
 * A project of another team, as `cdk init app --language typescript` writes
 * it (its tsconfig.json, cdk.json with the recommended feature flags, bin/
 * and lib/), with only the peers installed from npm's cache, offline, as a
 * lock file pins them; then, if asked, this package's tarball installed into
 * it. The package test asserts on what the install did; the benchmark times
 * the project's synth with and without the library.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const LOCK = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
const INIT = path.join(ROOT, 'node_modules', 'aws-cdk', 'lib', 'init-templates');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** The aws-cdk-lib range `cdk init` writes into a new project, from the installed CLI's own record; our peer range starts at the same version. */
export const INIT_VERSIONS = JSON.parse(fs.readFileSync(path.join(INIT, '.init-version.json'), 'utf8')) as Record<string, string>;

/** Which of our lock entries gives the project its aws-cdk-lib: the one we develop on, or the lowest of the peer range. */
export type CdkLibEntry = 'node_modules/aws-cdk-lib' | 'node_modules/aws-cdk-lib-lowest';

/** A project made by {@link initProject}. */
export interface ConsumerProject {
  readonly name: string;
  readonly dir: string;
  /** What `npm ci` printed. */
  readonly npmOutput: string;
  /** Every package installed, by path, before the library. */
  readonly packages: string[];
}

/** The packed library. */
export interface PackedLibrary {
  readonly tarball: string;
  /** The files in the tarball, by path. */
  readonly files: string[];
}

/** A stack of the consumer's that uses the library as the README shows it. */
const CONSUMER_STACK = `import { Duration, Stack, StackProps } from 'aws-cdk-lib/core';
import { Construct } from 'constructs';
import { FleetColor, SessionStrategy, SessionTier, ShiftPlan, Stickiness } from 'cdk-session-tier';

export class ConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    new SessionTier(this, 'Web', {
      blue: { strategy: SessionStrategy.cookie(), stickiness: Stickiness.loadBalancerCookie(Duration.hours(12)) },
      green: { strategy: SessionStrategy.redis(), version: 'v2' },
      targetColor: FleetColor.GREEN,
      shiftPlan: ShiftPlan.canary(25, Duration.minutes(5)),
    });
  }
}
`;

/** The same stack without the library: what `cdk init app` writes. */
const EMPTY_STACK = `import { Stack, StackProps } from 'aws-cdk-lib/core';
import { Construct } from 'constructs';

export class ConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
  }
}
`;

const CONSUMER_APP = `#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib/core';
import { ConsumerStack } from '../lib/consumer-stack';

const app = new cdk.App();
new ConsumerStack(app, 'Consumer', { env: { region: 'eu-west-1' } });
`;

/** `npm pack` of this package into `work`. The package must be built (`npm run build`). */
export function packLibrary(work: string): PackedLibrary {
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  return { tarball: path.join(work, packed[0].filename), files: packed[0].files.map((f: { path: string }) => f.path) };
}

/**
 * The lock entries of a package of ours and everything it depends on, as a
 * consumer's lock file carries them (an alias under the package's own name),
 * each pinned by its integrity.
 */
function lockEntries(key: string, as: string): Record<string, Record<string, unknown>> {
  const entries: Record<string, Record<string, unknown>> = {};
  const add = (from: string, to: string) => {
    if (entries[to]) return;
    const { dev: _dev, name: _alias, ...entry } = LOCK.packages[from];
    entries[to] = entry;
    for (const dep of Object.keys({ ...entry.dependencies as object, ...entry.optionalDependencies as object })) {
      // Node's resolution: the nearest node_modules up from the dependent.
      let at = from;
      while (!LOCK.packages[`${at}/node_modules/${dep}`] && at.includes('/node_modules/')) at = at.slice(0, at.lastIndexOf('/node_modules/'));
      const found = LOCK.packages[`${at}/node_modules/${dep}`] ? `${at}/node_modules/${dep}` : `node_modules/${dep}`;
      add(found, found.startsWith(key) ? as + found.slice(key.length) : found);
    }
  };
  add(key, as);
  return entries;
}

/**
 * A project like `cdk init app` writes, in `work/name`, with aws-cdk-lib from
 * our lock entry `cdkLib`, installed offline, and the empty stack. Its
 * `cdk.json` runs the type check and the app as `cdk init`'s does, with our
 * TypeScript and tsx (a consumer's come with its dev dependencies, which are
 * not installed here).
 */
export function initProject(work: string, name: string, cdkLib: CdkLibEntry): ConsumerProject {
  const dir = path.join(work, name);
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'lib'));
  const deps = { 'aws-cdk-lib': LOCK.packages[cdkLib].version, constructs: LOCK.packages['node_modules/constructs'].version };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '0.1.0', bin: { [name]: `bin/${name}.js` }, dependencies: deps }, null, 2));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({
    name, version: '0.1.0', lockfileVersion: 3, requires: true,
    packages: {
      '': { name, version: '0.1.0', dependencies: deps },
      ...lockEntries(cdkLib, 'node_modules/aws-cdk-lib'),
      ...lockEntries('node_modules/constructs', 'node_modules/constructs'),
    },
  }, null, 2));
  const tsconfig = JSON.parse(fs.readFileSync(path.join(INIT, 'app', 'typescript', 'tsconfig.json'), 'utf8'));
  tsconfig.compilerOptions.typeRoots = [path.join(ROOT, 'node_modules', '@types')];
  tsconfig.compilerOptions.types = ['node'];
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const flags = JSON.parse(fs.readFileSync(path.join(INIT, '.recommended-feature-flags.json'), 'utf8'));
  const app = `node ${JSON.stringify(TSC)} && node ${JSON.stringify(TSX)} bin/${name}.ts`;
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app, context: flags }, null, 2));
  fs.writeFileSync(path.join(dir, 'lib', 'consumer-stack.ts'), EMPTY_STACK);
  fs.writeFileSync(path.join(dir, 'bin', `${name}.ts`), CONSUMER_APP);
  const npmOutput = npm(dir, ['ci', '--offline', '--no-audit', '--no-fund']);
  return { name, dir, npmOutput, packages: installed(dir) };
}

/** Installs the tarball into the project and writes the stack that uses it; returns what npm said and the packages it added. */
export function installLibrary(project: ConsumerProject, library: PackedLibrary): { npmOutput: string; added: string[] } {
  const npmOutput = npm(project.dir, ['install', '--offline', '--no-audit', '--no-fund', library.tarball]);
  fs.writeFileSync(path.join(project.dir, 'lib', 'consumer-stack.ts'), CONSUMER_STACK);
  return { npmOutput, added: installed(project.dir).filter((p) => !project.packages.includes(p)) };
}

/**
 * What `cdk synth` does with the app, without the CLI: the type check, then
 * the app with the CLI's environment, no AWS credentials. Returns the
 * template and the output directory.
 */
export function synthProject(project: ConsumerProject): { template: Record<string, unknown>; out: string } {
  const { dir, name } = project;
  const out = path.join(dir, 'cdk.out');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, CDK_OUTDIR: out, AWS_EC2_METADATA_DISABLED: 'true' };
  env.CDK_CONTEXT_JSON = JSON.stringify(JSON.parse(fs.readFileSync(path.join(dir, 'cdk.json'), 'utf8')).context);
  const tsc = spawnSync(process.execPath, [TSC, '-p', dir], { cwd: dir, encoding: 'utf8', env });
  if (tsc.status !== 0) {
    throw new Error(`the project does not type-check:\n${tsc.stdout}${tsc.stderr}`);
  }
  const app = spawnSync(process.execPath, [TSX, `bin/${name}.ts`], { cwd: dir, encoding: 'utf8', env });
  if (app.status !== 0) {
    throw new Error(`the app failed:\n${app.stdout}${app.stderr}`);
  }
  return { template: JSON.parse(fs.readFileSync(path.join(out, 'Consumer.template.json'), 'utf8')), out };
}

/** Runs a file of TypeScript in the project, as the consumer would with tsx. */
export function runInProject(project: ConsumerProject, file: string): { status: number | null; stderr: string } {
  const run = spawnSync(process.execPath, [TSX, file], { cwd: project.dir, encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr };
}

function npm(cwd: string, args: string[]): string {
  const run = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
  if (run.status !== 0) {
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${run.stdout}${run.stderr}`);
  }
  return run.stdout + run.stderr;
}

/** Every package installed in the project, by path. */
function installed(dir: string): string[] {
  return Object.keys(JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', '.package-lock.json'), 'utf8')).packages).sort();
}

/**
 * The package as another team installs it: `npm pack`, then a fresh project
 * shaped like `cdk init app --language typescript` (its package.json,
 * tsconfig.json, cdk.json with the recommended feature flags, bin/ and lib/)
 * with only the peers installed, from npm's cache and offline, as a lock
 * file pins them. The tarball is installed with npm, offline: nothing beyond
 * the peers may be added and npm may warn of nothing. Then the project
 * type-checks and synthesizes, with no credentials, as `cdk synth` runs it;
 * twice from two installs, giving the same template; and once more on the
 * oldest aws-cdk-lib the peer range admits, the one today's `cdk init` writes.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const LOCK = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
const INIT = path.join(ROOT, 'node_modules', 'aws-cdk', 'lib', 'init-templates');
/** The aws-cdk-lib `cdk init` writes today (the CLI's own record), and the lowest the peer range takes. */
const INIT_VERSIONS = JSON.parse(fs.readFileSync(path.join(INIT, '.init-version.json'), 'utf8')) as Record<string, string>;

let work: string;
let tarball: string;
let files: string[];

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

/** A project like `cdk init app` writes, with aws-cdk-lib from our lock entry `cdkLib`, installed offline. */
function initProject(name: string, cdkLib: 'node_modules/aws-cdk-lib' | 'node_modules/aws-cdk-lib-lowest'): { dir: string; npmOutput: string; packages: string[] } {
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
  // The project's @types come with its dev dependencies, which this test does not install: ours stand in.
  tsconfig.compilerOptions.typeRoots = [path.join(ROOT, 'node_modules', '@types')];
  tsconfig.compilerOptions.types = ['node'];
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  const flags = JSON.parse(fs.readFileSync(path.join(INIT, '.recommended-feature-flags.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: `npx tsc && npx tsx bin/${name}.ts`, context: flags }, null, 2));
  const npmOutput = npm(dir, ['ci', '--offline', '--no-audit', '--no-fund']);
  return { dir, npmOutput, packages: installed(dir) };
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

const CONSUMER_STACK = `import { Duration, Stack, StackProps } from 'aws-cdk-lib/core';
import { Construct } from 'constructs';
import { SessionStrategy, SessionTier, ShiftPlan, Stickiness } from 'cdk-session-tier';

export class ConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    new SessionTier(this, 'Web', {
      blue: { strategy: SessionStrategy.cookie(), stickiness: Stickiness.loadBalancerCookie(Duration.hours(12)) },
      green: { strategy: SessionStrategy.redis(), version: 'v2' },
      targetColor: 'green',
      shiftPlan: ShiftPlan.canary(25, Duration.minutes(5)),
    });
  }
}
`;
const CONSUMER_APP = `#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib/core';
import { ConsumerStack } from '../lib/consumer-stack';

const app = new cdk.App();
new ConsumerStack(app, 'Consumer', { env: { region: 'eu-west-1' } });
`;

/** Installs the tarball into the project and writes the app; returns what npm said and the packages it added. */
function installPackage(project: { dir: string; packages: string[] }, name: string): { npmOutput: string; added: string[] } {
  const npmOutput = npm(project.dir, ['install', '--offline', '--no-audit', '--no-fund', tarball]);
  fs.writeFileSync(path.join(project.dir, 'lib', 'consumer-stack.ts'), CONSUMER_STACK);
  fs.writeFileSync(path.join(project.dir, 'bin', `${name}.ts`), CONSUMER_APP);
  return { npmOutput, added: installed(project.dir).filter((p) => !project.packages.includes(p)) };
}

/** What `cdk synth` does with the app: the type check, then the app with the CLI's environment; no AWS credentials. */
function synth(dir: string, name: string): { template: Record<string, unknown>; out: string } {
  const out = path.join(dir, 'cdk.out');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, CDK_OUTDIR: out, AWS_EC2_METADATA_DISABLED: 'true' };
  env.CDK_CONTEXT_JSON = JSON.stringify(JSON.parse(fs.readFileSync(path.join(dir, 'cdk.json'), 'utf8')).context);
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir, encoding: 'utf8', env });
  if (tsc.status !== 0) {
    throw new Error(`the project does not type-check:\n${tsc.stdout}${tsc.stderr}`);
  }
  const app = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), `bin/${name}.ts`], { cwd: dir, encoding: 'utf8', env });
  if (app.status !== 0) {
    throw new Error(`the app failed:\n${app.stdout}${app.stderr}`);
  }
  return { template: JSON.parse(fs.readFileSync(path.join(out, 'Consumer.template.json'), 'utf8')), out };
}

let first: { project: ReturnType<typeof initProject>; install: ReturnType<typeof installPackage>; synth: ReturnType<typeof synth> };

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  files = packed[0].files.map((f: { path: string }) => f.path);
  tarball = path.join(work, packed[0].filename);
  const project = initProject('consumer', 'node_modules/aws-cdk-lib');
  const install = installPackage(project, 'consumer');
  first = { project, install, synth: synth(project.dir, 'consumer') };
}, 300_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('the package ships the compiled library, its types, the prebuilt bundles and the license; no sources, tests or maps', () => {
  expect(files).toEqual(expect.arrayContaining([
    'package.json', 'LICENSE', 'README.md', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/session-tier.d.ts',
    'dist/assets/sample-app/server.js', 'dist/assets/traffic-shifter/index.js',
  ]));
  expect(files.filter((f) => /^(test|bin|lib|lambda|sample-app|lab|bench)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
});

test('no shipped file names a file the package does not ship (source maps)', () => {
  const unpacked = path.join(first.project.dir, 'node_modules', 'cdk-session-tier');
  const dangling = files.filter((f) => /\.js$/.test(f)).flatMap((f) => {
    const m = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(fs.readFileSync(path.join(unpacked, f), 'utf8'));
    return m && !m[1].startsWith('data:') && !files.includes(path.posix.join(path.posix.dirname(f), m[1])) ? [`${f} -> ${m[1]}`] : [];
  });
  expect(dangling).toEqual([]);
});

test('the package depends on nothing but its peers, aws-cdk-lib and constructs', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(manifest.dependencies ?? {}).toEqual({});
  expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
  // At least what today's cdk init writes.
  expect(manifest.peerDependencies['aws-cdk-lib']).toBe(INIT_VERSIONS['aws-cdk-lib']);
  expect(LOCK.packages['node_modules/aws-cdk-lib-lowest'].version).toBe(INIT_VERSIONS['aws-cdk-lib'].replace(/^\^/, ''));
});

test('installing it adds the package and nothing else, and npm warns of nothing', () => {
  expect(first.install.added).toEqual(['node_modules/cdk-session-tier']);
  expect(first.project.npmOutput + first.install.npmOutput).not.toMatch(/npm warn|npm WARN/);
});

test('the project synthesizes offline, without credentials, from the prebuilt bundles as they are', () => {
  const types = Object.values(first.synth.template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
  expect(types.filter((t) => t === 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(2);
  expect(JSON.stringify(first.synth.template)).toContain('"Plan":"canary:25:300"');
  const out = first.synth.out;
  const prebuilt = (name: string, file: string) => fs.readFileSync(path.join(first.project.dir, 'node_modules', 'cdk-session-tier', 'dist', 'assets', name, file));
  const appAssets = fs.readdirSync(out).filter((f) => /^asset\.[0-9a-f]{64}\.js$/.test(f));
  expect(appAssets).toHaveLength(1);
  expect(fs.readFileSync(path.join(out, appAssets[0]))).toEqual(prebuilt('sample-app', 'server.js'));
  // Directory assets with an index.js: the traffic shifter's, and aws-cdk-lib's own handler that empties the default security group.
  const shifter = prebuilt('traffic-shifter', 'index.js');
  const handlers = fs.readdirSync(out).filter((f) => fs.existsSync(path.join(out, f, 'index.js')));
  expect(handlers.filter((f) => fs.readFileSync(path.join(out, f, 'index.js')).equals(shifter))).toHaveLength(1);
  // No cache, no esbuild: the consumer's synth only copies.
  expect(fs.existsSync(path.join(first.project.dir, 'node_modules', '.cache', 'cdk-session-tier'))).toBe(false);
  expect(fs.existsSync(path.join(first.project.dir, 'node_modules', 'esbuild'))).toBe(false);
});

test('a second install in a fresh project gives the same template, asset hashes included', () => {
  const project = initProject('consumer2', 'node_modules/aws-cdk-lib');
  installPackage(project, 'consumer2');
  expect(synth(project.dir, 'consumer2').template).toEqual(first.synth.template);
}, 300_000);

test('it works on the oldest aws-cdk-lib of its peer range, the one today\'s cdk init writes', () => {
  const project = initProject('consumer3', 'node_modules/aws-cdk-lib-lowest');
  expect(JSON.parse(fs.readFileSync(path.join(project.dir, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version)
    .toBe(INIT_VERSIONS['aws-cdk-lib'].replace(/^\^/, ''));
  const install = installPackage(project, 'consumer3');
  expect(install.added).toEqual(['node_modules/cdk-session-tier']);
  expect(install.npmOutput).not.toMatch(/npm warn|npm WARN/);
  const { template } = synth(project.dir, 'consumer3');
  expect(Object.keys(template.Resources as object).sort()).toEqual(Object.keys(first.synth.template.Resources as object).sort());
}, 300_000);

test('the package refuses bad props with the same errors, as one message', () => {
  fs.writeFileSync(path.join(first.project.dir, 'bad.ts'), `
    import { Duration } from 'aws-cdk-lib/core';
    import { Stickiness } from 'cdk-session-tier';
    Stickiness.loadBalancerCookie(Duration.days(8));
  `);
  const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bad.ts'], { cwd: first.project.dir, encoding: 'utf8' });
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/stickiness: duration must be whole seconds from 1 s to 7 days \(604800 s\), got 8 days/);
});

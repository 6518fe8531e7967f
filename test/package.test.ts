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
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PACKAGE_BUNDLES } from '../lib/private/esbuild-bundle';
import {
  ConsumerProject, INIT_VERSIONS, PackedLibrary, initProject, installLibrary, packLibrary, runInProject, synthProject,
} from '../local/consumer-project';

const ROOT = path.join(__dirname, '..');
const LOCK = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));

let work: string;
let library: PackedLibrary;
let files: string[];

let first: { project: ConsumerProject; install: ReturnType<typeof installLibrary>; synth: ReturnType<typeof synthProject> };

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
  library = packLibrary(work);
  files = library.files;
  const project = initProject(work, 'consumer', 'node_modules/aws-cdk-lib');
  const install = installLibrary(project, library);
  first = { project, install, synth: synthProject(project) };
}, 300_000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('the package ships the compiled library, its types, the jsii assembly, the API reference, the changelog, the prebuilt bundles and the license; no sources, tests or maps', () => {
  expect(files).toEqual(expect.arrayContaining([
    'package.json', 'LICENSE', 'README.md', '.jsii', 'API.md', 'CHANGELOG.md', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/session-tier.d.ts',
    ...PACKAGE_BUNDLES.map((b) => `dist/assets/${b.name}/${b.fileName}`),
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

test('the command runs from the installed package as its bin, with nothing but Node.js: npx cdk-session-tier status', () => {
  const bin = path.join(first.project.dir, 'node_modules', '.bin', 'cdk-session-tier');
  const help = spawnSync(bin, ['status', '--help'], { encoding: 'utf8' });
  expect({ status: help.status, stderr: help.stderr }).toEqual({ status: 0, stderr: '' });
  expect(help.stdout).toMatch(/^Usage: cdk-session-tier status \(--rule-arn ARN/);
  const usage = spawnSync(bin, ['status'], { encoding: 'utf8' });
  expect({ status: usage.status, first: usage.stderr.split('\n')[0] })
    .toEqual({ status: 2, first: 'cdk-session-tier: which release: give --rule-arn, --listener-arn or --stack' });
});

test('a second install in a fresh project gives the same template, asset hashes included', () => {
  const project = initProject(work, 'consumer2', 'node_modules/aws-cdk-lib');
  installLibrary(project, library);
  expect(synthProject(project).template).toEqual(first.synth.template);
}, 300_000);

test('it works on the oldest aws-cdk-lib of its peer range, the one today\'s cdk init writes', () => {
  const project = initProject(work, 'consumer3', 'node_modules/aws-cdk-lib-lowest');
  expect(JSON.parse(fs.readFileSync(path.join(project.dir, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version)
    .toBe(INIT_VERSIONS['aws-cdk-lib'].replace(/^\^/, ''));
  const install = installLibrary(project, library);
  expect(install.added).toEqual(['node_modules/cdk-session-tier']);
  expect(install.npmOutput).not.toMatch(/npm warn|npm WARN/);
  const { template } = synthProject(project);
  expect(Object.keys(template.Resources as object).sort()).toEqual(Object.keys(first.synth.template.Resources as object).sort());
}, 300_000);

test('the package refuses bad props with the same errors, as one message', () => {
  fs.writeFileSync(path.join(first.project.dir, 'bad.ts'), `
    import { Duration } from 'aws-cdk-lib/core';
    import { Stickiness } from 'cdk-session-tier';
    Stickiness.loadBalancerCookie(Duration.days(8));
  `);
  const run = runInProject(first.project, 'bad.ts');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/stickiness: duration must be whole seconds from 1 s to 7 days \(604800 s\), got 8 days/);
});

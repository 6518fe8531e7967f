/**
 * Imports the constructs from the packed npm package into a fresh project, as
 * another team would: `npm pack`, unpack into the project's node_modules next
 * to its own aws-cdk-lib, build a stack in plain JavaScript and synthesize it.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
// What a consumer installs next to us: the peer dependencies and our own dependencies.
const PACKAGE = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const LINKED = Object.keys({ ...PACKAGE.peerDependencies, ...PACKAGE.dependencies });

let project: string;
let files: string[];

beforeAll(() => {
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'consumer-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', project], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  files = packed[0].files.map((f: { path: string }) => f.path);
  const target = path.join(project, 'node_modules', 'cdk-session-tier');
  fs.mkdirSync(target, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(project, packed[0].filename), '-C', target, '--strip-components=1']);
  for (const dep of LINKED) {
    fs.mkdirSync(path.dirname(path.join(project, 'node_modules', dep)), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(project, 'node_modules', dep), 'dir');
  }
  // No lock file and no esbuild on the PATH: the bundles are made by the esbuild this package depends on.
}, 120_000);

afterAll(() => {
  fs.rmSync(project, { recursive: true, force: true });
});

test('the package ships the compiled library, its types and the sample app source, and no tests', () => {
  expect(files).toEqual(expect.arrayContaining([
    'package.json', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/session-tier.d.ts',
    'dist/lib/private/sample-app-asset.js', 'sample-app/src/main.ts', 'lib/contract/app-env.ts',
    'lambda/traffic-shifter/index.ts', 'lib/contract/traffic-shift.ts',
  ]));
  expect(files.filter((f) => f.startsWith('test/') || f.startsWith('bin/') || f.endsWith('.test.ts'))).toEqual([]);
});

test('a fresh project builds and synthesizes a SessionTier from the package', () => {
  fs.writeFileSync(path.join(project, 'app.js'), `
    const { App, Stack, Duration } = require('aws-cdk-lib');
    const { SessionTier, SessionStrategy, ShiftPlan, Stickiness } = require('cdk-session-tier');
    const app = new App({ outdir: 'cdk.out' });
    const stack = new Stack(app, 'Consumer', { env: { region: 'eu-west-1' } });
    new SessionTier(stack, 'Web', {
      blue: { strategy: SessionStrategy.cookie(), stickiness: Stickiness.loadBalancerCookie(Duration.hours(12)) },
      green: { strategy: SessionStrategy.cookie(), version: 'v2' },
      targetColor: 'green',
      shiftPlan: ShiftPlan.canary(25, Duration.minutes(5)),
    });
    app.synth();
  `);
  execFileSync('node', ['app.js'], { cwd: project, stdio: 'pipe' });
  const template = JSON.parse(fs.readFileSync(path.join(project, 'cdk.out', 'Consumer.template.json'), 'utf8'));
  const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
  expect(types.filter((t) => t === 'AWS::AutoScaling::AutoScalingGroup')).toHaveLength(2);
  expect(JSON.stringify(template)).toContain('"Plan":"canary:25:300"');
  // The sample app and the traffic shifter were bundled from the package's own source by the local esbuild.
  const out = path.join(project, 'cdk.out');
  const bundles = fs.readdirSync(out).filter((f) => /^asset\.[0-9a-f]{64}\.js$/.test(f));
  expect(bundles).toHaveLength(1);
  expect(fs.statSync(path.join(out, bundles[0])).size).toBeGreaterThan(0);
  const handlers = fs.readdirSync(out).filter((f) => fs.existsSync(path.join(out, f, 'index.js')));
  expect(handlers).toHaveLength(1);
  expect(fs.readFileSync(path.join(out, handlers[0], 'index.js'), 'utf8')).toContain('cdk-session-tier:weights');
}, 120_000);

test('a second synth in the project takes both bundles from its node_modules/.cache, unchanged', () => {
  // Runs after the synth above, which filled the cache.
  const cache = path.join(project, 'node_modules', '.cache', 'cdk-session-tier');
  const manifests = fs.readdirSync(cache).filter((f) => f.endsWith('.json'));
  expect(manifests).toHaveLength(2); // the sample app and the traffic shifter
  const written = manifests.map((f) => fs.statSync(path.join(cache, f)).mtimeMs);
  const assets = (dir: string) => fs.readdirSync(path.join(project, dir)).filter((f) => f.startsWith('asset.')).sort();
  const first = assets('cdk.out');
  fs.rmSync(path.join(project, 'cdk.out'), { recursive: true });
  execFileSync('node', ['app.js'], { cwd: project, stdio: 'pipe' });
  // A build would have rewritten its manifest; the assets, named by their content, are the same.
  expect(manifests.map((f) => fs.statSync(path.join(cache, f)).mtimeMs)).toEqual(written);
  expect(assets('cdk.out')).toEqual(first);
}, 120_000);

test('the package refuses bad props with the same errors', () => {
  fs.writeFileSync(path.join(project, 'bad.js'), `
    const { Duration } = require('aws-cdk-lib');
    const { Stickiness } = require('cdk-session-tier');
    Stickiness.loadBalancerCookie(Duration.days(8));
  `);
  expect(() => execFileSync('node', ['bad.js'], { cwd: project, stdio: 'pipe' })).toThrow(/604800 s\), got 8 days/);
});

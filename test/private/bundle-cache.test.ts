import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleCacheDir } from '../../lib/private/bundle-cache';
import { EsbuildBundle, cachedBundleWithEsbuild } from '../../lib/private/esbuild-bundle';

/**
 * The bundle cache against the real esbuild, in a project of its own: a
 * source file importing a local module and a package from node_modules.
 */
let project: string;
let cache: string;
let out: string;

function write(file: string, content: string): void {
  fs.mkdirSync(path.dirname(path.join(project, file)), { recursive: true });
  fs.writeFileSync(path.join(project, file), content);
}

const bundle = (): EsbuildBundle => ({ entry: path.join(project, 'src', 'main.ts'), fileName: 'main.js', target: 'node20' });
/** Bundles through the cache; returns where the bundle came from and what it says when run. */
function run(): { source: string; output: string } {
  const outfile = path.join(out, `main-${Math.random()}.js`);
  const source = cachedBundleWithEsbuild(bundle(), outfile, cache);
  const logged: unknown[] = [];
  new Function('console', 'require', 'module', fs.readFileSync(outfile, 'utf8'))({ log: (x: unknown) => logged.push(x) }, require, { exports: {} });
  return { source, output: logged.join(' ') };
}

/** Moves a directory's mtime on by a second, as a change on a coarse-clocked file system would. */
const later = (dir: string) => fs.utimesSync(path.join(project, dir), new Date(), new Date(Date.now() + 1000));

beforeEach(() => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-cache-'));
  project = path.join(root, 'project');
  cache = path.join(root, 'cache');
  out = path.join(root, 'out');
  fs.mkdirSync(out);
  write('package.json', JSON.stringify({ name: 'project', private: true }));
  write('src/main.ts', "import { greeting } from './greeting';\nimport { name } from 'dep';\nconsole.log(`${greeting}, ${name}`);\n");
  write('src/greeting.ts', "export const greeting: string = 'hello';\n");
  write('node_modules/dep/package.json', JSON.stringify({ name: 'dep', main: 'index.js' }));
  write('node_modules/dep/index.js', "exports.name = 'world';\n");
  write('node_modules/dep/other.js', "exports.name = 'other';\n");
  write('node_modules/.package-lock.json', '{}');
});

afterEach(() => fs.rmSync(path.dirname(project), { recursive: true, force: true }));

test('an unchanged project is bundled once; the next synth gets the same bytes from the cache', () => {
  expect(run()).toEqual({ source: 'built', output: 'hello, world' });
  expect(run()).toEqual({ source: 'cache', output: 'hello, world' });
  const [a, b] = fs.readdirSync(out).map((f) => fs.readFileSync(path.join(out, f), 'utf8'));
  expect(a).toBe(b);
});

test('a cache inside node_modules, made by the first synth, does not count as a change to node_modules', () => {
  cache = path.join(project, 'node_modules', '.cache', 'cdk-session-tier');
  expect(run().source).toBe('built');
  expect(run().source).toBe('cache');
});

test.each([
  ['an edited source file', () => write('src/greeting.ts', "export const greeting: string = 'hi';\n"), 'hi, world'],
  ['an edited library file', () => write('node_modules/dep/index.js', "exports.name = 'there';\n"), 'hello, there'],
  ['a package.json pointing elsewhere', () => write('node_modules/dep/package.json', JSON.stringify({ name: 'dep', main: 'other.js' })), 'hello, other'],
  ['a closer node_modules shadowing the package', () => {
    write('src/node_modules/dep/index.js', "exports.name = 'shadow';\n");
    later('src');
  }, 'hello, shadow'],
  ['a new tsconfig.json', () => write('src/tsconfig.json', JSON.stringify({ compilerOptions: { useDefineForClassFields: false } })), 'hello, world'],
])('%s makes a new bundle', (_what, change, output) => {
  run();
  change();
  expect(run()).toEqual({ source: 'built', output });
  expect(run()).toEqual({ source: 'cache', output });
});

test('an install, seen in the package manager\'s state file, makes a new bundle', () => {
  run();
  const state = path.join(project, 'node_modules', '.package-lock.json');
  fs.writeFileSync(state, '{"changed":true}');
  expect(run().source).toBe('built');
});

test('a deleted input makes a build, not a stale bundle nor an error', () => {
  run();
  fs.rmSync(path.join(project, 'src', 'greeting.ts'));
  write('src/greeting.js', "exports.greeting = 'hey';\n");
  expect(run()).toEqual({ source: 'built', output: 'hey, world' });
});

test('a damaged cached bundle is built again, not used', () => {
  run();
  for (const f of fs.readdirSync(cache).filter((n) => n.endsWith('.js'))) {
    fs.writeFileSync(path.join(cache, f), 'console.log("tampered")');
  }
  expect(run()).toEqual({ source: 'built', output: 'hello, world' });
});

test('without a cache directory every synth builds', () => {
  const outfile = path.join(out, 'main.js');
  expect(cachedBundleWithEsbuild(bundle(), outfile, undefined)).toBe('built');
  expect(cachedBundleWithEsbuild(bundle(), outfile, undefined)).toBe('built');
});

test('the cache lives beside the package in node_modules/.cache, or where CDK_SESSION_TIER_BUNDLE_CACHE says; "off" turns it off', () => {
  const installed = path.join(project, 'node_modules', 'cdk-session-tier');
  expect(bundleCacheDir(installed, {})).toBe(path.join(project, 'node_modules', '.cache', 'cdk-session-tier'));
  expect(bundleCacheDir(project, {})).toBe(path.join(project, 'node_modules', '.cache', 'cdk-session-tier'));
  expect(bundleCacheDir(path.join(project, 'src'), {})).toBeUndefined(); // no node_modules: no cache
  expect(bundleCacheDir(project, { CDK_SESSION_TIER_BUNDLE_CACHE: 'off' })).toBeUndefined();
  expect(bundleCacheDir(project, { CDK_SESSION_TIER_BUNDLE_CACHE: 'rel/dir' })).toBe(path.resolve('rel/dir'));
});

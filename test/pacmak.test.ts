/**
 * Every CDK language: jsii-pacmak generates the Python, Java, .NET and Go
 * packages from the jsii assembly (.jsii, written by `npm run jsii`, which
 * `npm test` runs before jest), code only, into a temporary directory; the
 * generated Python compiles. Building the packages needs PyPI, Maven
 * Central, NuGet and the Go proxy (jsii's runtimes, aws-cdk-lib for each
 * language), which this machine cannot reach: `npm run package` builds them
 * where they can be reached.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { copyOfBuiltPackage } from './helpers/assembly';

const ROOT = path.join(__dirname, '..');
const TARGETS = ['python', 'java', 'dotnet', 'go'];

let built: string;
let out: string;
let generated: string[];

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());

beforeAll(() => {
  built = copyOfBuiltPackage();
  out = fs.mkdtempSync(path.join(os.tmpdir(), 'pacmak-'));
  const pacmak = path.join(ROOT, 'node_modules', 'jsii-pacmak', 'bin', 'jsii-pacmak');
  const run = spawnSync(process.execPath, [pacmak, '--code-only', '--no-npmignore', '--outdir', out, '--targets', ...TARGETS], { cwd: built, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`jsii-pacmak failed: ${run.stderr}`);
  generated = filesUnder(out);
}, 300_000);

afterAll(() => {
  for (const dir of [built, out]) fs.rmSync(dir, { recursive: true, force: true });
});

test.each([
  ['python', /^python\/src\/cdk_session_tier\/__init__\.py$/],
  ['java', /^java\/src\/main\/java\/io\/github\/cdksessiontier\/SessionTier\.java$/],
  ['dotnet', /^dotnet\/CdkSessionTier\/CdkSessionTier\/SessionTier\.cs$/],
  ['go', /^go\/cdksessiontier\/SessionTier\.go$/],
])('pacmak generates the %s package, with the SessionTier construct', (_target, file) => {
  expect(generated.filter((f) => file.test(f))).toHaveLength(1);
});

test('the generated Python names every construct and compiles', () => {
  const init = fs.readFileSync(path.join(out, 'python', 'src', 'cdk_session_tier', '__init__.py'), 'utf8');
  for (const name of ['SessionTier', 'AppFleet', 'BlueGreenRouting', 'RedisSessionCache', 'SessionDatabase', 'SessionFileSystem', 'SessionDashboard']) {
    expect(init).toMatch(new RegExp(`^class ${name}\\(`, 'm'));
  }
  const compile = spawnSync('python3', ['-m', 'compileall', '-q', path.join(out, 'python', 'src')], { encoding: 'utf8' });
  expect(compile.stdout + compile.stderr).toBe('');
  expect(compile.status).toBe(0);
});

test('the Python compile check fails on broken Python', () => {
  const broken = path.join(out, 'broken');
  fs.mkdirSync(broken);
  fs.writeFileSync(path.join(broken, 'bad.py'), 'class Broken(\n');
  expect(spawnSync('python3', ['-m', 'compileall', '-q', broken], { encoding: 'utf8' }).status).not.toBe(0);
});

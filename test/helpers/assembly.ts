/**
 * A copy of the package as `npm run jsii` built it (the assembly, package.json,
 * the declarations, the README, the license and rosetta's fixtures), in a
 * temporary directory, for the tests that run jsii's tools on it. In
 * `npm test`, test/package.test.ts packs the package meanwhile, and packing
 * builds it again: jsii rewrites .jsii and dist/lib in place, so a tool
 * reading them there could read a file half written. (jsii-pacmak packs the
 * directory it is given, too: in the copy that builds nothing.)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

/** Waits `ms` milliseconds, synchronously. */
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The assembly's text, once it parses (a rebuild may be writing it). */
function readAssembly(): string {
  const file = path.join(ROOT, '.jsii');
  if (!fs.existsSync(file)) throw new Error('no jsii assembly (.jsii): run `npm run jsii` (npm test runs it before jest)');
  for (let attempt = 1; ; attempt++) {
    const text = fs.readFileSync(file, 'utf8');
    try {
      JSON.parse(text);
      return text;
    } catch (e) {
      if (attempt === 20) throw new Error(`.jsii does not parse: ${(e as Error).message}`);
      pause(500);
    }
  }
}

/** A directory that holds the package as built, its node_modules linked; the caller removes it. */
export function copyOfBuiltPackage(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jsii-package-'));
  fs.writeFileSync(path.join(dir, '.jsii'), readAssembly());
  // Without its scripts: jsii-pacmak packs the directory with npm, whose prepack would build it again.
  const { scripts: _scripts, ...manifest } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const file of ['README.md', 'LICENSE']) fs.copyFileSync(path.join(ROOT, file), path.join(dir, file));
  fs.cpSync(path.join(ROOT, 'dist', 'lib'), path.join(dir, 'dist', 'lib'), { recursive: true, filter: (f) => !f.endsWith('.js') });
  fs.cpSync(path.join(ROOT, 'rosetta'), path.join(dir, 'rosetta'), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

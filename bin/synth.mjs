/**
 * The demo app's command (cdk.json "app"): what `cdk init app` does with
 * `npx tsc && npx tsx bin/<app>.ts`, with the type check running alongside the
 * synth instead of before it. The synth fails, and the CLI discards the cloud
 * assembly, when either fails. The type check runs at a lower priority, so on
 * a machine with few cores it fills the gaps the single-threaded synth leaves
 * (`npm run bench -- synth` measures the whole command).
 *
 * Plain JavaScript, so that it runs before anything is compiled.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

/** Runs `node <args>`; resolves with its exit code (1 when a signal ended it). */
function node(args, { niceness = 0 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    child.once('error', reject);
    if (niceness > 0 && child.pid !== undefined) {
      try {
        setPriority(child.pid, niceness);
      } catch {
        // Not allowed here (some containers): it then runs at the same priority.
      }
    }
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

const [typeCheck, synth] = await Promise.all([
  node([tsc, '-p', 'tsconfig.app.json'], { niceness: 10 }),
  node(['--import', 'tsx', 'bin/session-tier.ts']),
]);
if (typeCheck !== 0) {
  console.error('bin/synth.mjs: the type check failed (above); the synthesized app is not used');
}
process.exit(typeCheck || synth);

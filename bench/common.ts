/** What the two benchmark scripts share: where they build, a free port, the anchors' bundles. */
import { mkdirSync } from 'fs';
import { createServer } from 'net';
import { join } from 'path';
import { bundleWithEsbuild } from '../lib/private/esbuild-bundle';

/** Where the benchmarks put their bundles and scratch files (ignored by git). */
export const OUT = join(__dirname, '.out');

/** A TCP port free on 127.0.0.1 just now. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** An anchor server (bench/anchors/<name>.ts) bundled as the sample app is, so both load the same way. */
export function bundleAnchor(name: string): string {
  mkdirSync(OUT, { recursive: true });
  const outfile = join(OUT, `${name}.js`);
  bundleWithEsbuild({ entry: join(__dirname, 'anchors', `${name}.ts`), fileName: `${name}.js`, target: 'node20', keepNames: true }, outfile);
  return outfile;
}

/**
 * `npm run build`'s second step: bundles the sample app and the Lambda
 * handlers into dist/assets/<name>/, which the package ships and a
 * consumer's synth uses as they are (aws-cdk-lib's own custom-resource
 * handlers are pre-bundled the same way).
 */
import * as fs from 'fs';
import * as path from 'path';
import { PACKAGE_BUNDLES, bundleWithEsbuild, prebuiltPath, sourceBundle } from '../lib/private/esbuild-bundle';

const root = path.join(__dirname, '..');
const assets = path.join(root, 'dist', 'assets');
fs.rmSync(assets, { recursive: true, force: true });
for (const bundle of PACKAGE_BUNDLES) {
  const outfile = path.join(root, prebuiltPath(bundle));
  fs.mkdirSync(path.dirname(outfile), { recursive: true });
  bundleWithEsbuild(sourceBundle(bundle), outfile);
  // stderr: npm pack --json prints its JSON on stdout, after the prepack script.
  console.error(`${path.relative(root, outfile)}: ${fs.statSync(outfile).size} bytes`);
}

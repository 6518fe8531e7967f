import * as path from 'path';
import { BundlingOutput } from 'aws-cdk-lib/core';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { EsbuildBundle, bundleWithEsbuild, esbuildAssetOptions } from './esbuild-bundle';
import { packageFile } from './package-root';

/** Name of the bundled app inside the asset; user data runs it. */
export const SAMPLE_APP_BUNDLE = 'server.js';

/** The sample app as the fleets run it: one file for Node.js 20 and later. */
function sampleApp(): EsbuildBundle {
  return { entry: packageFile('sample-app', 'src', 'main.ts'), fileName: SAMPLE_APP_BUNDLE, target: 'node20', keepNames: true };
}

/** The sample app bundled with the local esbuild (never Docker, so synth works offline) and staged as an S3 asset. */
export function sampleAppAsset(scope: Construct, id: string): s3assets.Asset {
  return new s3assets.Asset(scope, id, esbuildAssetOptions(sampleApp(), BundlingOutput.SINGLE_FILE));
}

/** Bundles the sample app into `outfile`, exactly as the asset does: what the benchmarks measure. */
export function bundleSampleApp(outfile: string): void {
  bundleWithEsbuild({ ...sampleApp(), fileName: path.basename(outfile) }, outfile);
}

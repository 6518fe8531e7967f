import * as path from 'path';
import { BundlingOutput } from 'aws-cdk-lib/core';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { SAMPLE_APP_BUNDLE, bundleAssetOptions, bundleWithEsbuild, sourceBundle } from './esbuild-bundle';

/** Name of the bundled app on the instance; user data runs it. */
export const SAMPLE_APP_FILE = SAMPLE_APP_BUNDLE.fileName;

/** The sample app, bundled (by the package's build, or at synth from a source checkout) and staged as an S3 asset. */
export function sampleAppAsset(scope: Construct, id: string): s3assets.Asset {
  return new s3assets.Asset(scope, id, bundleAssetOptions(SAMPLE_APP_BUNDLE, BundlingOutput.SINGLE_FILE));
}

/** Bundles the sample app from source into `outfile`, exactly as the asset does: what the tests boot and the benchmarks measure. */
export function bundleSampleApp(outfile: string): void {
  bundleWithEsbuild({ ...sourceBundle(SAMPLE_APP_BUNDLE), fileName: path.basename(outfile) }, outfile);
}

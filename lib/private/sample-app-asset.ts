import * as path from 'path';
import { AssetHashType, BundlingOutput, DockerImage } from 'aws-cdk-lib';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as esbuild from 'esbuild';
import { Construct } from 'constructs';
import { packageFile } from './package-root';

/** Name of the bundled app inside the asset; user data runs it. */
export const SAMPLE_APP_BUNDLE = 'server.js';

/**
 * Bundles the sample app into one file with the local esbuild (never Docker,
 * so synth works offline) and stages it as an S3 asset. The asset hash is the
 * bundle's own hash, so a change to the app or to any library it bundles
 * produces a new asset, and an unchanged app keeps its key.
 */
export function sampleAppAsset(scope: Construct, id: string): s3assets.Asset {
  const entry = packageFile('sample-app', 'src', 'main.ts');
  return new s3assets.Asset(scope, id, {
    path: path.dirname(entry),
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never run: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('local-esbuild-only'),
      outputType: BundlingOutput.SINGLE_FILE,
      local: {
        tryBundle(outputDir: string): boolean {
          bundleSampleApp(path.join(outputDir, SAMPLE_APP_BUNDLE));
          return true;
        },
      },
    },
  });
}

/**
 * Bundles the sample app into one minified CommonJS file for Node.js 20 and
 * later: what the fleets run, and what the benchmarks measure.
 */
export function bundleSampleApp(outfile: string): void {
  esbuild.buildSync({
    entryPoints: [packageFile('sample-app', 'src', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'error',
  });
}

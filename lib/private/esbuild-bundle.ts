import * as path from 'path';
import { AssetHashType, BundlingOptions, BundlingOutput, DockerImage } from 'aws-cdk-lib/core';
import * as esbuild from 'esbuild';
import { BundleSource, bundleCacheDir, cachedBuild } from './bundle-cache';
import { packageFile, packageRoot } from './package-root';

/** What to bundle: a TypeScript entry point of this package, for one Node.js version. */
export interface EsbuildBundle {
  /** The entry point, an absolute path. */
  readonly entry: string;
  /** The bundle's file name inside the asset. */
  readonly fileName: string;
  /** The oldest Node.js the bundle runs on, as esbuild names it: `node20`. */
  readonly target: string;
  /** Keep function and class names (readable stack traces in the app's logs). @default false */
  readonly keepNames?: boolean;
}

/** The traffic shifter's handlers as Lambda runs them on nodejs24.x: one bundle with our pinned SDK clients, not the runtime's, so the requests tested are the ones sent. */
export function trafficShifterBundle(): EsbuildBundle {
  return { entry: packageFile('lambda', 'traffic-shifter', 'index.ts'), fileName: 'index.js', target: 'node24' };
}

/** The session database's one-time setup as Lambda runs it on nodejs24.x: pg, mysql2 and the Secrets Manager client bundled in. */
export function databaseSetupBundle(): EsbuildBundle {
  return { entry: packageFile('lambda', 'database-setup', 'index.ts'), fileName: 'index.js', target: 'node24' };
}

/**
 * Bundles into one minified CommonJS file with this package's own esbuild,
 * in the synth process: no Docker, no network, no esbuild on the user's
 * PATH and no lock file in the user's project (NodejsFunction needs both
 * and falls back to Docker without them), and no child process per asset
 * (NodejsFunction's `npx esbuild` cost 0.65 s of every synth, measured).
 */
export function bundleWithEsbuild(bundle: EsbuildBundle, outfile: string): string[] {
  const result = esbuild.buildSync({ ...buildOptions(bundle), outfile, metafile: true });
  // The metafile names what was read relative to the working directory.
  return Object.keys(result.metafile.inputs).map((input) => path.resolve(input));
}

/** esbuild's options for `bundle`, but where to write it. */
function buildOptions(bundle: EsbuildBundle): esbuild.BuildOptions {
  return {
    entryPoints: [bundle.entry],
    bundle: true,
    platform: 'node',
    target: bundle.target,
    format: 'cjs',
    minify: true,
    keepNames: bundle.keepNames ?? false,
    legalComments: 'none',
    logLevel: 'error',
  };
}

/**
 * {@link bundleWithEsbuild}, or the same bundle from the previous synth when
 * nothing it was made from has changed (see bundle-cache.ts): a repeated synth
 * skips 0.9-1.3 s of bundling, measured. Returns where the bundle came from.
 * `cacheDir` undefined: no cache.
 */
export function cachedBundleWithEsbuild(bundle: EsbuildBundle, outfile: string, cacheDir: string | undefined): BundleSource {
  const key = JSON.stringify({ esbuild: esbuild.version, options: buildOptions(bundle) });
  return cachedBuild(cacheDir, key, outfile, () => bundleWithEsbuild(bundle, outfile));
}

/**
 * Asset options that stage the bundle of `bundle.entry` (and only it) from
 * the entry's directory. The asset hash is the bundle's own hash: a change to
 * the code or to any library it bundles makes a new asset, an unchanged
 * bundle keeps its key.
 */
export function esbuildAssetOptions(bundle: EsbuildBundle, output: BundlingOutput): { path: string; assetHashType: AssetHashType; bundling: BundlingOptions } {
  return {
    path: path.dirname(bundle.entry),
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never run: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('local-esbuild-only'),
      outputType: output,
      local: {
        tryBundle(outputDir: string): boolean {
          cachedBundleWithEsbuild(bundle, path.join(outputDir, bundle.fileName), bundleCacheDir(packageRoot()));
          return true;
        },
      },
    },
  };
}

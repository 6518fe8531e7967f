import * as path from 'path';
import { AssetHashType, BundlingOptions, BundlingOutput, DockerImage } from 'aws-cdk-lib/core';
import type * as esbuildTypes from 'esbuild';
import { BundleSource, bundleCacheDir, cachedBuild } from './bundle-cache';
import { packageFile, packageRoot } from './package-root';

/** What to bundle: a TypeScript entry point, for one Node.js version. */
export interface EsbuildBundle {
  /** The entry point, an absolute path. */
  readonly entry: string;
  /** The bundle's file name inside the asset. */
  readonly fileName: string;
  /** The oldest Node.js the bundle runs on, as esbuild names it: `node20`. */
  readonly target: string;
  /** Keep function and class names (readable stack traces in the app's logs). @default false */
  readonly keepNames?: boolean;
  /** A first line for the bundle, such as a command's `#!/usr/bin/env node`. @default none */
  readonly banner?: string;
}

/** A bundle this package ships: built into `dist/assets/<name>/` by `npm run build`, or, from a source checkout, at synth. */
export interface PackageBundle extends Omit<EsbuildBundle, 'entry'> {
  /** Its directory under `dist/assets`. */
  readonly name: string;
  /** The entry point, relative to the package root. */
  readonly entry: string;
}

/** Where `npm run build` puts a bundle, relative to the package root: what the package ships and an installed package uses. */
export function prebuiltPath(bundle: PackageBundle): string {
  return path.posix.join('dist', 'assets', bundle.name, bundle.fileName);
}

/** The sample app as the fleets run it: one file for Node.js 20 and later (AL2023 installs 22). */
export const SAMPLE_APP_BUNDLE: PackageBundle = { name: 'sample-app', entry: 'sample-app/src/main.ts', fileName: 'server.js', target: 'node20', keepNames: true };

/** The traffic shifter's handlers as Lambda runs them on nodejs24.x: our pinned SDK clients, not the runtime's, so the requests tested are the ones sent. */
export const TRAFFIC_SHIFTER_BUNDLE: PackageBundle = { name: 'traffic-shifter', entry: 'lambda/traffic-shifter/index.ts', fileName: 'index.js', target: 'node24' };

/** The database setup's handler on nodejs24.x, with its PostgreSQL and MySQL drivers and the Secrets Manager client. */
export const DATABASE_SETUP_BUNDLE: PackageBundle = { name: 'database-setup', entry: 'lambda/database-setup/index.ts', fileName: 'index.js', target: 'node24' };

/**
 * The package's command, `npx cdk-session-tier status ...` (package.json's `bin`): for the Node.js the package
 * runs on, with its SDK clients inside, so installing the package still adds nothing but its peers.
 */
export const CLI_BUNDLE: PackageBundle = { name: 'cli', entry: 'cli/main.ts', fileName: 'index.js', target: 'node20', banner: '#!/usr/bin/env node' };

/** Every bundle the package ships; `npm run build` makes each. */
export const PACKAGE_BUNDLES: readonly PackageBundle[] = [SAMPLE_APP_BUNDLE, TRAFFIC_SHIFTER_BUNDLE, DATABASE_SETUP_BUNDLE, CLI_BUNDLE];

/** The esbuild this package depends on for development, loaded only when bundling: an installed package never needs it. */
function esbuild(): typeof esbuildTypes {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('esbuild') as typeof esbuildTypes;
}

/**
 * Whether this code runs from the published package (compiled into
 * `dist/lib/private`), whose build made the bundles, rather than from a
 * source checkout, whose synth must bundle what it has.
 */
function runsFromPackage(): boolean {
  return path.basename(__filename).endsWith('.js') && __dirname.split(path.sep).slice(-3).join('/') === 'dist/lib/private';
}

/** The directory of a prebuilt bundle in the installed package; undefined from a source checkout. */
function prebuiltDir(bundle: PackageBundle): string | undefined {
  if (!runsFromPackage()) {
    return undefined;
  }
  return path.dirname(packageFile(prebuiltPath(bundle)));
}

/** The bundle of a package entry, as {@link bundleWithEsbuild} takes it. */
export function sourceBundle(bundle: PackageBundle): EsbuildBundle {
  return { entry: packageFile(bundle.entry), fileName: bundle.fileName, target: bundle.target, keepNames: bundle.keepNames, banner: bundle.banner };
}

/**
 * Bundles into one minified CommonJS file with esbuild, in this process: no
 * Docker, no network, no child process. Returns the absolute paths of the
 * files esbuild read.
 */
export function bundleWithEsbuild(bundle: EsbuildBundle, outfile: string): string[] {
  const result = esbuild().buildSync({ ...buildOptions(bundle), outfile, metafile: true });
  // The metafile names what was read relative to the working directory.
  return Object.keys(result.metafile.inputs).map((input) => path.resolve(input));
}

/** esbuild's options for `bundle`, but where to write it. */
function buildOptions(bundle: EsbuildBundle): esbuildTypes.BuildOptions {
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
    ...bundle.banner !== undefined ? { banner: { js: bundle.banner } } : {},
  };
}

/**
 * {@link bundleWithEsbuild}, or the same bundle from the previous synth when
 * nothing it was made from has changed (see bundle-cache.ts). Returns where
 * the bundle came from. `cacheDir` undefined: no cache.
 */
export function cachedBundleWithEsbuild(bundle: EsbuildBundle, outfile: string, cacheDir: string | undefined): BundleSource {
  const key = JSON.stringify({ esbuild: esbuild().version, options: buildOptions(bundle) });
  return cachedBuild(cacheDir, key, outfile, () => bundleWithEsbuild(bundle, outfile));
}

/** What an S3 asset or a Lambda code asset is made from: a path, and how to bundle it from a source checkout. */
export interface BundleAssetOptions {
  readonly path: string;
  readonly assetHashType?: AssetHashType;
  readonly bundling?: BundlingOptions;
}

/**
 * Asset options for one of the package's bundles. From the installed package:
 * the bundle its build made, as it is (a consumer's synth copies a file and
 * installs nothing). From a source checkout: the bundle made at synth by the
 * esbuild of the checkout, through the bundle cache, hashed by its output so
 * an unchanged bundle keeps its key. `output` says whether the asset is the
 * single file or the directory that holds it.
 */
export function bundleAssetOptions(bundle: PackageBundle, output: BundlingOutput.SINGLE_FILE | BundlingOutput.NOT_ARCHIVED): BundleAssetOptions {
  const prebuilt = prebuiltDir(bundle);
  if (prebuilt) {
    return { path: output === BundlingOutput.SINGLE_FILE ? path.join(prebuilt, bundle.fileName) : prebuilt };
  }
  const source = sourceBundle(bundle);
  return {
    path: path.dirname(source.entry),
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type, never run: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('local-esbuild-only'),
      outputType: output,
      local: {
        tryBundle(outputDir: string): boolean {
          cachedBundleWithEsbuild(source, path.join(outputDir, bundle.fileName), bundleCacheDir(packageRoot()));
          return true;
        },
      },
    },
  };
}

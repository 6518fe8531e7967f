import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * What a bundle was made from, as recorded after a build, so that a later
 * synth can tell, without building, whether a build would give the same
 * bundle. A bundle depends on:
 *
 * - the content of every file esbuild read (`files`: the metafile's inputs);
 * - which files the imports resolve to. That changes only when an entry is
 *   added to, removed from or renamed in a directory esbuild searched: the
 *   directories from each input up to the first that holds a `node_modules`
 *   (`dirs`, by modification time, which every such change moves on), and
 *   the `node_modules` trees, which only a package manager changes, and which
 *   records each change in its state file (`trees`);
 * - the settings read on the way: `package.json` (`type`, `exports`,
 *   `sideEffects`...) and `tsconfig.json` files in those directories, by
 *   content, an absent one recorded as absent (`settings`);
 * - esbuild's version and the build options (the manifest's name).
 */
interface Manifest {
  readonly files: Record<string, string>;
  readonly dirs: Record<string, number>;
  readonly trees: Record<string, string>;
  readonly settings: Record<string, string | null>;
  /** SHA-256 of the bundle, which is stored under that name. */
  readonly bundle: string;
}

/** The files a package manager rewrites in `node_modules` on every install: npm, pnpm, Yarn (node-modules linker), Yarn 1. */
const TREE_STATE_FILES = ['.package-lock.json', '.modules.yaml', '.yarn-state.yml', '.yarn-integrity'];
const SETTINGS_FILES = ['package.json', 'tsconfig.json', 'jsconfig.json'];

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function readOrNull(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

/** mtime:size of a file or directory, or 'absent'. */
function stamp(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.mtimeMs}:${s.size}`;
  } catch {
    return 'absent';
  }
}

/** Records what the bundle in `bundleFile`, built from the absolute `inputs`, depends on. */
function record(inputs: readonly string[], bundleFile: string): Manifest {
  const files: Record<string, string> = {};
  const dirs: Record<string, number> = {};
  const trees: Record<string, string> = {};
  const settings: Record<string, string | null> = {};
  const searched = new Set<string>();
  for (const input of inputs) {
    files[input] = sha256(fs.readFileSync(input));
    for (let dir = path.dirname(input); !searched.has(dir); dir = path.dirname(dir)) {
      searched.add(dir);
      for (const name of SETTINGS_FILES) {
        const content = readOrNull(path.join(dir, name));
        settings[path.join(dir, name)] = content && sha256(content);
      }
      const modules = path.join(dir, 'node_modules');
      if (fs.existsSync(modules)) {
        trees[modules] = stamp(modules);
        for (const name of TREE_STATE_FILES) {
          trees[path.join(modules, name)] = stamp(path.join(modules, name));
        }
        break;
      }
      dirs[dir] = fs.statSync(dir).mtimeMs;
      if (path.dirname(dir) === dir) {
        break;
      }
    }
  }
  return { files, dirs, trees, settings, bundle: sha256(fs.readFileSync(bundleFile)) };
}

/** Whether everything `manifest` recorded is still as it was. */
function current(manifest: Manifest): boolean {
  try {
    return Object.entries(manifest.dirs).every(([dir, mtime]) => fs.statSync(dir).mtimeMs === mtime)
      && Object.entries(manifest.trees).every(([file, s]) => stamp(file) === s)
      && Object.entries(manifest.settings).every(([file, hash]) => {
        const content = readOrNull(file);
        return (content && sha256(content)) === hash;
      })
      && Object.entries(manifest.files).every(([file, hash]) => sha256(fs.readFileSync(file)) === hash);
  } catch {
    return false; // a file or directory is gone
  }
}

/** Writes `data` to `file` whole or not at all, so that a concurrent synth never reads half of it. */
function writeAtomically(file: string, data: string | Buffer): void {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}

/** Where bundles are kept: `node_modules/.cache/cdk-session-tier` beside the package, or `CDK_SESSION_TIER_BUNDLE_CACHE`; `off` turns the cache off. */
export function bundleCacheDir(packageRoot: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.CDK_SESSION_TIER_BUNDLE_CACHE;
  if (setting === 'off') {
    return undefined;
  }
  if (setting) {
    return path.resolve(setting);
  }
  // Installed: <project>/node_modules/cdk-session-tier; from source: <repo>/node_modules.
  const modules = path.basename(path.dirname(packageRoot)) === 'node_modules' ? path.dirname(packageRoot) : path.join(packageRoot, 'node_modules');
  return fs.existsSync(modules) ? path.join(modules, '.cache', 'cdk-session-tier') : undefined;
}

/** How a bundle was obtained. */
export type BundleSource = 'built' | 'cache';

/**
 * Puts the bundle identified by `key` (esbuild's version and the build
 * options) into `outfile`: from the cache when nothing it was made from has
 * changed since (see {@link Manifest}), otherwise by `build`, which writes
 * `outfile` and returns the absolute paths of the files it read; the result
 * is then recorded for the next synth. Without a cache directory, always builds.
 */
export function cachedBuild(cacheDir: string | undefined, key: string, outfile: string, build: () => string[]): BundleSource {
  if (cacheDir === undefined) {
    build();
    return 'built';
  }
  const manifestFile = path.join(cacheDir, `${sha256(key)}.json`);
  let previous: Manifest | undefined;
  try {
    previous = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch {
    previous = undefined;
  }
  if (previous && current(previous)) {
    const bundle = readOrNull(path.join(cacheDir, `${previous.bundle}.js`));
    if (bundle && sha256(bundle) === previous.bundle) {
      fs.writeFileSync(outfile, bundle);
      return 'cache';
    }
  }
  try {
    // Before the build is recorded: making node_modules/.cache moves node_modules' mtime, which the record holds.
    fs.mkdirSync(cacheDir, { recursive: true });
  } catch {
    // Read-only: the cache is not written below either.
  }
  const inputs = build();
  const manifest = record(inputs, outfile);
  try {
    writeAtomically(path.join(cacheDir, `${manifest.bundle}.js`), fs.readFileSync(outfile));
    writeAtomically(manifestFile, JSON.stringify(manifest));
    if (previous && previous.bundle !== manifest.bundle) {
      fs.rmSync(path.join(cacheDir, `${previous.bundle}.js`), { force: true });
    }
  } catch {
    // A cache that cannot be written (read-only install) only costs the next synth a build.
  }
  return 'built';
}

import * as fs from 'fs';
import * as path from 'path';

/** Found once per process: every asset and every bundle asks. */
let root: string | undefined;

/**
 * The root of this package: two levels above `lib/private` when running from
 * source, three above `dist/lib/private` when running from the published
 * package. Found by the package.json that names it.
 */
export function packageRoot(): string {
  if (root !== undefined) {
    return root;
  }
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(__dirname, up);
    const manifest = path.join(candidate, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'cdk-session-tier') {
      root = candidate;
      return root;
    }
  }
  throw new Error(`cdk-session-tier: cannot find the package root above ${__dirname}; reinstall cdk-session-tier`);
}

/** A file shipped with this package, checked to exist. */
export function packageFile(...segments: string[]): string {
  const file = path.join(packageRoot(), ...segments);
  if (!fs.existsSync(file)) {
    throw new Error(`cdk-session-tier: ${path.join(...segments)} is missing from ${packageRoot()}; reinstall cdk-session-tier`);
  }
  return file;
}

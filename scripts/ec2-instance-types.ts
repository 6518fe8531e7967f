/**
 * Writes lib/private/ec2-instance-types.ts: every instance type of AWS's EC2
 * service model (the `InstanceType` enum of the botocore model), per family,
 * its sizes from smallest to largest. AppFleet picks its fallback type from
 * it at a user's synth, where there is no botocore. Run it when a newer model
 * is installed: `npx tsx scripts/ec2-instance-types.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Debian's python3-botocore. */
const DEBIAN_BOTOCORE = '/usr/lib/python3/dist-packages/botocore';
/** The EC2 API version whose model names the instance types. */
const EC2_MODEL = 'data/ec2/2016-11-15/service-2.json';

/** The generated module, relative to the repository. */
export const GENERATED_MODULE = 'lib/private/ec2-instance-types.ts';

/** One installed botocore's EC2 model. */
export interface Ec2Model {
  /** botocore's version, e.g. `1.43.11`. */
  readonly version: string;
  /** Who installed it: Debian's python3-botocore, or the botocore that `python3` imports (pip). */
  readonly installer: string;
  /** The model file (botocore ships it plain or gzipped). */
  readonly file: string;
  /** The file within botocore, e.g. `data/ec2/2016-11-15/service-2.json.gz`. */
  readonly name: string;
}

/** The botocore directory that `python` imports, when there is one. */
function pythonBotocore(python: string): string | undefined {
  const found = spawnSync(python, ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** The EC2 model of one botocore directory, when it has one. */
function modelIn(dir: string, installer: string): Ec2Model | undefined {
  const name = [EC2_MODEL, `${EC2_MODEL}.gz`].find((f) => existsSync(path.join(dir, f)));
  const init = path.join(dir, '__init__.py');
  const version = existsSync(init) ? /^__version__ = '([^']+)'/m.exec(readFileSync(init, 'utf8'))?.[1] : undefined;
  return name && version ? { version, installer, file: path.join(dir, name), name } : undefined;
}

/** Compares two dotted versions numerically. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) {
      return d;
    }
  }
  return 0;
}

/**
 * Every installed EC2 model, newest first: Debian's python3-botocore, and the
 * botocore that `python3` imports when that is another one (Debian 12's is
 * from December 2022 and lacks every family launched since, m7i and m7g among
 * them). Fails with the install command when there is none. The places to
 * look are parameters for the tests of that failure.
 */
export function installedModels(debian = DEBIAN_BOTOCORE, python = 'python3'): Ec2Model[] {
  const imported = pythonBotocore(python);
  const models = [
    modelIn(debian, "Debian's python3-botocore"),
    imported && path.resolve(imported) !== path.resolve(debian) ? modelIn(imported, 'pip') : undefined,
  ].filter((m): m is Ec2Model => m !== undefined);
  if (models.length === 0) {
    throw new Error(`AWS's EC2 service model not found (${path.join(debian, EC2_MODEL)}, nor in a botocore that ${python} imports); install Debian's package: apt-get install python3-botocore`);
  }
  return models.sort((a, b) => compareVersions(b.version, a.version));
}

/** The model's `InstanceType` enum: every type EC2 has, as the model names them. */
export function instanceTypesOf(model: Ec2Model): string[] {
  const raw = readFileSync(model.file);
  const json = JSON.parse((model.file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as {
    shapes: Record<string, { enum?: string[] }>;
  };
  const types = json.shapes.InstanceType?.enum;
  if (!types?.length) {
    throw new Error(`${model.file}: no InstanceType enum in the EC2 model of botocore ${model.version}`);
  }
  return types;
}

/**
 * Where a size stands in its family: nano to xlarge, then `<n>xlarge` by n,
 * then the bare-metal sizes (`metal-<n>xl` by n, then `metal`), which
 * AppFleet never picks as a fallback. The number is the size's multiple of
 * xlarge (an xlarge is 8 normalized units, a 2xlarge 16:
 * https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_CoverageNormalizedUnits.html),
 * so this order is the order of capacity. A size of another shape fails: a
 * new naming must be placed here by hand, not guessed.
 */
export function sizeRank(size: string): number {
  const named = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge'].indexOf(size);
  if (named >= 0) {
    return named;
  }
  const times = /^(\d+)xlarge$/.exec(size);
  if (times) {
    return 5 + Number(times[1]);
  }
  const metal = /^metal(?:-(\d+)xl)?$/.exec(size);
  if (metal) {
    return 100_000 + (metal[1] ? Number(metal[1]) : 10_000);
  }
  throw new Error(`size ${size}: a shape the script does not know; place it in sizeRank`);
}

/**
 * Per family, its sizes from smallest to largest. The family is everything
 * before the period (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_PerformanceFactorReferenceRequest.html,
 * and https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html).
 */
export function familySizes(types: readonly string[]): Map<string, string[]> {
  const families = new Map<string, string[]>();
  for (const type of types) {
    const dot = type.indexOf('.');
    const [family, size] = [type.slice(0, dot), type.slice(dot + 1)];
    families.set(family, [...families.get(family) ?? [], size]);
  }
  const sorted = [...families.keys()].sort();
  return new Map(sorted.map((f) => [f, families.get(f)!.sort((a, b) => sizeRank(a) - sizeRank(b))]));
}

/** The generated module's text, from one model. */
export function renderModule(model: Ec2Model): string {
  const types = instanceTypesOf(model);
  const families = familySizes(types);
  const lines = [...families].map(([family, sizes]) => `  ${/^[a-z0-9]+$/.test(family) ? family : `'${family}'`}: '${sizes.join(' ')}',`);
  return [
    '// Generated by scripts/ec2-instance-types.ts; do not edit. Regenerate: npx tsx scripts/ec2-instance-types.ts',
    `// Source: AWS's EC2 service model, shape InstanceType (${types.length} types in ${families.size} families),`,
    `// botocore ${model.version} (${model.installer}): botocore/${model.name}`,
    '',
    '/** The botocore release whose EC2 model this data is: EC2 types launched after it are not here. */',
    `export const EC2_INSTANCE_TYPES_SOURCE = 'botocore ${model.version}';`,
    '',
    '/** Per instance family, its sizes from smallest to largest, bare-metal sizes last; e.g. `t4g.small` is family t4g, size small. */',
    'export const EC2_INSTANCE_SIZES: Readonly<Record<string, string>> = {',
    ...lines,
    '};',
    '',
  ].join('\n');
}

if (require.main === module) {
  const [newest, ...older] = installedModels();
  const out = path.join(__dirname, '..', GENERATED_MODULE);
  writeFileSync(out, renderModule(newest));
  const skipped = older.map((m) => `; skipped the older botocore ${m.version} (${m.installer})`).join('');
  console.error(`${GENERATED_MODULE}: from botocore ${newest.version} (${newest.installer}), ${readFileSync(out).length} bytes${skipped}`);
}

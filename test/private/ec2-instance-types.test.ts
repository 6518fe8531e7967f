/**
 * The instance types AppFleet ships (lib/private/ec2-instance-types.ts) and
 * the fallbacks it picks from them, against AWS's EC2 service model as the
 * installed botocore has it: every fallback is a type EC2 has, and the
 * committed data is what the generator makes from a model.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { fallbackInstanceType } from '../../lib/app-fleet/resolve-props';
import { EC2_INSTANCE_SIZES, EC2_INSTANCE_TYPES_SOURCE } from '../../lib/private/ec2-instance-types';
import {
  Ec2Model, GENERATED_MODULE, compareVersions, familySizes, installedModels, instanceTypesOf, renderModule, sizeRank,
} from '../../scripts/ec2-instance-types';

/** The botocore version the committed data names. */
const DATA_VERSION = /^botocore (\S+)$/.exec(EC2_INSTANCE_TYPES_SOURCE)![1];

let newest: { model: Ec2Model; types: Set<string> } | undefined;
/**
 * The newest installed EC2 model and its types, read once. Fails with the
 * install command when there is none, and with what to do when it is older
 * than the data (Debian 12's python3-botocore is 1.29.27, from December 2022).
 */
function installed() {
  if (!newest) {
    const model = installedModels()[0];
    if (compareVersions(model.version, DATA_VERSION) < 0) {
      throw new Error(`${GENERATED_MODULE} was generated from botocore ${DATA_VERSION}, and the newest EC2 model installed is botocore ${model.version} `
        + `(${model.installer}, ${model.file}); install botocore ${DATA_VERSION} or newer (python3 -m pip install 'botocore>=${DATA_VERSION}'), `
        + 'or regenerate the data from this model (npx tsx scripts/ec2-instance-types.ts), losing the types it lacks');
    }
    newest = { model, types: new Set(instanceTypesOf(model)) };
  }
  return newest;
}

/** Every type of the committed data. */
const dataTypes = () => Object.entries(EC2_INSTANCE_SIZES).flatMap(([family, sizes]) => sizes.split(' ').map((size) => `${family}.${size}`));

/** `type -> fallback` for every type of the data whose fallback is not among `types`. */
function fallbacksNotIn(types: ReadonlySet<string>, fallbackOf: (type: string) => string | undefined): string[] {
  return dataTypes().flatMap((type) => {
    const fallback = fallbackOf(type);
    return fallback !== undefined && !types.has(fallback) ? [`${type} -> ${fallback}`] : [];
  });
}

/** aws-cdk-lib's architecture of a type; it cannot parse some names (`mac2-m2.metal`), which then must agree too. */
function architectureOf(type: string): string {
  try {
    return new ec2.InstanceType(type).architecture;
  } catch {
    return 'not parsed by aws-cdk-lib';
  }
}

describe('the EC2 instance types AppFleet ships', () => {
  test('the installed EC2 model is the one the data was made from, or newer; none at all fails with the install command', () => {
    expect(compareVersions(installed().model.version, DATA_VERSION)).toBeGreaterThanOrEqual(0);
    expect(() => installedModels('/nonexistent/botocore', '/nonexistent/python3')).toThrow(
      "AWS's EC2 service model not found (/nonexistent/botocore/data/ec2/2016-11-15/service-2.json, nor in a botocore that /nonexistent/python3 imports); install Debian's package: apt-get install python3-botocore");
  });

  test('every fallback of every size of every family is a type in the EC2 model\'s InstanceType enum', () => {
    expect(fallbacksNotIn(installed().types, fallbackInstanceType)).toEqual([]);
  });

  test('the check catches fallbacks from a ladder of size names (the defect: m7i.2xlarge -> m7i.3xlarge)', () => {
    const ladder = ['nano', 'micro', 'small', 'medium', 'large', 'xlarge', ...[2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 32, 48].map((n) => `${n}xlarge`)];
    const ladderFallback = (type: string) => {
      const [family, size] = type.split('.');
      const next = ladder[ladder.indexOf(size) + 1];
      return ladder.includes(size) && next ? `${family}.${next}` : undefined;
    };
    expect(fallbacksNotIn(installed().types, ladderFallback)).toEqual(expect.arrayContaining([
      'm7i.2xlarge -> m7i.3xlarge', 'm7i.4xlarge -> m7i.6xlarge', 'm7i.8xlarge -> m7i.9xlarge', 'm7i.16xlarge -> m7i.18xlarge', 't4g.2xlarge -> t4g.3xlarge',
    ]));
  });

  test('a fallback is the next larger size of the same family and architecture, and every size below the largest has one', () => {
    const wrong = dataTypes().flatMap((type) => {
      const fallback = fallbackInstanceType(type);
      const [family, size] = type.split('.');
      const larger = EC2_INSTANCE_SIZES[family].split(' ').filter((s) => !s.startsWith('metal') && sizeRank(s) > sizeRank(size));
      const expected = size.startsWith('metal') ? undefined : larger[0] && `${family}.${larger[0]}`;
      const problems = [
        ...fallback !== expected ? [`${type}: fallback ${fallback}, expected ${expected}`] : [],
        ...fallback && architectureOf(fallback) !== architectureOf(type) ? [`${type} (${architectureOf(type)}) -> ${fallback} (${architectureOf(fallback)})`] : [],
      ];
      return problems;
    });
    expect(wrong).toEqual([]);
  });

  test('the committed data is what the generator makes from the installed model: the same file from the same botocore, a subset of a newer one', () => {
    const { model, types } = installed();
    const committed = readFileSync(path.join(__dirname, '..', '..', GENERATED_MODULE), 'utf8');
    if (model.version === DATA_VERSION) {
      expect(renderModule(model)).toEqual(committed);
    } else {
      // A newer model adds the types EC2 launched since: the data is older, not wrong. A type it dropped is a type to stop picking.
      expect(dataTypes().filter((t) => !types.has(t))).toEqual([]);
    }
  });

  test('sizes sort by capacity, bare metal last, and an unknown size shape fails the generator rather than being guessed', () => {
    expect(familySizes(['x9.metal', 'x9.2xlarge', 'x9.metal-24xl', 'x9.large', 'x9.12xlarge', 'x9.xlarge', 'x9.nano'])).toEqual(
      new Map([['x9', ['nano', 'large', 'xlarge', '2xlarge', '12xlarge', 'metal-24xl', 'metal']]]));
    expect(() => sizeRank('huge')).toThrow('size huge: a shape the script does not know; place it in sizeRank');
  });
});

/**
 * README.md's "What a default tier creates and costs" lists the resources of
 * `new SessionTier(stack, 'Tier')` by type: this test synthesizes that tier
 * and compares, so the table stays true when the constructs change.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { SessionTier } from '../lib';
import { testStack } from './helpers/app';

const SECTION = '## What a default tier creates and costs';

/** The section's resource table: `| AWS::Type | count | ... |` rows, and its stated total. */
export function readmeResourceTable(markdown: string): { counts: Record<string, number>; total?: number } {
  const start = markdown.indexOf(SECTION);
  if (start < 0) {
    return { counts: {} };
  }
  const end = markdown.indexOf('\n## ', start + SECTION.length);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const counts: Record<string, number> = {};
  for (const [, type, count] of section.matchAll(/^\| `((?:AWS|Custom)::[\w:]+)` \| (\d+) \|/gm)) {
    counts[type] = Number(count);
  }
  const total = /creates (\d+) CloudFormation resources/.exec(section);
  return { counts, total: total ? Number(total[1]) : undefined };
}

describe('the default tier, as the README counts it', () => {
  const stack = testStack();
  new SessionTier(stack, 'Tier');
  const resources = Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>);
  const actual: Record<string, number> = {};
  for (const r of resources) {
    actual[r.Type] = (actual[r.Type] ?? 0) + 1;
  }
  const readme = readmeResourceTable(fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8'));

  test('the table lists every resource type with its count', () => {
    expect(readme.counts).toEqual(actual);
  });

  test('the stated total is the number of resources', () => {
    expect(readme.total).toBe(resources.length);
  });

  test('the cost drivers the README prices are there: 2 NAT gateways, 3 customer managed keys, 2 instances, one dashboard', () => {
    expect(actual['AWS::EC2::NatGateway']).toBe(2);
    expect(actual['AWS::KMS::Key']).toBe(3);
    expect(actual['AWS::CloudWatch::Dashboard']).toBe(1);
    const group = Object.values(Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(group.Properties.MinSize).toBe('2');
  });

  test('the check catches a table that is off by one', () => {
    const off = readmeResourceTable(`${SECTION}\n\ncreates 3 CloudFormation resources\n\n| \`AWS::KMS::Key\` | 2 |\n`);
    expect(off).toEqual({ counts: { 'AWS::KMS::Key': 2 }, total: 3 });
    expect(off.counts).not.toEqual(actual);
  });
});

/**
 * The database setup runs again when its code changes: its `CodeHash`
 * follows the content of the handler's bundle. The bundle comes from a
 * directory the test writes, the way an installed package takes its prebuilt
 * bundle (`bundleAssetOptions` then gives only the path), so the content can
 * change without touching the handler's source.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { SETUP_PROPS } from '../../lib/contract/database-setup';
import { SessionDatabase } from '../../lib';
import { testStack, testVpc } from '../helpers/app';

let mockSetupBundleDir: string | undefined;

jest.mock('../../lib/private/esbuild-bundle', () => {
  const actual = jest.requireActual('../../lib/private/esbuild-bundle');
  return {
    ...actual,
    bundleAssetOptions: (bundle: unknown, output: unknown) => (bundle === actual.DATABASE_SETUP_BUNDLE && mockSetupBundleDir !== undefined
      ? { path: mockSetupBundleDir }
      : actual.bundleAssetOptions(bundle, output)),
  };
});

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A prebuilt setup bundle holding `code`, the setup's CodeHash with it, and the S3 key of the handler's code. */
function withBundle(code: string): { codeHash: string; s3Key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'setup-bundle-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'index.js'), code);
  mockSetupBundleDir = dir;
  try {
    const stack = testStack();
    new SessionDatabase(stack, 'Db', { vpc: testVpc(stack) });
    const template = Template.fromStack(stack);
    const [setup] = Object.values(template.findResources('Custom::SessionDatabaseSetup'));
    const [handler] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.onEvent', Description: 'Session database setup: the sessions table and the application user' } }));
    return { codeHash: setup.Properties[SETUP_PROPS.CODE_HASH], s3Key: handler.Properties.Code.S3Key };
  } finally {
    mockSetupBundleDir = undefined;
  }
}

test('the setup\'s CodeHash changes with its bundle\'s content, and is the hash of the code Lambda runs', () => {
  const release1 = withBundle('exports.onEvent = async () => ({ PhysicalResourceId: "x" }); // CREATE TABLE sessions');
  const release2 = withBundle('exports.onEvent = async () => ({ PhysicalResourceId: "x" }); // CREATE TABLE sessions; CREATE INDEX expires');
  const release2Again = withBundle('exports.onEvent = async () => ({ PhysicalResourceId: "x" }); // CREATE TABLE sessions; CREATE INDEX expires');
  expect(release1.codeHash).toMatch(/^[0-9a-f]{64}$/);
  expect(release2.codeHash).not.toBe(release1.codeHash);
  // The content, not where it lies: the same bundle again changes nothing, and sends no Update.
  expect(release2Again.codeHash).toBe(release2.codeHash);
  for (const release of [release1, release2]) {
    expect(release.s3Key).toBe(`${release.codeHash}.zip`);
  }
}, 120_000);

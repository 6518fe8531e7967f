/**
 * The app command of cdk.json, `node bin/synth.mjs`: the demo app as the CLI
 * runs it, and the type check that runs alongside it and fails the synth.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, IPolicyValidationPlugin } from 'aws-cdk-lib/core';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

const ROOT = path.join(__dirname, '..', '..');

test('cdk.json runs the launcher', () => {
  expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')).app).toBe('node bin/synth.mjs');
});

test('cdk-nag\'s pack fits the type bin/session-tier.ts gives it by hand (checked by tsc)', () => {
  const asTyped: new (scope: IConstruct) => IPolicyValidationPlugin = AwsSolutionsChecks;
  expect(new asTyped(new App()).name).toBe('AwsSolutions');
});

test('the launcher synthesizes the demo app into CDK_OUTDIR, with nothing for the validation plugins to report', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-'));
  try {
    const run = spawnSync(process.execPath, ['bin/synth.mjs'], { cwd: ROOT, env: { ...process.env, CDK_OUTDIR: out }, encoding: 'utf8' });
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    const template = JSON.parse(fs.readFileSync(path.join(out, 'SessionTierDemo.template.json'), 'utf8'));
    expect(Object.keys(template.Resources).length).toBeGreaterThan(50);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports).toEqual([]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

describe('in a project of its own', () => {
  let project: string;

  /** A project with the launcher, a tsconfig.app.json, and an app that leaves a mark when it runs. */
  function runLauncher(source: string): { status: number | null; stderr: string; appRan: boolean } {
    fs.writeFileSync(path.join(project, 'bin', 'checked.ts'), source);
    fs.rmSync(path.join(project, 'ran'), { force: true });
    const run = spawnSync(process.execPath, ['bin/synth.mjs'], { cwd: project, encoding: 'utf8' });
    return { status: run.status, stderr: run.stdout + run.stderr, appRan: fs.existsSync(path.join(project, 'ran')) };
  }

  beforeAll(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'launcher-'));
    fs.mkdirSync(path.join(project, 'bin'));
    fs.copyFileSync(path.join(ROOT, 'bin', 'synth.mjs'), path.join(project, 'bin', 'synth.mjs'));
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    fs.writeFileSync(path.join(project, 'tsconfig.app.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'] },
      include: ['bin/**/*.ts'],
    }));
    fs.writeFileSync(path.join(project, 'bin', 'session-tier.ts'), "import { writeFileSync } from 'fs';\nwriteFileSync('ran', '');\n");
  });

  afterAll(() => {
    fs.rmSync(project, { recursive: true, force: true });
  });

  test('succeeds when the code type-checks and the app succeeds', () => {
    expect(runLauncher('export const n: number = 1;\n')).toEqual({ status: 0, stderr: '', appRan: true });
  }, 60_000);

  test('fails when the type check fails, although the app itself ran', () => {
    const result = runLauncher("export const n: number = 'one';\n");
    expect(result.status).toBe(1);
    expect(result.appRan).toBe(true);
    expect(result.stderr).toMatch(/bin\/checked\.ts.*TS2322/s);
    expect(result.stderr).toContain('the type check failed');
  }, 60_000);
});

describe('what a user reads when a context value is bad', () => {
  const synthWith = (context: Record<string, string>, env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', 'tsx', 'bin/session-tier.ts'], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, CDK_OUTDIR: fs.mkdtempSync(path.join(os.tmpdir(), 'bad-')), CDK_CONTEXT_JSON: JSON.stringify(context), ...env },
  });

  test('its message once, without a stack trace, and a failed synth', () => {
    const run = synthWith({ stickiness: 'lb:8d' });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('-c stickiness=lb:8d: stickiness: duration must be whole seconds from 1 s to 7 days (604800 s), got 8 days; use Stickiness.loadBalancerCookie(Duration.days(7)) or less');
  }, 60_000);

  test('the stack trace with CDK_DEBUG=true, as cdk --debug sets it', () => {
    const run = synthWith({ stickiness: 'lb:8d' }, { CDK_DEBUG: 'true' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/SessionTierValidationError: -c stickiness=lb:8d[\s\S]*\n\s+at tierPropsFromContext/);
  }, 60_000);
});

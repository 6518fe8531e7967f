/**
 * AWS Control Tower's proactive controls as the tests run them: the
 * cfn-guard rules that `@cdklabs/cdk-validator-cfnguard` ships (the ones
 * Control Tower's hooks run at deploy time), through CDK's policy-validation
 * plugin interface, read back from the synthesized validation report.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Validations } from 'aws-cdk-lib/core';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';

/** One resource that fails one control. */
export interface ControlFinding {
  /** `CT.S3.PR.10` */
  readonly control: string;
  /** The stack's template, e.g. `Demo.template.json`. */
  readonly template: string;
  /** The construct path of the resource (below the stack). */
  readonly path: string;
  /** The acknowledgement's reason, for an acknowledged finding. */
  readonly reason?: string;
}

/** What the controls found in a synthesized app. */
export interface ControlTowerReport {
  /** Failures nobody acknowledged: each one is a resource an account with that control turned on refuses. */
  readonly unacknowledged: ControlFinding[];
  /** Failures acknowledged on their resource (or a parent), with the reason. */
  readonly acknowledged: ControlFinding[];
}

/** Registers the Control Tower rules on `app`; synth then writes their findings into the validation report. */
export function addControlTower(app: App): void {
  Validations.of(app).addPlugins(new CfnGuardValidator());
}

interface ReportConstruct {
  readonly constructPath?: string;
  readonly cloudFormationResource?: { readonly templatePath?: string; readonly logicalId?: string };
}
interface ReportViolation {
  readonly description: string;
  readonly violatingConstructs: ReportConstruct[];
  readonly reason?: string;
}

function findings(violations: ReportViolation[] = []): ControlFinding[] {
  return violations.flatMap((v) => v.violatingConstructs.map((c) => ({
    control: /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(v.description)?.[1] ?? v.description,
    template: path.basename(c.cloudFormationResource?.templatePath ?? ''),
    path: c.constructPath ?? `logical id ${c.cloudFormationResource?.logicalId}`,
    ...v.reason !== undefined ? { reason: v.reason } : {},
  })));
}

/**
 * The cfn-guard findings of a synthesized assembly. Counted from the
 * violations themselves: aws-cdk marks a plugin's report a success as soon
 * as it suppresses any of its violations, because cfn-guard's violations
 * carry no severity (the test of this helper shows it).
 */
export function controlTowerReport(assemblyDir: string): ControlTowerReport & { readonly conclusion: string } {
  const report = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'validation-report.json'), 'utf8'));
  const guard = (report.pluginReports as Array<{ pluginName: string; conclusion: string; violations?: ReportViolation[]; suppressedViolations?: ReportViolation[] }>)
    .find((p) => p.pluginName === 'cdk-validator-cfnguard');
  if (!guard) {
    throw new Error('control tower: the validation report holds no cdk-validator-cfnguard report; was the plugin registered?');
  }
  return { conclusion: guard.conclusion, unacknowledged: findings(guard.violations), acknowledged: findings(guard.suppressedViolations) };
}

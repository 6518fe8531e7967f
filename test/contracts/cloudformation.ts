/**
 * Checks a synthesized template against what CloudFormation accepts: the
 * resource schemas of the CloudFormation registry and the cfn-lint rules on
 * top of them, as AWS's @aws/cloudformation-validate ships them offline, and
 * the quotas the project relies on.
 *
 * The validator is the copy aws-cdk-lib bundles (its `bundleDependencies`) and
 * runs at synth under `@aws-cdk/core:validateAgainstDefaultRules`: the tests
 * judge templates with the same schemas and rules as `cdk synth`, and the npm
 * registry has only an older beta of the package (1.9.0-beta) to install instead.
 * @aws-cdk/aws-service-spec has the property types and which are required, but
 * no value patterns to check against, and no validator.
 * Synth leaves some rules out (W3005 and W9013 among them) and fails only on
 * errors, yet cfn-lint rates a value outside an enum a warning (W3030): these
 * checks report everything at WARN and above, and the tests decide what to accept.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Stack, Stage } from 'aws-cdk-lib/core';

// Types only: the package sits in aws-cdk-lib's own node_modules, where an import by name does not look.
type ValidateModule = typeof import('../../node_modules/aws-cdk-lib/node_modules/@aws/cloudformation-validate');
type Engine = import('../../node_modules/aws-cdk-lib/node_modules/@aws/cloudformation-validate').Engine;
/** A severity of the validator: FATAL, ERROR, WARN, INFO or DEBUG. */
export type Severity = import('../../node_modules/aws-cdk-lib/node_modules/@aws/cloudformation-validate').Severity;

/**
 * CloudFormation's quotas the templates must stay within:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
export const CFN_QUOTAS = {
  /** Template body in an S3 object: "1 MB", read as the smaller 1,000,000 bytes. */
  templateBytes: 1_000_000,
  /** Template body in a request (`TemplateBody`); a larger template must be passed as a `TemplateURL` to S3. */
  requestBodyBytes: 51_200,
  resources: 500,
  outputs: 200,
  parameters: 200,
  mappings: 200,
  /** `{{resolve:...}}` dynamic references in one template. */
  dynamicReferences: 60,
} as const;

/**
 * The most a custom resource's `ServiceTimeout` may be, and its default:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-customresource.html
 * Written out here rather than imported from lib/contract, so a change there is checked against AWS, not against itself.
 */
export const MAX_SERVICE_TIMEOUT_SECONDS = 3600;

/** A template as CloudFormation reads it (the sections the checks look at). */
export interface TemplateJson {
  readonly Resources?: Readonly<Record<string, {
    readonly Type: string;
    readonly Properties?: Readonly<Record<string, unknown>>;
    readonly DependsOn?: string | readonly string[];
  }>>;
  readonly Outputs?: Readonly<Record<string, unknown>>;
  readonly Parameters?: Readonly<Record<string, unknown>>;
  readonly Mappings?: Readonly<Record<string, unknown>>;
}

/** A stack's template as `cdk deploy` sends it. */
export interface SynthesizedTemplate {
  /** The template file's text, exactly as it is uploaded. */
  readonly body: string;
  readonly template: TemplateJson;
  /** The file's size in bytes, what CloudFormation's size quotas count. */
  readonly bytes: number;
  /**
   * Whether the stack's template is a file asset in S3. The CLI then passes it
   * as a `TemplateURL` whatever its size (toolkit-lib's makeBodyParameter), so
   * the 51,200-byte `TemplateBody` limit never applies to it.
   */
  readonly uploadedToS3: boolean;
}

/** Synthesizes `stack`'s app (once; later calls reuse its assembly) and reads the stack's template file. */
export function synthesizedTemplate(stack: Stack): SynthesizedTemplate {
  const stage = Stage.of(stack);
  if (!stage) {
    throw new Error(`${stack.node.path}: the stack is in no app, so there is nothing to synthesize`);
  }
  const artifact = stage.synth().getStackArtifact(stack.artifactId);
  const body = readFileSync(artifact.templateFullPath, 'utf8');
  return { body, template: JSON.parse(body) as TemplateJson, bytes: Buffer.byteLength(body), uploadedToS3: artifact.stackTemplateAssetObjectUrl !== undefined };
}

/** Whether a template of `bytes` is too large to pass as a `TemplateBody` and must go through S3. */
export function needsS3(bytes: number): boolean {
  return bytes > CFN_QUOTAS.requestBodyBytes;
}

/** One diagnostic of the validator, in the fields a reader needs. */
export interface Finding {
  readonly severity: Severity;
  readonly ruleId: string;
  /** The logical id of the resource (or output, parameter) it concerns, if any. */
  readonly entity?: string;
  /** The property within it, e.g. `Properties.GroupId`. */
  readonly path?: string;
  readonly message: string;
}

/** `<severity> <rule> <entity> <path>: <message>`, one line, for assertions and messages. */
export function formatFinding(finding: Finding): string {
  return [finding.severity, finding.ruleId, finding.entity, finding.path].filter((part) => part !== undefined).join(' ') + `: ${finding.message}`;
}

/** The bundled validator, resolved from aws-cdk-lib's own node_modules as aws-cdk-lib itself loads it. */
function loadValidateModule(): ValidateModule {
  return createRequire(require.resolve('aws-cdk-lib'))('@aws/cloudformation-validate') as ValidateModule;
}

/**
 * Validates templates with the `CompositeEngine`: the registry's resource
 * schemas (types, required properties, enums, patterns, ranges, unknown
 * properties and unknown resource types) and cfn-lint's rules. The
 * `SchemaValidator` alone reports nothing for a resource type that does not
 * exist. Building the engine compiles ~1,900 schemas (seconds): build one and
 * reuse it; `free()` releases its WebAssembly memory.
 */
export class TemplateValidator {
  private readonly module = loadValidateModule();
  private readonly engine: Engine = new this.module.CompositeEngine();

  /** The version of the validation core, as aws-cdk-lib reports it in synth's validation report. */
  public get version(): string {
    return this.module.version();
  }

  /**
   * Every diagnostic at WARN or above, with the intrinsics resolved for `env`.
   * Unlike synth's plugin, nothing is excluded: what to accept is the caller's
   * decision. A template the engine could not analyse completely is itself a
   * finding, since its report may leave findings out.
   */
  public validate(body: string, name: string, env: { readonly account: string; readonly region: string }): Finding[] {
    const report = this.engine.validateTemplate(new this.module.TemplateContent(body, name), {
      detailLevel: 'STANDARD',
      severityLevel: 'WARN',
      pseudoParameterOverrides: { accountId: env.account, region: env.region },
    });
    const findings: Finding[] = report.diagnostics.map((d) => ({
      severity: d.severity,
      ruleId: d.ruleId,
      ...d.entity ? { entity: d.entity.logicalId } : {},
      ...d.propertyPath ? { path: d.propertyPath } : {},
      message: d.message,
    }));
    if (report.status !== 'OK') {
      findings.push({ severity: 'ERROR', ruleId: 'report', message: `the validator's report is ${report.status}, so it may leave findings out` });
    }
    return findings;
  }

  /** Releases the engine. */
  public free(): void {
    this.engine.free();
  }
}

/** A warning judged harmless, with the reason a reviewer accepts. */
export interface AcceptedWarning {
  readonly ruleId: string;
  /** The entities it is accepted on; every entity when absent. */
  readonly entity?: RegExp;
  /** The messages it is accepted with; any message when absent. */
  readonly message?: RegExp;
  readonly reason: string;
}

function accepts(acceptance: AcceptedWarning, finding: Finding): boolean {
  return finding.severity === 'WARN'
    && finding.ruleId === acceptance.ruleId
    && (acceptance.entity === undefined || acceptance.entity.test(finding.entity ?? ''))
    && (acceptance.message === undefined || acceptance.message.test(finding.message));
}

/**
 * The findings that fail a template: every FATAL and ERROR, and every WARN no
 * acceptance covers. Warnings count because cfn-lint rates some refusals as
 * warnings: a value outside a property's enum is W3030.
 */
export function unaccepted(findings: readonly Finding[], accepted: readonly AcceptedWarning[]): Finding[] {
  return findings.filter((f) => (f.severity === 'FATAL' || f.severity === 'ERROR' || f.severity === 'WARN')
    && !accepted.some((a) => accepts(a, f)));
}

/** The acceptances that cover none of `findings`: stale ones to remove. */
export function unusedAcceptances(findings: readonly Finding[], accepted: readonly AcceptedWarning[]): AcceptedWarning[] {
  return accepted.filter((a) => !findings.some((f) => accepts(a, f)));
}

/** Each way the template breaks CloudFormation's quotas on its size, its sections and its dynamic references (see {@link CFN_QUOTAS}). */
export function quotaViolations({ template, bytes }: Pick<SynthesizedTemplate, 'template' | 'bytes'>): string[] {
  const found: string[] = [];
  if (bytes > CFN_QUOTAS.templateBytes) {
    found.push(`template: ${bytes} bytes, more than the ${CFN_QUOTAS.templateBytes} CloudFormation reads from S3; split the stack (nested stacks)`);
  }
  const counted = [
    ['Resources', template.Resources, CFN_QUOTAS.resources],
    ['Outputs', template.Outputs, CFN_QUOTAS.outputs],
    ['Parameters', template.Parameters, CFN_QUOTAS.parameters],
    ['Mappings', template.Mappings, CFN_QUOTAS.mappings],
  ] as const;
  for (const [section, entries, max] of counted) {
    const count = Object.keys(entries ?? {}).length;
    if (count > max) {
      found.push(`${section}: ${count} declared, more than the ${max} a template may have`);
    }
  }
  const references = JSON.stringify(template).split('{{resolve:').length - 1;
  if (references > CFN_QUOTAS.dynamicReferences) {
    found.push(`dynamic references: ${references} {{resolve:...}}, more than the ${CFN_QUOTAS.dynamicReferences} a template may have`);
  }
  return found;
}

/** How long a custom resource's provider may take to answer CloudFormation, and what bounds it. */
export interface ProviderWait {
  readonly seconds: number;
  readonly boundBy: string;
}

/**
 * Each custom resource (`AWS::CloudFormation::CustomResource`, `Custom::*`)
 * whose `ServiceTimeout` is not a whole number from 1 to 3600 s, or whose
 * provider may wait as long as CloudFormation or longer: CloudFormation would
 * then fail the stack while the provider goes on changing things.
 */
export function customResourceViolations(template: TemplateJson): string[] {
  const found: string[] = [];
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    if (resource.Type !== 'AWS::CloudFormation::CustomResource' && !resource.Type.startsWith('Custom::')) {
      continue;
    }
    const timeout = serviceTimeoutSeconds(resource.Properties?.ServiceTimeout);
    if (typeof timeout === 'string') {
      found.push(`${id}: ServiceTimeout ${timeout}`);
      continue;
    }
    const wait = providerWait(template, id);
    if (typeof wait === 'string') {
      found.push(`${id}: ${wait}`);
    } else if (wait.seconds >= timeout) {
      found.push(`${id}: its provider may take ${wait.seconds} s (${wait.boundBy}), not less than its ServiceTimeout of ${timeout} s`);
    }
  }
  return found;
}

/** The timeout in seconds, CloudFormation's default when absent, or what is wrong with it. */
function serviceTimeoutSeconds(value: unknown): number | string {
  if (value === undefined) {
    return MAX_SERVICE_TIMEOUT_SECONDS;
  }
  const seconds = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof seconds !== 'number' || !Number.isInteger(seconds)) {
    return `must be a whole number of seconds known at synth, got ${JSON.stringify(value)}`;
  }
  if (seconds < 1 || seconds > MAX_SERVICE_TIMEOUT_SECONDS) {
    return `must be from 1 to ${MAX_SERVICE_TIMEOUT_SECONDS} s, got ${seconds}`;
  }
  return seconds;
}

/**
 * How long the provider behind custom resource `id` may take, read from the
 * template: a provider framework with a waiter answers when its state machine
 * ends, so the machine's retries bound it; a plain Lambda answers before its
 * timeout. A provider outside the template (SNS, an imported function) cannot
 * be judged, and is reported as such.
 */
export function providerWait(template: TemplateJson, id: string): ProviderWait | string {
  const resources = template.Resources ?? {};
  const token = resources[id]?.Properties?.ServiceToken as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const functionId = token?.['Fn::GetAtt']?.[1] === 'Arn' ? token['Fn::GetAtt'][0] : undefined;
  const fn = functionId === undefined ? undefined : resources[functionId];
  if (functionId === undefined || fn?.Type !== 'AWS::Lambda::Function') {
    return `its ServiceToken is not a Lambda function of this template, so how long its provider takes is unknown, got ${JSON.stringify(token)}`;
  }
  const variables = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  const waiter = (variables?.WAITER_STATE_MACHINE_ARN as { Ref?: string } | undefined)?.Ref;
  if (waiter !== undefined) {
    const machine = resources[waiter];
    if (machine?.Type !== 'AWS::StepFunctions::StateMachine') {
      return `its provider ${functionId} names a waiter ${waiter} that is not a state machine of this template`;
    }
    const seconds = stateMachineSeconds(machine.Properties?.DefinitionString);
    return { seconds, boundBy: `the retries of ${functionId}'s waiter state machine ${waiter}` };
  }
  // Lambda's default timeout is 3 s.
  const seconds = Number(fn.Properties?.Timeout ?? 3);
  return { seconds, boundBy: `the timeout of Lambda function ${functionId}` };
}

/**
 * The longest a state machine waits between its states' attempts: for each
 * Retry, `IntervalSeconds × BackoffRate^k` (capped by `MaxDelaySeconds`) for
 * each of its `MaxAttempts` retries, with Step Functions' defaults (1 s, 2.0,
 * 3), plus every Wait state's `Seconds`; at most the machine's `TimeoutSeconds`.
 * The attempts' own run time is not counted. `definition` is the template's
 * `DefinitionString`: text, or an `Fn::Join` whose intrinsics sit inside JSON strings.
 */
export function stateMachineSeconds(definition: unknown): number {
  const parsed = JSON.parse(definitionText(definition)) as {
    TimeoutSeconds?: number;
    States: Record<string, { Type: string; Seconds?: number; Retry?: { IntervalSeconds?: number; MaxAttempts?: number; BackoffRate?: number; MaxDelaySeconds?: number }[] }>;
  };
  let total = 0;
  for (const [name, state] of Object.entries(parsed.States)) {
    if (state.Type === 'Parallel' || state.Type === 'Map') {
      throw new Error(`state ${name}: ${state.Type} states are not understood; count their branches by hand`);
    }
    if (state.Type === 'Wait') {
      if (state.Seconds === undefined) {
        throw new Error(`state ${name}: only Wait states with Seconds are understood`);
      }
      total += state.Seconds;
    }
    for (const retry of state.Retry ?? []) {
      for (let k = 0; k < (retry.MaxAttempts ?? 3); k++) {
        total += Math.min((retry.IntervalSeconds ?? 1) * (retry.BackoffRate ?? 2) ** k, retry.MaxDelaySeconds ?? Infinity);
      }
    }
  }
  return Math.min(total, parsed.TimeoutSeconds ?? Infinity);
}

function definitionText(definition: unknown): string {
  if (typeof definition === 'string') {
    return definition;
  }
  const join = (definition as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (join && join[0] === '') {
    // The intrinsics are ARNs inside JSON strings ("Resource": "<GetAtt>"): any text keeps the JSON valid.
    return join[1].map((part) => (typeof part === 'string' ? part : 'intrinsic')).join('');
  }
  throw new Error(`DefinitionString: must be text or an Fn::Join with an empty separator, got ${JSON.stringify(definition)}`);
}

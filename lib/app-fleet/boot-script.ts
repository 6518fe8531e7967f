import { Lazy, Stack, Token } from 'aws-cdk-lib/core';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { APP_ENV } from '../contract/app-env';
import { SessionTierValidationError } from '../errors';
import { FleetApplicationConfig } from '../fleet-application';
import { SecretReference, renderBootScript } from '../private/user-data';
import { ResolvedFleetProps } from './resolve-props';

/**
 * What a fleet's instances do at boot, gathered from the fleet, its strategy
 * and its metrics shipping. Each addition is checked as it comes (errors name
 * the fleet); the script is rendered once, at synth, so additions made after
 * the fleet's constructor still reach it.
 */
export class BootScriptBuilder {
  /** The variable that gets the instance's id at boot (a log stream per instance), if any. */
  public instanceIdVariable?: string;
  private readonly environment: Record<string, string> = {};
  private readonly secretEnvironment: Record<string, SecretReference> = {};
  private readonly packages: string[] = [];
  private readonly bootCommands: string[] = [];
  private readonly unitSettings: string[] = [];
  private readonly serviceSettings: string[] = [];

  /** @param fleet the fleet whose instances boot this way, named in errors and the source of the stack */
  constructor(private readonly fleet: Construct) {}

  /** A variable of the environment file: a shell-style name and a single-line value. */
  public addEnvironment(name: string, value: string): void {
    this.environment[name] = checkEnvironment(name, value, this.fleet);
  }

  /** A variable whose value is a secret's (or one JSON field of it), fetched at boot; granting its read is the caller's. */
  public addSecretEnvironment(name: string, secret: secretsmanager.ISecret, field?: string): void {
    checkEnvironmentName(name, this.fleet);
    if (field !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) {
      throw new SessionTierValidationError(`field: must be a JSON key of letters, digits and underscores, got ${JSON.stringify(field)}`, this.fleet);
    }
    this.secretEnvironment[name] = { secret, field };
  }

  /** Amazon Linux 2023 packages to install. */
  public addPackages(...packages: string[]): void {
    for (const pkg of packages) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(pkg)) {
        throw new SessionTierValidationError(`packages: must be an Amazon Linux 2023 package name like nodejs22, got ${JSON.stringify(pkg)}`, this.fleet);
      }
    }
    this.packages.push(...packages);
  }

  /** Shell commands to run after the environment is written and before the app starts. */
  public addBootCommands(...commands: string[]): void {
    this.bootCommands.push(...commands);
  }

  /** `[Unit]` settings of the app's systemd unit. */
  public addUnitSetting(...settings: string[]): void {
    this.unitSettings.push(...checkUnitSettings(settings, this.fleet));
  }

  /** `[Service]` settings of the app's systemd unit. */
  public addServiceSetting(...settings: string[]): void {
    this.serviceSettings.push(...checkUnitSettings(settings, this.fleet));
  }

  /**
   * Puts the script into the launch template's user data, rendered at synth
   * from everything added by then. The environment file starts with what
   * every application reads of its fleet: who it is, where it listens, how it
   * names and secures its cookie.
   * @param group the Auto Scaling group the instance signals once the app answers its health check
   */
  public addTo(launchTemplate: ec2.LaunchTemplate, group: autoscaling.AutoScalingGroup, application: FleetApplicationConfig, r: ResolvedFleetProps): void {
    const fleetEnvironment: Record<string, string> = {};
    for (const [name, value] of Object.entries({
      [APP_ENV.COLOR]: r.color,
      [APP_ENV.VERSION]: r.version,
      [APP_ENV.HOST]: '0.0.0.0',
      [APP_ENV.PORT]: String(application.port),
      [APP_ENV.COOKIE_NAME]: r.cookieName,
      [APP_ENV.SECURE_COOKIE]: String(r.secureCookies),
      [APP_ENV.INSTANCE_METADATA]: 'imds',
    })) {
      fleetEnvironment[name] = checkEnvironment(name, value, this.fleet);
    }
    const stack = Stack.of(this.fleet);
    const asset = application.asset;
    // The boot reports to its Auto Scaling group through the CloudFormation API (cfn-signal is not on AL2023);
    // the group's signals already grant the instances cloudformation:SignalResource on this stack.
    const archive = asset?.isZipArchive ?? false;
    launchTemplate.userData!.addCommands(Lazy.string({
      produce: () => renderBootScript({
        packages: [...application.packages, ...archive ? ['unzip'] : [], ...this.packages],
        download: asset && { bucket: asset.bucket, key: asset.s3ObjectKey, archive, fileName: application.fileName ?? 'app' },
        // The fleet's own first; a variable added again keeps its place and takes the later value.
        environment: { ...fleetEnvironment, ...this.environment },
        instanceIdVariable: this.instanceIdVariable,
        secrets: this.secretEnvironment,
        bootCommands: this.bootCommands,
        unit: { unitSettings: this.unitSettings, serviceSettings: this.serviceSettings, command: application.command },
        health: { port: application.port, path: application.healthCheckPath, waitSeconds: Math.max(60, r.signalTimeout.toSeconds() - 120) },
        signal: {
          stackName: stack.stackName,
          region: stack.region,
          resource: stack.getLogicalId(group.node.defaultChild as autoscaling.CfnAutoScalingGroup),
        },
      }),
    }));
  }
}

/** A variable of the environment file: a shell-style name and a single-line value; returns the value. */
function checkEnvironment(name: string, value: string, scope: Construct): string {
  checkEnvironmentName(name, scope);
  if (!Token.isUnresolved(value) && /[\r\n\0]/.test(value)) {
    throw new SessionTierValidationError(`environment: ${name} must be a single line, got ${JSON.stringify(value)}; remove the line breaks`, scope);
  }
  return value;
}

function checkEnvironmentName(name: string, scope: Construct): void {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) {
    throw new SessionTierValidationError(`environment: variable name must match [A-Z_][A-Z0-9_]*, got ${JSON.stringify(name)}`, scope);
  }
}

function checkUnitSettings(settings: string[], scope: Construct): string[] {
  for (const setting of settings) {
    if (!/^[A-Za-z]+=[^\n]*$/.test(setting)) {
      throw new SessionTierValidationError(`serviceSetting: must be one Key=value line, got ${JSON.stringify(setting)}`, scope);
    }
  }
  return settings;
}

import * as path from 'path';
import { Token } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { DEFAULT_APP_PORT, HEALTH_CHECK_PATH } from './contract/app-env';
import { ProblemList } from './private/problems';
import { INSTANCE_PATHS } from './private/user-data';
import { SAMPLE_APP_FILE, sampleAppAsset } from './private/sample-app-asset';

/** AL2023 namespaces Node.js by major version; the sample app runs on this one. */
const SAMPLE_APP_NODE = { package: 'nodejs22', binary: '/usr/bin/node-22' } as const;

/** How a fleet's instances get, start and check an application. */
export interface FleetApplicationConfig {
  /** Amazon Linux 2023 packages the application needs (installed with dnf at boot). */
  readonly packages: string[];
  /** The application's files, downloaded at boot into the application directory (an archive unpacked); none for an image that holds them. */
  readonly asset?: s3assets.Asset;
  /** The name a single-file asset gets in the application directory. */
  readonly fileName?: string;
  /** The command systemd runs (`ExecStart=`), in the application directory. */
  readonly command: string;
  /** The port it listens on; the target group sends traffic there. */
  readonly port: number;
  /** The path its health check answers 200 on. */
  readonly healthCheckPath: string;
  /** The image the instances start from; none: Amazon Linux 2023 for the instance type's architecture. */
  readonly machineImage?: ec2.IMachineImage;
  /** Whether it publishes the session metrics of the sample app (Embedded Metric Format, to the CloudWatch agent). */
  readonly publishesMetrics: boolean;
}

/** Options of {@link FleetApplication.sampleApp}. */
export interface SampleAppOptions {
  /**
   * The port it listens on: 1024 to 65535 (it runs unprivileged).
   * @default 8080
   */
  readonly port?: number;
}

/** What every application run on a fleet declares. */
export interface FleetApplicationOptions {
  /**
   * The command systemd starts, run in the application's directory
   * (`/opt/session-app`) as the unprivileged user `session-app`, with the
   * session store's settings in its environment (see `APP_ENV`). systemd
   * expands `${NAME}` from that environment.
   */
  readonly command: string;
  /**
   * The port it listens on.
   * @default 8080
   */
  readonly port?: number;
  /**
   * The path that answers 200 once the application can serve; the boot signals
   * success only after it does, and the load balancer checks it.
   * @default '/health'
   */
  readonly healthCheckPath?: string;
  /**
   * Amazon Linux 2023 packages it needs, e.g. `nodejs22`, `php8.4`,
   * `java-21-amazon-corretto-headless`.
   * @default none
   */
  readonly packages?: string[];
}

/**
 * The application a fleet runs: the sample app (the default), your own
 * application shipped as an S3 asset, or your own machine image. Whatever it
 * is, user data installs its packages, writes the session store's settings
 * into its environment file, runs it under its own user with systemd, and
 * signals success only once its health check answers; every failing step
 * signals failure.
 */
export abstract class FleetApplication {
  /**
   * The sample app of this library (Node.js 22), which keeps its session in
   * any of the five strategies and publishes session metrics.
   */
  public static sampleApp(options: SampleAppOptions = {}): FleetApplication {
    const port = options.port ?? DEFAULT_APP_PORT;
    checkOptions({ command: 'node', port, healthCheckPath: HEALTH_CHECK_PATH, packages: [] });
    return new SampleApplication(port);
  }

  /**
   * Your application from a directory (shipped zipped, unpacked into the
   * application's directory) or a single file, as an S3 asset.
   * @param assetPath the directory or file
   */
  public static fromAsset(assetPath: string, options: FleetApplicationOptions): FleetApplication {
    const resolved = resolveOptions(options);
    return new AssetApplication(assetPath, resolved);
  }

  /**
   * Your own machine image, which holds the application: user data writes
   * its environment and starts `command` under systemd, as for any other.
   */
  public static fromMachineImage(machineImage: ec2.IMachineImage, options: FleetApplicationOptions): FleetApplication {
    return new ImageApplication(machineImage, resolveOptions(options));
  }

  /** The port the application listens on. */
  public abstract readonly port: number;

  /** Creates what the application needs (its asset) in `scope` and says how to run it. */
  public abstract bind(scope: Construct): FleetApplicationConfig;
}

type ResolvedOptions = Required<FleetApplicationOptions>;

function resolveOptions(options: FleetApplicationOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    command: options.command,
    port: options.port ?? DEFAULT_APP_PORT,
    healthCheckPath: options.healthCheckPath ?? HEALTH_CHECK_PATH,
    packages: options.packages ?? [],
  };
  checkOptions(resolved);
  return resolved;
}

/** The rules of a systemd unit, a target group and dnf, checked at synth in one pass. */
function checkOptions(o: ResolvedOptions): void {
  const problems = new ProblemList();
  problems.check(typeof o.command !== 'string' || o.command.trim() === '' || /[\r\n\0]/.test(o.command),
    () => `command: must be one non-empty line, got ${JSON.stringify(o.command)}; e.g. '/usr/bin/node-22 server.js'`);
  problems.wholeNumber('port', o.port, { min: 1024, max: 65535 }, 'the application runs unprivileged');
  // A value known only at deploy time (a CfnParameter) is CloudFormation's to check: no message prints a token.
  problems.check(!Token.isUnresolved(o.healthCheckPath) && !/^\/[A-Za-z0-9\-._~/%!$&'()*+,;=:@]{0,1023}$/.test(o.healthCheckPath),
    () => `healthCheckPath: must be a URL path starting with / (at most 1024 characters, no spaces or query), got ${JSON.stringify(o.healthCheckPath)}`);
  for (const pkg of o.packages) {
    problems.check(!Token.isUnresolved(pkg) && !/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/.test(pkg),
      () => `packages: each must be an Amazon Linux 2023 package name like nodejs22 or php8.4, got ${JSON.stringify(pkg)}`);
  }
  problems.throwIfAny();
}

class SampleApplication extends FleetApplication {
  constructor(public readonly port: number) {
    super();
  }

  public bind(scope: Construct): FleetApplicationConfig {
    return {
      packages: [SAMPLE_APP_NODE.package],
      asset: sampleAppAsset(scope, 'AppBundle'),
      fileName: SAMPLE_APP_FILE,
      command: `${SAMPLE_APP_NODE.binary} ${INSTANCE_PATHS.appDir}/${SAMPLE_APP_FILE}`,
      port: this.port,
      healthCheckPath: HEALTH_CHECK_PATH,
      publishesMetrics: true,
    };
  }
}

class AssetApplication extends FleetApplication {
  public readonly port: number;

  constructor(private readonly assetPath: string, private readonly options: ResolvedOptions) {
    super();
    this.port = options.port;
  }

  public bind(scope: Construct): FleetApplicationConfig {
    return {
      packages: this.options.packages,
      asset: new s3assets.Asset(scope, 'AppBundle', { path: path.resolve(this.assetPath) }),
      fileName: path.basename(this.assetPath),
      command: this.options.command,
      port: this.options.port,
      healthCheckPath: this.options.healthCheckPath,
      publishesMetrics: false,
    };
  }
}

class ImageApplication extends FleetApplication {
  public readonly port: number;

  constructor(private readonly machineImage: ec2.IMachineImage, private readonly options: ResolvedOptions) {
    super();
    this.port = options.port;
  }

  public bind(): FleetApplicationConfig {
    return {
      packages: this.options.packages,
      command: this.options.command,
      port: this.options.port,
      healthCheckPath: this.options.healthCheckPath,
      machineImage: this.machineImage,
      publishesMetrics: false,
    };
  }
}

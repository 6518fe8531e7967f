import { Lazy } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { HEALTH_CHECK_PATH } from '../contract/app-env';

/** Where user data installs the app and its configuration on the instance. */
export const INSTANCE_PATHS = {
  appDir: '/opt/session-app',
  envFile: '/etc/session-app/app.env',
  secretsFile: '/etc/session-app/secrets.env',
  unit: '/etc/systemd/system/session-app.service',
} as const;

/** AL2023 namespaces Node.js by major version; the app runs on this one. */
const NODE_PACKAGE = 'nodejs22';
const NODE_BINARY = '/usr/bin/node-22';

/** A secret whose value (or one field of its JSON) becomes an environment variable. */
export interface SecretReference {
  readonly secret: secretsmanager.ISecret;
  /** The JSON field to take; the whole secret string when absent. */
  readonly field?: string;
}

/** What user data needs to install, configure, start and report the app. */
export interface AppUserDataOptions {
  /** The bundled app. */
  readonly bundle: { readonly bucket: s3.IBucket; readonly key: string; readonly fileName: string };
  /** Read at synth, after every `addEnvironment` call. */
  readonly environment: () => Record<string, string>;
  /** Secrets fetched at boot into a root-only file; read at synth. */
  readonly secrets: () => Record<string, SecretReference>;
  /** Commands that prepare what the app needs (mounts, say) before it starts; read at synth. */
  readonly bootCommands: () => readonly string[];
  /** Extra `[Service]` settings of the app's systemd unit; read at synth. */
  readonly serviceSettings: () => readonly string[];
  /** Port of the app's health check. */
  readonly port: number;
  /** How long to wait for the app's health check before signalling failure, in seconds. */
  readonly healthWaitSeconds: number;
  /** cfn-signal's target: stack name, region and the Auto Scaling group's logical id. */
  readonly signal: { readonly stackName: string; readonly region: string; readonly resource: string };
}

/**
 * Renders `KEY="value"` lines for a systemd `EnvironmentFile`.
 * Values are quoted; backslashes and double quotes are escaped.
 */
export function renderEnvironmentFile(environment: Record<string, string>): string {
  return Object.keys(environment).sort()
    .map((key) => `${key}="${environment[key].replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join('\n');
}

/**
 * Adds the commands that install Node.js and the app, write its environment,
 * start it under systemd, wait until it answers its health check, and only then
 * send the success signal the Auto Scaling group's creation and rolling update
 * wait for. Any failing command signals failure at once.
 */
export function addAppUserData(userData: ec2.UserData, options: AppUserDataOptions): void {
  const { signal, port } = options;
  const cfnSignal = (code: string) =>
    `/opt/aws/bin/cfn-signal --exit-code ${code} --stack ${signal.stackName} --resource ${signal.resource} --region ${signal.region}`;
  const appFile = `${INSTANCE_PATHS.appDir}/${options.bundle.fileName}`;
  const tries = Math.max(1, Math.ceil(options.healthWaitSeconds / 5));

  userData.addCommands(
    'set -euo pipefail',
    `dnf install -y ${NODE_PACKAGE} aws-cfn-bootstrap`,
    `trap '${cfnSignal('1')}' ERR`,
    'id session-app >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin session-app',
    `mkdir -p ${INSTANCE_PATHS.appDir} /etc/session-app`,
  );
  userData.addS3DownloadCommand({ bucket: options.bundle.bucket, bucketKey: options.bundle.key, localFile: appFile });
  userData.addCommands(
    `chmod 0644 ${appFile}`,
    `cat > ${INSTANCE_PATHS.envFile} <<'SESSION_APP_ENV'`,
    Lazy.string({ produce: () => renderEnvironmentFile(options.environment()) }),
    'SESSION_APP_ENV',
    // Secrets never enter the template or the launch template: fetched at boot
    // into a file only root reads (systemd reads it before dropping privileges).
    `install -m 0600 /dev/null ${INSTANCE_PATHS.secretsFile}`,
    Lazy.string({
      produce: () => {
        const secrets = options.secrets();
        return Object.keys(secrets).sort().map((name) => {
          const { secret, field } = secrets[name];
          // A JSON secret's field is picked with AL2023's own python3 (jq is not installed by default).
          const pick = field ? ` | python3 -c 'import json,sys; print(json.load(sys.stdin)["${field}"])'` : '';
          return `printf '%s="%s"\\n' ${name} "$(aws secretsmanager get-secret-value --region ${signal.region} ` +
            `--secret-id ${secret.secretArn} --query SecretString --output text${pick})" >> ${INSTANCE_PATHS.secretsFile}`;
        }).join('\n') || '# no secrets';
      },
    }),
    Lazy.string({ produce: () => options.bootCommands().join('\n') || '# no boot commands' }),
    `cat > ${INSTANCE_PATHS.unit} <<'SESSION_APP_UNIT'`,
    '[Unit]',
    'Description=Session sample app',
    'After=network-online.target',
    'Wants=network-online.target',
    '[Service]',
    'User=session-app',
    `EnvironmentFile=${INSTANCE_PATHS.envFile}`,
    `EnvironmentFile=${INSTANCE_PATHS.secretsFile}`,
    `ExecStart=${NODE_BINARY} ${appFile}`,
    'Restart=always',
    'RestartSec=2',
    // SIGTERM lets the app drain in-flight requests; the deregistration delay covers the rest.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    Lazy.string({ produce: () => options.serviceSettings().join('\n') || '# no extra settings' }),
    '[Install]',
    'WantedBy=multi-user.target',
    'SESSION_APP_UNIT',
    'systemctl daemon-reload',
    'systemctl enable --now session-app',
    `for i in $(seq 1 ${tries}); do curl -fsS http://127.0.0.1:${port}${HEALTH_CHECK_PATH} && break; sleep 5; done`,
    `curl -fsS http://127.0.0.1:${port}${HEALTH_CHECK_PATH}`,
    cfnSignal('0'),
  );
}

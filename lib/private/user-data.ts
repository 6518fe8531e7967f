import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** Where user data installs the application and its configuration on the instance. */
export const INSTANCE_PATHS = {
  /** The application's files (read-only to it). */
  appDir: '/opt/session-app',
  /** Its configuration. */
  configDir: '/etc/session-app',
  /** Its environment: the session store's settings and what the fleet adds. */
  envFile: '/etc/session-app/app.env',
  /** The secrets among its environment, readable by root only (systemd reads it before dropping privileges). */
  secretsFile: '/etc/session-app/secrets.env',
  /** Its systemd unit. */
  unit: '/etc/systemd/system/session-app.service',
} as const;

/** The unprivileged user the application runs as, and the name of its systemd unit. */
export const APP_USER = 'session-app';

/** A secret whose value (or one field of its JSON) becomes an environment variable. */
export interface SecretReference {
  readonly secret: secretsmanager.ISecret;
  /** The JSON field to take; the whole secret string when absent. */
  readonly field?: string;
}

/** Everything the boot script does, in order. */
export interface BootScript {
  /** Amazon Linux 2023 packages, installed in one transaction (retried). */
  readonly packages: readonly string[];
  /** The application's files from S3; an archive is unpacked into the application directory. */
  readonly download?: { readonly bucket: s3.IBucket; readonly key: string; readonly archive: boolean; readonly fileName: string };
  /** The environment file's variables. */
  readonly environment: Readonly<Record<string, string>>;
  /** An environment variable that gets the instance id, known only at boot. */
  readonly instanceIdVariable?: string;
  /** Secrets fetched at boot into the root-only secrets file. */
  readonly secrets: Readonly<Record<string, SecretReference>>;
  /** What prepares the stores and agents (mounts, certificate bundles), after the environment is written. */
  readonly bootCommands: readonly string[];
  /** The application's systemd unit: its `[Unit]` and `[Service]` settings beyond ours, and its command. */
  readonly unit: { readonly unitSettings: readonly string[]; readonly serviceSettings: readonly string[]; readonly command: string };
  /** The health check that must answer before the success signal, and how long to wait for it. */
  readonly health: { readonly port: number; readonly path: string; readonly waitSeconds: number };
  /** The Auto Scaling group the signals go to. */
  readonly signal: { readonly stackName: string; readonly region: string; readonly resource: string };
}

/**
 * Renders `KEY="value"` lines for a systemd `EnvironmentFile`.
 * Values are quoted; backslashes and double quotes are escaped.
 */
export function renderEnvironmentFile(environment: Readonly<Record<string, string>>): string {
  return Object.keys(environment).sort()
    .map((key) => `${key}="${environment[key].replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join('\n');
}

/** A value in single quotes for the shell (the values here never hold a single quote: names, ARNs, tokens). */
function quote(value: string): string {
  if (value.includes("'")) {
    throw new Error(`user data: ${JSON.stringify(value)} holds a single quote`);
  }
  return `'${value}'`;
}

/**
 * Writes one secret (or one field of its JSON) into the secrets file as
 * `NAME="value"`; a fetch that fails, a missing field, an empty value or one
 * that spans lines fails the boot.
 */
const PUT_SECRET = [
  'put_secret() { # variable, secret ARN, JSON field or empty',
  '  local value',
  '  value=$(aws secretsmanager get-secret-value --region "$REGION" --secret-id "$2" --query SecretString --output text) ||',
  '    fail "secret $2: get-secret-value failed"',
  '  if [ -n "$3" ]; then',
  '    value=$(printf \'%s\' "$value" | python3 -c \'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])\' "$3") ||',
  '      fail "secret $2: no field $3"',
  '  fi',
  '  [ -n "$value" ] || fail "secret $2${3:+ field $3} is empty"',
  '  case $value in *$\'\\n\'* | *$\'\\r\'*) fail "secret $2${3:+ field $3} spans lines" ;; esac',
  '  value=${value//\\\\/\\\\\\\\}',
  '  value=${value//\\"/\\\\\\"}',
  `  printf '%s="%s"\\n' "$1" "$value" >> ${INSTANCE_PATHS.secretsFile}`,
  '}',
];

/**
 * The boot script: installs the packages and the application, writes its
 * environment and secrets, prepares its stores, starts it under systemd,
 * waits until its health check answers, and only then signals success to
 * the Auto Scaling group's creation or rolling update. Every failing step,
 * from the first package install on, signals failure at once and stops.
 * The signals go through the AWS CLI that Amazon Linux 2023 ships, so that
 * even a failed package install is reported (cfn-signal is not on AL2023).
 */
export function renderBootScript(b: BootScript): string {
  const { signal, health } = b;
  const tries = Math.max(1, Math.ceil(health.waitSeconds / 5));
  const lines = [
    'set -Eeuo pipefail',
    `readonly STACK=${quote(signal.stackName)} RESOURCE=${quote(signal.resource)} REGION=${quote(signal.region)}`,
    'imds() {',
    '  local token',
    "  token=$(curl -fsS --max-time 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)",
    '  curl -fsS --max-time 5 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"',
    '}',
    'signal() {',
    '  aws cloudformation signal-resource --region "$REGION" --stack-name "$STACK" --logical-resource-id "$RESOURCE" \\',
    '    --unique-id "${INSTANCE_ID:-unknown}" --status "$1"',
    '}',
    'fail() {',
    '  trap - ERR',
    '  # In a command substitution, leave the report to the script, which fails in turn.',
    '  [ "$BASH_SUBSHELL" -eq 0 ] || exit 1',
    `  echo "${APP_USER} boot failed: $1" >&2`,
    '  signal FAILURE || echo "the failure signal could not be sent either" >&2',
    '  exit 1',
    '}',
    'trap \'fail "line $LINENO exited with status $?"\' ERR',
    'INSTANCE_ID=$(imds instance-id)',
    'install_packages() {',
    '  local attempt',
    '  for attempt in 1 2 3; do',
    '    dnf install -y "$@" && return 0',
    '    sleep $((attempt * 10))',
    '  done',
    '  fail "dnf install $* failed 3 times"',
    '}',
  ];
  if (Object.keys(b.secrets).length > 0) {
    lines.push(...PUT_SECRET);
  }
  if (b.packages.length > 0) {
    lines.push(`install_packages ${[...new Set(b.packages)].join(' ')}`);
  }
  lines.push(
    `id ${APP_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin ${APP_USER}`,
    `install -d -m 0755 ${INSTANCE_PATHS.appDir} ${INSTANCE_PATHS.configDir}`,
  );
  if (b.download) {
    const source = quote(`s3://${b.download.bucket.bucketName}/${b.download.key}`);
    if (b.download.archive) {
      lines.push(
        `aws s3 cp --region "$REGION" --only-show-errors ${source} /tmp/${APP_USER}.zip`,
        `unzip -q -o /tmp/${APP_USER}.zip -d ${INSTANCE_PATHS.appDir}`,
        `rm -f /tmp/${APP_USER}.zip`,
      );
    } else {
      lines.push(`aws s3 cp --region "$REGION" --only-show-errors ${source} ${INSTANCE_PATHS.appDir}/${b.download.fileName}`);
    }
    // Readable, never writable, by the application.
    lines.push(`chmod -R u=rwX,go=rX ${INSTANCE_PATHS.appDir}`);
  }
  lines.push(
    `cat > ${INSTANCE_PATHS.envFile} <<'SESSION_APP_ENV'`,
    renderEnvironmentFile(b.environment),
    'SESSION_APP_ENV',
  );
  if (b.instanceIdVariable) {
    lines.push(`printf '%s="%s"\\n' ${b.instanceIdVariable} "$INSTANCE_ID" >> ${INSTANCE_PATHS.envFile}`);
  }
  lines.push(`install -m 0600 /dev/null ${INSTANCE_PATHS.secretsFile}`);
  for (const name of Object.keys(b.secrets).sort()) {
    const { secret, field } = b.secrets[name];
    lines.push(`put_secret ${name} ${quote(secret.secretArn)} ${quote(field ?? '')}`);
  }
  lines.push(
    ...b.bootCommands,
    `cat > ${INSTANCE_PATHS.unit} <<'SESSION_APP_UNIT'`,
    '[Unit]',
    `Description=${APP_USER}: the application of the session tier`,
    'After=network-online.target',
    'Wants=network-online.target',
    ...b.unit.unitSettings,
    '[Service]',
    `User=${APP_USER}`,
    `WorkingDirectory=${INSTANCE_PATHS.appDir}`,
    `EnvironmentFile=${INSTANCE_PATHS.envFile}`,
    `EnvironmentFile=${INSTANCE_PATHS.secretsFile}`,
    `ExecStart=${b.unit.command}`,
    'Restart=always',
    'RestartSec=2',
    // SIGTERM lets the application drain in-flight requests; the deregistration delay covers the rest.
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    ...b.unit.serviceSettings,
    '[Install]',
    'WantedBy=multi-user.target',
    'SESSION_APP_UNIT',
    'systemctl daemon-reload',
    `systemctl enable --now ${APP_USER}`,
    `for ((try = 1; try <= ${tries}; try++)); do`,
    `  if curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:${health.port}${health.path}; then`,
    '    signal SUCCESS',
    '    exit 0',
    '  fi',
    '  sleep 5',
    'done',
    `fail "the application did not answer http://127.0.0.1:${health.port}${health.path} within ${tries * 5} s"`,
  );
  return lines.join('\n');
}

/**
 * Runs a fleet's rendered boot script as an instance would, in a temporary
 * directory that stands in for the instance's root: bash with stub `dnf`,
 * `aws`, `curl`, `systemctl`, `mount`, `useradd`, `id`, `unzip` and the
 * CloudWatch agent on PATH. The script's absolute paths (/etc/session-app,
 * /opt, /mnt/sessions, /etc/fstab, /etc/systemd/system, the system trust
 * store) are moved under that root, and nothing else is touched.
 *
 * Every stub appends what it was asked to an event log, so a test reads the
 * order of the boot: packages, downloads, secrets, mount, start, health, and
 * the one signal. A stub fails on request (`fail`), to prove that each step's
 * failure signals FAILURE and never SUCCESS. `systemctl enable --now` starts
 * the unit's `ExecStart` for real, with the unit's environment files, so the
 * real application can answer the health check (`app: 'run'`).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';

/** How one intrinsic of the template becomes text: return undefined for the default. */
export type IntrinsicResolver = (intrinsic: Record<string, unknown>) => string | undefined;

/** The default stand-ins: secrets get ARNs that name their logical id; everything else a readable placeholder. */
export function defaultResolve(template: Template, intrinsic: Record<string, unknown>): string {
  if ('Ref' in intrinsic) {
    const id = String(intrinsic.Ref);
    if (id === 'AWS::Region') return 'eu-west-1';
    if (id === 'AWS::StackName') return 'Test';
    if (id === 'AWS::AccountId') return '123456789012';
    if (id === 'AWS::URLSuffix') return 'amazonaws.com';
    if (id === 'AWS::Partition') return 'aws';
    const type = (template.toJSON().Resources?.[id] as { Type?: string } | undefined)?.Type;
    if (type === 'AWS::SecretsManager::Secret' || type === 'AWS::SecretsManager::SecretTargetAttachment') {
      return secretArnFor(id);
    }
    return `ref-${id}`;
  }
  if ('Fn::GetAtt' in intrinsic) {
    const [id, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
    return `${id}.${attribute}`;
  }
  throw new Error(`boot harness: cannot render ${JSON.stringify(intrinsic)}`);
}

/** The ARN the harness gives the secret of a logical id. */
export function secretArnFor(logicalId: string): string {
  return `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${logicalId}`;
}

/** Renders the joined parts of a value, resolving intrinsics. */
function render(value: unknown, template: Template, resolve: IntrinsicResolver): string {
  if (typeof value === 'string') {
    return value;
  }
  const o = value as Record<string, unknown>;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => render(p, template, resolve)).join(sep);
  }
  if ('Fn::Sub' in o && typeof o['Fn::Sub'] === 'string') {
    return (o['Fn::Sub'] as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => render({ Ref: name }, template, resolve));
  }
  return resolve(o) ?? defaultResolve(template, o);
}

/**
 * The boot script of the launch template whose logical id starts with
 * `launchTemplatePrefix` (the only one when omitted), intrinsics resolved.
 */
export function bootScriptOf(template: Template, launchTemplatePrefix = '', resolve: IntrinsicResolver = () => undefined): string {
  const all = Object.entries(template.findResources('AWS::EC2::LaunchTemplate')).filter(([id]) => id.startsWith(launchTemplatePrefix));
  if (all.length !== 1) {
    throw new Error(`boot harness: expected one launch template starting with ${JSON.stringify(launchTemplatePrefix)}, found ${all.map(([id]) => id).join(', ') || 'none'}`);
  }
  return render(all[0][1].Properties.LaunchTemplateData.UserData['Fn::Base64'], template, resolve);
}

/** The absolute paths of the instance the script may touch, moved under the harness root (longest first). */
const MOVED = ['/etc/pki/ca-trust/extracted/pem', '/etc/systemd/system', '/etc/session-app', '/etc/fstab', '/mnt/sessions', '/opt', '/tmp/session-app.zip'];

/** A step a stub can be told to fail. */
export type BootFailure =
  | 'dnf' | 'download' | 'imds' | 'mount' | 'health' | 'agent' | 'ca-bundle'
  | { readonly secret: string } | { readonly emptySecret: string };

/** What one harness run is given. */
export interface BootRunOptions {
  /** The secrets the stub `aws` serves, by ARN: the SecretString. */
  readonly secrets?: Record<string, string>;
  /** Files the stub `aws s3 cp` serves, by `s3://bucket/key` (any key when `*`). */
  readonly s3?: Record<string, string>;
  /** The step to fail. */
  readonly fail?: BootFailure;
  /** `run`: start the unit's ExecStart for real; `stub`: start nothing and answer the health check from the stub. */
  readonly app?: 'run' | 'stub';
  /** What the stub serves as the RDS certificate bundle, and what the system trust store holds. */
  readonly pem?: { readonly rdsBundle?: string; readonly systemStore?: string };
  /**
   * Environment of the application process that stands in for what only an
   * instance has: applied over the unit's environment files (e.g. the CA its
   * trust store holds, or `SESSION_INSTANCE_METADATA=hostname` where the
   * harness has no instance metadata service).
   */
  readonly appOverrides?: Record<string, string>;
  /** Give up after this long. @default 60_000 */
  readonly timeoutMs?: number;
}

/** What a run did. */
export interface BootRun {
  /** The script's exit code. */
  readonly code: number | null;
  /** The event log, one line per stub call, in order. */
  readonly events: string[];
  /** The signals sent, in order: `SUCCESS` or `FAILURE`. */
  readonly signals: string[];
  /** Everything the script wrote to stderr and stdout. */
  readonly output: string;
  /** The harness root: the instance's files (`root/etc/session-app/app.env`, ...). */
  readonly root: string;
  /** How long the run took. */
  readonly ms: number;
  /** Stops the application the run started (if any) and removes the root. */
  cleanup(): Promise<void>;
}

/** A variable file of systemd's EnvironmentFile syntax, as our script writes it: KEY="value" with \\ and \" escapes. */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(line);
    if (m) {
      env[m[1]] = m[2].replace(/\\(.)/g, '$1');
    } else if (line.trim() !== '') {
      throw new Error(`boot harness: not a KEY="value" line: ${JSON.stringify(line)}`);
    }
  }
  return env;
}

const STUBS: Record<string, string> = {
  dnf: `log "dnf $*"; [ "$FAIL" = dnf ] && { echo "Error: Failed to download metadata for repo" >&2; exit 1; }; exit 0`,
  useradd: 'log "useradd $*"',
  id: 'exit 1',
  // The waits of the script (retries, the health loop) shortened; long enough for a real app to start.
  // Logged with what the script asked for, so a test can add up the script's own time without timing the run.
  sleep: 'log "sleep $*"; exec /bin/sleep "$SLEEP"',
  unzip: `log "unzip $*"; args=("$@"); exec python3 -m zipfile -e "\${args[2]}" "\${args[4]}"`,
  mount: `log "mount $*"; grep -q " $1 efs " "$ROOT/etc/fstab" || { echo "mount: $1: not in fstab" >&2; exit 32; }
[ "$FAIL" = mount ] && { echo "mount.efs: Failed to mount" >&2; exit 32; }; exit 0`,
  'amazon-cloudwatch-agent-ctl': `log "agent $*"; [ "$FAIL" = agent ] && exit 1; exit 0`,
  curl: `case "$*" in
  *169.254.169.254*api/token*) [ "$FAIL" = imds ] && exit 7; echo token; exit 0 ;;
  *169.254.169.254*instance-id*) echo i-0123456789abcdef0; exit 0 ;;
  *truststore.pki.rds.amazonaws.com*)
    log "curl rds-ca"; [ "$FAIL" = ca-bundle ] && exit 22
    while [ $# -gt 0 ]; do [ "$1" = -o ] && { cp "$ROOT/harness/rds-ca.pem" "$2"; exit 0; }; shift; done; exit 2 ;;
  *127.0.0.1*)
    [ "$FAIL" = health ] && exit 7
    if [ "$APP" = stub ]; then log "health ok"; exit 0; fi
    if /usr/bin/curl "$@"; then log "health ok"; exit 0; fi; exit 7 ;;
esac
echo "curl stub: unexpected $*" >&2; exit 2`,
  aws: `case "$1 $2" in
  "cloudformation signal-resource")
    status=; while [ $# -gt 0 ]; do [ "$1" = --status ] && status=$2; shift; done
    log "signal $status"; echo "$status" >> "$ROOT/harness/signals"; exit 0 ;;
  "s3 cp")
    shift 2; src=; dst=
    for a in "$@"; do case "$a" in --*|eu-west-1) ;; s3://*) src=$a ;; *) dst=$a ;; esac; done
    log "s3 cp $src"; [ "$FAIL" = download ] && { echo "fatal error: An error occurred (403)" >&2; exit 1; }
    f="$ROOT/harness/s3/$(printf '%s' "$src" | sha1sum | cut -c1-40)"; [ -f "$f" ] || f="$ROOT/harness/s3/any"
    [ -f "$f" ] || { echo "fatal error: NoSuchKey $src" >&2; exit 1; }
    cp "$f" "$dst"; exit 0 ;;
  "secretsmanager get-secret-value")
    id=; while [ $# -gt 0 ]; do [ "$1" = --secret-id ] && id=$2; shift; done
    log "secret $id"
    [ "$FAIL" = "secret:$id" ] && { echo "An error occurred (AccessDeniedException)" >&2; exit 254; }
    f="$ROOT/harness/secrets/$(printf '%s' "$id" | sha1sum | cut -c1-40)"
    [ -f "$f" ] || { echo "An error occurred (ResourceNotFoundException) $id" >&2; exit 254; }
    [ "$FAIL" = "empty:$id" ] && { echo; exit 0; }
    cat "$f"; echo; exit 0 ;;
esac
echo "aws stub: unexpected $*" >&2; exit 2`,
  systemctl: `log "systemctl $*"
[ "$1" = enable ] || exit 0
[ "$APP" = run ] || exit 0
exec node "$ROOT/harness/start-unit.js" "$ROOT/etc/systemd/system/$3.service"`,
};

/** Starts a unit's ExecStart in the background as systemd would: its environment files, its directory; records the pid. */
const START_UNIT = `
const fs = require('fs');
const { spawn } = require('child_process');
const unit = fs.readFileSync(process.argv[2], 'utf8');
const setting = (key) => unit.split('\\n').filter((l) => l.startsWith(key + '=')).map((l) => l.slice(key.length + 1));
const env = { PATH: process.env.PATH };
for (const file of setting('EnvironmentFile')) {
  for (const line of fs.readFileSync(file, 'utf8').split('\\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)="((?:[^"\\\\]|\\\\.)*)"$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/\\\\(.)/g, '$1');
  }
}
Object.assign(env, JSON.parse(process.env.APP_OVERRIDES || '{}'));
// systemd expands \${NAME} in ExecStart from the unit's environment.
const command = setting('ExecStart')[0].replace(/\\$\\{([A-Z_][A-Z0-9_]*)\\}/g, (_, n) => env[n] ?? '');
const [binary, ...args] = command.split(' ');
const out = fs.openSync(process.env.ROOT + '/harness/app.log', 'a');
const child = spawn(binary === '/usr/bin/node-22' ? process.execPath : binary, args, {
  cwd: setting('WorkingDirectory')[0], env, stdio: ['ignore', out, out], detached: true,
});
fs.writeFileSync(process.env.ROOT + '/harness/app.pid', String(child.pid));
child.unref();
`;

/** Runs the boot script; resolves when it exits (or after the timeout, killing it). */
export async function runBoot(script: string, options: BootRunOptions = {}): Promise<BootRun> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'boot-'));
  const harness = path.join(root, 'harness');
  for (const dir of ['bin', 'secrets', 's3']) {
    fs.mkdirSync(path.join(harness, dir), { recursive: true });
  }
  for (const dir of ['etc/systemd/system', 'etc/pki/ca-trust/extracted/pem', 'mnt', 'opt/aws/amazon-cloudwatch-agent/bin', 'opt/aws/amazon-cloudwatch-agent/etc', 'tmp']) {
    fs.mkdirSync(path.join(root, dir), { recursive: true });
  }
  fs.writeFileSync(path.join(root, 'etc/fstab'), '# harness fstab\n');
  fs.writeFileSync(path.join(root, 'etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem'), options.pem?.systemStore ?? '# system trust store\n');
  fs.writeFileSync(path.join(harness, 'rds-ca.pem'), options.pem?.rdsBundle ?? '# RDS bundle\n');
  fs.writeFileSync(path.join(harness, 'start-unit.js'), START_UNIT);
  const key = (text: string) => require('crypto').createHash('sha1').update(text).digest('hex');
  for (const [arn, value] of Object.entries(options.secrets ?? {})) {
    fs.writeFileSync(path.join(harness, 'secrets', key(arn)), value);
  }
  for (const [url, file] of Object.entries(options.s3 ?? {})) {
    fs.copyFileSync(file, path.join(harness, 's3', url === '*' ? 'any' : key(url)));
  }
  const prelude = '#!/bin/bash\nlog() { printf \'%s\\n\' "$*" >> "$ROOT/harness/events"; }\n';
  for (const [name, body] of Object.entries(STUBS)) {
    const file = name === 'amazon-cloudwatch-agent-ctl' ? path.join(root, 'opt/aws/amazon-cloudwatch-agent/bin', name) : path.join(harness, 'bin', name);
    fs.writeFileSync(file, `${prelude}${body}\n`, { mode: 0o755 });
  }
  fs.writeFileSync(path.join(harness, 'events'), '');

  let moved = script;
  for (const p of MOVED) {
    moved = moved.split(p).join(`${root}${p}`);
  }
  fs.writeFileSync(path.join(harness, 'boot.sh'), moved, { mode: 0o755 });
  const fail = options.fail;
  const failText = fail === undefined ? '' : typeof fail === 'string' ? fail
    : 'secret' in fail ? `secret:${fail.secret}` : `empty:${fail.emptySecret}`;

  const started = Date.now();
  const child = spawn('bash', [path.join(harness, 'boot.sh')], {
    env: {
      PATH: `${path.join(harness, 'bin')}:${path.dirname(process.execPath)}:/usr/bin:/bin`,
      ROOT: root,
      FAIL: failText,
      APP: options.app ?? 'stub',
      SLEEP: options.app === 'run' ? '0.2' : '0',
      APP_OVERRIDES: JSON.stringify(options.appOverrides ?? {}),
      HOME: root,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const ms = Date.now() - started;
  const read = (file: string) => (fs.existsSync(path.join(harness, file)) ? fs.readFileSync(path.join(harness, file), 'utf8') : '');
  const lines = (text: string) => text.split('\n').filter((l) => l !== '');
  return {
    code,
    events: lines(read('events')),
    signals: lines(read('signals')),
    output: output + read('app.log'),
    root,
    ms,
    async cleanup() {
      const pid = Number(read('app.pid'));
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
          for (let i = 0; i < 100 && alive(pid); i++) {
            await new Promise((r) => setTimeout(r, 50));
          }
          if (alive(pid)) process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** shellcheck's findings on a script, as `line: SCxxxx message` lines; empty when clean. Uses Debian's shellcheck. */
export function shellcheck(script: string): string[] {
  const result = spawnSync('shellcheck', ['--shell=bash', '--enable=check-extra-masked-returns', '--format=gcc', '-'], { input: script, encoding: 'utf8' });
  if (result.error) {
    throw new Error(`shellcheck is missing (${result.error.message}); apt-get install shellcheck`);
  }
  return result.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/^-:/, ''));
}

/** What a boot script writes for the application, read from its text: the environment file, the secrets and the unit. */
export interface BootConfig {
  /** The environment file's variables. */
  readonly env: Record<string, string>;
  /** The secrets fetched into the secrets file: variable -> ARN and JSON field. */
  readonly secrets: Record<string, { readonly arn: string; readonly field?: string }>;
  /** The systemd unit, as written. */
  readonly unit: string;
  /** The packages installed. */
  readonly packages: string[];
}

/** Reads the environment file, the secrets, the unit and the packages out of a boot script. */
export function bootConfig(script: string): BootConfig {
  const heredoc = (name: string) => {
    const m = new RegExp(`<<'${name}'\\n([\\s\\S]*?)\\n${name}\\n`).exec(script);
    if (!m) {
      throw new Error(`boot harness: no ${name} heredoc in the script`);
    }
    return m[1];
  };
  const secrets: BootConfig['secrets'] = {};
  for (const [, name, arn, field] of script.matchAll(/^put_secret (\w+) '([^']*)' '([^']*)'$/gm)) {
    (secrets as Record<string, { arn: string; field?: string }>)[name] = { arn, field: field || undefined };
  }
  const packages = /^install_packages (.*)$/m.exec(script)?.[1].split(' ') ?? [];
  return { env: parseEnvironmentFile(heredoc('SESSION_APP_ENV')), secrets, unit: heredoc('SESSION_APP_UNIT'), packages };
}

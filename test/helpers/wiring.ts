/**
 * What the wiring tests share: a local Redis that speaks TLS and requires an
 * AUTH token, as ElastiCache with encryption in transit does, on a loopback
 * address of its own; and a boot of a fleet's synthesized template in the
 * harness with the real application.
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import { once } from 'events';
import * as fs from 'fs';
import { createServer } from 'net';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { createClient } from '@redis/client';
import { BootRun, IntrinsicResolver, bootConfig, bootScriptOf, runBoot } from './boot-harness';
import { TestCa, createCa, serverCert } from './tls';

/** A Redis with TLS (its own CA) and AUTH on `ip`:6380, the port our caches use. */
export class TlsRedis {
  public static async start(): Promise<TlsRedis> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-redis-'));
    // A loopback address of this run's own, so the fixed port is free whatever else runs on the machine.
    const ip = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const ca = createCa(dir, 'Test Root CA');
    const cert = serverCert(dir, ca, ip);
    const authToken = `test-auth-token-${Math.random().toString(36).slice(2)}-0123456789abcdef`;
    const child = spawn('redis-server', [
      '--port', '0', '--tls-port', '6380', '--bind', ip, '--save', '', '--appendonly', 'no',
      '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile, '--tls-ca-cert-file', ca.certFile, '--tls-auth-clients', 'no',
      '--requirepass', authToken,
    ], { stdio: 'ignore' });
    const redis = new TlsRedis(dir, ip, ca, authToken, child);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const probe = redis.client();
      try {
        await probe.connect();
        await probe.ping();
        return redis;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        if (probe.isOpen) probe.destroy();
      }
    }
    await redis.stop();
    throw new Error('the TLS Redis did not start');
  }

  public readonly port = 6380;

  private constructor(
    private readonly dir: string,
    public readonly ip: string,
    public readonly ca: TestCa,
    public readonly authToken: string,
    private readonly child: ChildProcess,
  ) {}

  /** A client of this Redis (connect it; it does not reconnect). */
  public client() {
    const client = createClient({
      socket: { host: this.ip, port: this.port, tls: true, ca: this.ca.pem, reconnectStrategy: false },
      password: this.authToken,
    });
    client.on('error', () => undefined);
    return client;
  }

  /** Resolves our caches' endpoints (`PrimaryEndPoint.Address`) to this Redis. */
  public readonly resolve: IntrinsicResolver = (intrinsic) => {
    const getAtt = intrinsic['Fn::GetAtt'] as [string, string] | undefined;
    return getAtt?.[1] === 'PrimaryEndPoint.Address' ? this.ip : undefined;
  };

  public async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await once(this.child, 'exit');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A free TCP port on 127.0.0.1 for an application (HOST is 0.0.0.0 on an instance). */
export async function freeAppPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * What Secrets Manager returns for the secret of `arn` in these tests: a value
 * of its own, as every generated secret has (two secrets never share one),
 * and the same on every instance that reads it.
 */
export function secretValueOf(arn: string): string {
  return createHash('sha256').update(arn).digest('hex');
}

/** What {@link bootApp} is given. */
export interface BootAppOptions {
  /** The Redis the template's cache endpoints resolve to; its AUTH token is served for the cache's secret. */
  readonly redis?: TlsRedis;
  /** What the stub `aws s3 cp` serves as the application's files. */
  readonly bundle: string;
  /** Values of the other secrets, by variable name. @default each secret's own: 64 hex digits derived from its ARN */
  readonly secretValues?: Record<string, string>;
  /** Environment that stands in for the instance, over the unit's (see BootRunOptions.appOverrides). */
  readonly appOverrides?: Record<string, string>;
}

/**
 * Boots the fleet of `template` whose launch template's id starts with
 * `prefix` in the harness, with the real application, and fails with the
 * boot's output unless it signalled SUCCESS.
 */
export async function bootApp(template: Template, prefix: string, options: BootAppOptions): Promise<BootRun> {
  const script = bootScriptOf(template, prefix, options.redis?.resolve);
  const secrets: Record<string, string> = {};
  for (const [name, { arn }] of Object.entries(bootConfig(script).secrets)) {
    secrets[arn] = name === 'SESSION_REDIS_AUTH_TOKEN' && options.redis ? options.redis.authToken : options.secretValues?.[name] ?? secretValueOf(arn);
  }
  const run = await runBoot(script, {
    secrets,
    s3: { '*': options.bundle },
    app: 'run',
    appOverrides: {
      // An instance trusts the CA ElastiCache's certificates chain to, and has instance metadata; here, the test's CA and the host name.
      ...options.redis ? { NODE_EXTRA_CA_CERTS: options.redis.ca.certFile, SSL_CERT_FILE: options.redis.ca.certFile } : {},
      SESSION_INSTANCE_METADATA: 'hostname',
      SESSION_APP_LOG: 'false',
      ...options.appOverrides,
    },
    timeoutMs: 45_000,
  });
  if (run.signals.join() !== 'SUCCESS') {
    await run.cleanup();
    throw new Error(`the boot signalled ${run.signals.join() || 'nothing'} (exit ${run.code}):\n${run.output.split('\n').filter((l) => !l.startsWith('curl: (7)')).join('\n')}`);
  }
  return run;
}

/**
 * The wiring test that cannot lie: for each strategy, standalone and inside
 * SessionTier, the boot script is read from the synthesized template, the
 * AWS endpoints in it are replaced by loopback addresses of real local stores
 * (a Redis with TLS and AUTH, a directory for the EFS mount), the script runs
 * in the boot harness, and its systemd unit starts the real sample app with
 * exactly the environment and secrets the script wrote. Then a browser saves
 * and loads a session through it. A store the constructs did not wire (no
 * host, no AUTH token, no TLS) makes the app refuse to start, and the boot
 * signals FAILURE.
 */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib/core';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { createClient } from '@redis/client';
import { AppFleet, FleetApplication, RedisSessionCache, SessionFileSystem, SessionStrategy, SessionTier } from '../lib';
import { bundleSampleApp } from '../lib/private/sample-app-asset';
import { testStack, testVpc } from './helpers/app';
import { BootRun, IntrinsicResolver, bootConfig, bootScriptOf, runBoot } from './helpers/boot-harness';
import { TestCa, createCa, serverCert } from './helpers/tls';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wiring-'));
/** A loopback address of this run's own, so the store's fixed port (6380) is free whatever else runs. */
const REDIS_IP = `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
const AUTH_TOKEN = 'wiring-test-auth-token-0123456789abcdef0123456789abcdef';
let ca: TestCa;
let redis: ChildProcess;
let bundle: string;
const runs: BootRun[] = [];

beforeAll(async () => {
  ca = createCa(work, 'Wiring Test Root CA');
  const cert = serverCert(work, ca, REDIS_IP);
  redis = spawn('redis-server', [
    '--port', '0', '--tls-port', '6380', '--bind', REDIS_IP, '--save', '', '--appendonly', 'no',
    '--tls-cert-file', cert.certFile, '--tls-key-file', cert.keyFile, '--tls-ca-cert-file', ca.certFile, '--tls-auth-clients', 'no',
    '--requirepass', AUTH_TOKEN,
  ], { stdio: 'ignore' });
  bundle = path.join(work, 'server.js');
  bundleSampleApp(bundle);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const probe = cacheClient();
      await probe.connect();
      await probe.ping();
      probe.destroy();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('the TLS Redis did not start');
}, 60_000);

afterAll(async () => {
  await Promise.all(runs.map((r) => r.cleanup()));
  redis.kill('SIGKILL');
  await once(redis, 'exit').catch(() => undefined);
  fs.rmSync(work, { recursive: true, force: true });
});

function cacheClient() {
  const client = createClient({ socket: { host: REDIS_IP, port: 6380, tls: true, ca: fs.readFileSync(ca.certFile), reconnectStrategy: false }, password: AUTH_TOKEN });
  client.on('error', () => undefined);
  return client;
}

/** A free port for the app (HOST is 0.0.0.0 on an instance). */
async function freePort(): Promise<number> {
  const server = require('net').createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Endpoints of our own stores become the local ones. */
const toLocal: IntrinsicResolver = (intrinsic) => {
  const getAtt = intrinsic['Fn::GetAtt'] as [string, string] | undefined;
  return getAtt?.[1] === 'PrimaryEndPoint.Address' ? REDIS_IP : undefined;
};

/** Boots the template's fleet in the harness with the real app and the local stores, and returns where it answers. */
async function boot(template: Template, prefix: string, port: number): Promise<{ run: BootRun; url: string }> {
  const script = bootScriptOf(template, prefix, toLocal);
  const secrets: Record<string, string> = {};
  for (const [name, { arn }] of Object.entries(bootConfig(script).secrets)) {
    secrets[arn] = name === 'SESSION_REDIS_AUTH_TOKEN' ? AUTH_TOKEN : 'k'.repeat(64);
  }
  const run = await runBoot(script, {
    secrets,
    s3: { '*': bundle },
    app: 'run',
    // An instance trusts the CA ElastiCache's certificates chain to, and has instance metadata; here, the test's CA and the host name.
    appOverrides: { NODE_EXTRA_CA_CERTS: ca.certFile, SESSION_INSTANCE_METADATA: 'hostname', SESSION_APP_LOG: 'false' },
    timeoutMs: 45_000,
  });
  runs.push(run);
  if (run.signals.join() !== 'SUCCESS') {
    throw new Error(`the boot signalled ${run.signals.join() || 'nothing'} (exit ${run.code}):\n${run.output}`);
  }
  return { run, url: `http://127.0.0.1:${port}` };
}

/** A browser: a cookie jar and fetch. */
async function session(url: string): Promise<{ counter: number; strategy: string; cookie: string }> {
  const jar: string[] = [];
  let last: { counter: number; strategy: string } | undefined;
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${url}/api/counter`, { method: 'POST', headers: jar.length ? { cookie: jar.join('; ') } : {} });
    expect(res.status).toBe(200);
    const set = res.headers.getSetCookie()[0];
    jar.splice(0, jar.length, set.split(';')[0]);
    last = await res.json() as { counter: number; strategy: string };
  }
  return { ...last!, cookie: jar[0] };
}

/** A stack with a VPC, the fleet `build` makes in it, and a listener forwarding to the fleet. */
function fleetStack(build: (stack: Stack, vpc: ec2.IVpc) => AppFleet): Template {
  const stack = testStack();
  const vpc = testVpc(stack);
  const fleet = build(stack, vpc);
  new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [fleet.targetGroup] });
  return Template.fromStack(stack);
}

describe('a standalone AppFleet, booted from its template, runs the real app against the real store', () => {
  test('redis(RedisSessionCache): TLS, the AUTH token, the endpoint; the session is in the cache', async () => {
    const port = await freePort();
    const template = fleetStack((stack, vpc) => {
      const cache = new RedisSessionCache(stack, 'Cache', { vpc });
      return new AppFleet(stack, 'Blue', { vpc, color: 'blue', strategy: SessionStrategy.redis(cache), application: FleetApplication.sampleApp({ port }) });
    });
    const { url } = await boot(template, 'Blue', port);
    const s = await session(url);
    expect(s).toMatchObject({ counter: 3, strategy: 'redis' });
    const client = cacheClient();
    await client.connect();
    const id = s.cookie.split('=')[1];
    expect(await client.hGet(`session:${id}`, 'v')).toBe('3');
    client.destroy();
  }, 90_000);

  test('file(SessionFileSystem): the mounted directory holds the session', async () => {
    const port = await freePort();
    const template = fleetStack((stack, vpc) => {
      const files = new SessionFileSystem(stack, 'Files', { vpc });
      return new AppFleet(stack, 'Blue', { vpc, color: 'blue', strategy: SessionStrategy.file(files), application: FleetApplication.sampleApp({ port }) });
    });
    const { url, run } = await boot(template, 'Blue', port);
    const s = await session(url);
    expect(s).toMatchObject({ counter: 3, strategy: 'file' });
    expect(fs.readdirSync(`${run.root}/mnt/sessions`)).toContain(`${s.cookie.split('=')[1]}.json`);
  }, 90_000);

  test('cookie(): the sealing key read at boot', async () => {
    const port = await freePort();
    const template = fleetStack((stack, vpc) => new AppFleet(stack, 'Blue', {
      vpc, color: 'blue', strategy: SessionStrategy.cookie(), application: FleetApplication.sampleApp({ port }),
    }));
    const { url } = await boot(template, 'Blue', port);
    expect(await session(url)).toMatchObject({ counter: 3, strategy: 'cookie' });
  }, 90_000);

  test('a fleet whose store was never wired cannot start, and its boot signals FAILURE', async () => {
    const port = await freePort();
    const template = fleetStack((stack, vpc) => {
      // A short signal timeout: the boot gives up on the health check after a minute, not thirteen.
      const fleet = new AppFleet(stack, 'Blue', { vpc, color: 'blue', application: FleetApplication.sampleApp({ port }), signalTimeout: Duration.minutes(3) });
      // What the README's first example used to give: a redis app with no SESSION_REDIS_* values.
      fleet.addEnvironment('SESSION_STRATEGY', 'redis');
      return fleet;
    });
    const script = bootScriptOf(template, 'Blue', toLocal);
    const run = await runBoot(script, { s3: { '*': bundle }, app: 'run', timeoutMs: 45_000 });
    runs.push(run);
    expect(run.signals).toEqual(['FAILURE']);
    expect(run.output).toContain('SESSION_REDIS_HOST: the redis strategy needs the cache\'s host name');
  }, 90_000);
});

describe('SessionTier\'s fleets, booted from the template, run the real app against the real store', () => {
  test.each(['redis', 'file', 'cookie', 'memory'] as const)('%s', async (name) => {
    const port = await freePort();
    const stack = testStack();
    new SessionTier(stack, 'Tier', { blue: { strategy: SessionStrategy.fromName(name), application: FleetApplication.sampleApp({ port }) } });
    const { url } = await boot(Template.fromStack(stack), 'TierBlue', port);
    expect(await session(url)).toMatchObject({ counter: 3, strategy: name });
  }, 90_000);
});

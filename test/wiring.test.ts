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
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib/core';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AppFleet, FleetApplication, FleetColor, RedisSessionCache, SessionFileSystem, SessionStrategy, SessionTier } from '../lib';
import { bundleSampleApp } from '../lib/private/sample-app-asset';
import { testStack, testVpc } from './helpers/app';
import { BootRun, bootConfig, bootScriptOf, runBoot } from './helpers/boot-harness';
import { TlsRedis, bootApp, freeAppPort, secretValueOf } from './helpers/wiring';
import { TestCa, createCa, serverCert } from './helpers/tls';
import { PostgresCluster } from '../local/postgres';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wiring-'));
let redis: TlsRedis;
let bundle: string;
const runs: BootRun[] = [];

beforeAll(async () => {
  redis = await TlsRedis.start();
  bundle = path.join(work, 'server.js');
  bundleSampleApp(bundle);
}, 60_000);

afterAll(async () => {
  await Promise.all(runs.map((r) => r.cleanup()));
  await redis.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** Boots the template's fleet with the real sample app and the local stores, and returns where it answers. */
async function boot(template: Template, prefix: string, port: number): Promise<{ run: BootRun; url: string }> {
  const run = await bootApp(template, prefix, { redis, bundle });
  runs.push(run);
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
    const port = await freeAppPort();
    const template = fleetStack((stack, vpc) => {
      const cache = new RedisSessionCache(stack, 'Cache', { vpc });
      return new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: SessionStrategy.redis(cache), application: FleetApplication.sampleApp({ port }) });
    });
    const { url } = await boot(template, 'Blue', port);
    const s = await session(url);
    expect(s).toMatchObject({ counter: 3, strategy: 'redis' });
    const client = redis.client();
    await client.connect();
    const id = s.cookie.split('=')[1];
    expect(await client.hGet(`session:${id}`, 'v')).toBe('3');
    client.destroy();
  }, 90_000);

  test('file(SessionFileSystem): the mounted directory holds the session', async () => {
    const port = await freeAppPort();
    const template = fleetStack((stack, vpc) => {
      const files = new SessionFileSystem(stack, 'Files', { vpc });
      return new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: SessionStrategy.file(files), application: FleetApplication.sampleApp({ port }) });
    });
    const { url, run } = await boot(template, 'Blue', port);
    const s = await session(url);
    expect(s).toMatchObject({ counter: 3, strategy: 'file' });
    expect(fs.readdirSync(`${run.root}/mnt/sessions`)).toContain(`${s.cookie.split('=')[1]}.json`);
  }, 90_000);

  test('cookie(): the sealing key read at boot', async () => {
    const port = await freeAppPort();
    const template = fleetStack((stack, vpc) => new AppFleet(stack, 'Blue', {
      vpc, color: FleetColor.BLUE, strategy: SessionStrategy.cookie(), application: FleetApplication.sampleApp({ port }),
    }));
    const { url } = await boot(template, 'Blue', port);
    expect(await session(url)).toMatchObject({ counter: 3, strategy: 'cookie' });
  }, 90_000);

  test('a fleet whose store was never wired cannot start, and its boot signals FAILURE', async () => {
    const port = await freeAppPort();
    const template = fleetStack((stack, vpc) => {
      // A short signal timeout: the boot gives up on the health check after a minute, not thirteen.
      const fleet = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, application: FleetApplication.sampleApp({ port }), signalTimeout: Duration.minutes(3) });
      // What the README's first example used to give: a redis app with no SESSION_REDIS_* values.
      fleet.addEnvironment('SESSION_STRATEGY', 'redis');
      return fleet;
    });
    const script = bootScriptOf(template, 'Blue', redis.resolve);
    // Its secrets (the memory strategy's id key) are served: the app itself must be what fails.
    const secrets = Object.fromEntries(Object.values(bootConfig(script).secrets).map(({ arn }) => [arn, secretValueOf(arn)]));
    const run = await runBoot(script, { secrets, s3: { '*': bundle }, app: 'run', timeoutMs: 45_000 });
    runs.push(run);
    expect(run.signals).toEqual(['FAILURE']);
    expect(run.output).toContain('SESSION_REDIS_HOST: the redis strategy needs the cache\'s host name');
  }, 90_000);
});

describe('one strategy object, two standalone fleets: a user moved from blue to green keeps the session', () => {
  /**
   * Blue and green built standalone from one `strategy`, each on its own
   * port, behind one listener; both booted from the template, each secret
   * with a value of its own (secretValueOf), as Secrets Manager serves them.
   */
  async function blueAndGreen(strategy: (stack: Stack, vpc: ec2.IVpc) => SessionStrategy) {
    const ports = { blue: await freeAppPort(), green: await freeAppPort() };
    const stack = testStack();
    const vpc = testVpc(stack);
    const shared = strategy(stack, vpc);
    const fleet = (id: string, color: FleetColor, port: number) =>
      new AppFleet(stack, id, { vpc, color, strategy: shared, application: FleetApplication.sampleApp({ port }) });
    const blue = fleet('Blue', FleetColor.BLUE, ports.blue);
    const green = fleet('Green', FleetColor.GREEN, ports.green);
    const listener = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [blue.targetGroup] });
    listener.addTargetGroups('Green', { priority: 1, conditions: [elbv2.ListenerCondition.pathPatterns(['/green'])], targetGroups: [green.targetGroup] });
    const template = Template.fromStack(stack);
    await boot(template, 'Blue', ports.blue);
    await boot(template, 'Green', ports.green);
    return { template, blue: `http://127.0.0.1:${ports.blue}`, green: `http://127.0.0.1:${ports.green}` };
  }

  /** Three requests on blue, then the same browser's fourth on green (as a shift's weights send it). */
  async function moved(urls: { blue: string; green: string }) {
    const onBlue = await session(urls.blue);
    const res = await fetch(`${urls.green}/api/counter`, { method: 'POST', headers: { cookie: onBlue.cookie } });
    expect(res.status).toBe(200);
    return { onBlue, onGreen: await res.json() as { counter: number; strategy: string } };
  }

  test('cookie(): both fleets open the sessions sealed with one key', async () => {
    const fleets = await blueAndGreen(() => SessionStrategy.cookie());
    const { onBlue, onGreen } = await moved(fleets);
    expect(onBlue).toMatchObject({ counter: 3, strategy: 'cookie' });
    expect(onGreen).toEqual(expect.objectContaining({ counter: 4, strategy: 'cookie' }));
  }, 120_000);

  test('redis(cache): both fleets sign ids with the cache\'s key, and green verifies blue\'s', async () => {
    const fleets = await blueAndGreen((stack, vpc) => SessionStrategy.redis(new RedisSessionCache(stack, 'Cache', { vpc })));
    const { onBlue, onGreen } = await moved(fleets);
    expect(onBlue).toMatchObject({ counter: 3, strategy: 'redis' });
    // Signed: 16 random bytes and their MAC, base64url.
    expect(onBlue.cookie.split('=')[1]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(onGreen).toEqual(expect.objectContaining({ counter: 4, strategy: 'redis' }));
    const keys = ['Blue', 'Green'].map((prefix) => bootConfig(bootScriptOf(fleets.template, `${prefix}LaunchTemplate`)).secrets.SESSION_ID_KEYS?.arn);
    expect(keys[0]).toMatch(/secret:CacheSessionIdKey[0-9A-F]{8}$/);
    expect(keys[1]).toBe(keys[0]);
  }, 120_000);
});

describe('SessionTier\'s fleets, booted from the template, run the real app against the real store', () => {
  test.each(['redis', 'file', 'cookie', 'memory'] as const)('%s', async (name) => {
    const port = await freeAppPort();
    const stack = testStack();
    new SessionTier(stack, 'Tier', { blue: { strategy: SessionStrategy.fromName(name), application: FleetApplication.sampleApp({ port }) } });
    const { url } = await boot(Template.fromStack(stack), 'TierBlue', port);
    expect(await session(url)).toMatchObject({ counter: 3, strategy: name });
  }, 90_000);
});

describe('a database fleet, booted from its template, verifies both certificate chains it meets', () => {
  const ips = () => `127.${10 + Math.floor(Math.random() * 200)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
  let cluster: PostgresCluster;
  let certs: string;
  let amazonRoot: TestCa;
  let rdsRoot: TestCa;
  const writerIp = ips();
  const replicaIp = ips();

  beforeAll(async () => {
    certs = fs.mkdtempSync(path.join(os.tmpdir(), 'wiring-ca-'));
    // RDS Proxy presents an ACM certificate (Amazon Root CA, in the system trust store); the instances, the RDS CA's.
    amazonRoot = createCa(certs, 'Stand-in Amazon Root CA 1');
    rdsRoot = createCa(certs, 'Stand-in Amazon RDS Root CA');
    cluster = await PostgresCluster.start({
      primary: { host: writerIp, port: 5432, tls: serverCert(certs, amazonRoot, writerIp) },
      replica: { host: replicaIp, port: 5433, tls: serverCert(certs, rdsRoot, replicaIp) },
    });
  }, 120_000);

  afterAll(async () => {
    await cluster?.destroy();
    fs.rmSync(certs, { recursive: true, force: true });
  });

  test('writes through RDS Proxy (ACM certificate), reads from the replica (RDS certificate), caches in Redis', async () => {
    const port = await freeAppPort();
    const stack = testStack();
    new SessionTier(stack, 'Tier', {
      blue: { strategy: SessionStrategy.database(), application: FleetApplication.sampleApp({ port }) },
      databaseProps: { proxy: true, readReplicas: 1, databaseName: cluster.database },
    });
    const template = Template.fromStack(stack);
    const toLocal = (intrinsic: Record<string, unknown>) => {
      const [id, attribute] = (intrinsic['Fn::GetAtt'] as [string, string] | undefined) ?? ['', ''];
      if (attribute === 'Endpoint' && id.startsWith('TierSessionDatabaseProxy')) return writerIp;
      if (attribute === 'Endpoint.Address' && id.startsWith('TierSessionDatabaseReplica1')) return replicaIp;
      return redis.resolve(intrinsic);
    };
    const script = bootScriptOf(template, 'TierBlue', toLocal);
    const secrets = Object.fromEntries(Object.entries(bootConfig(script).secrets).map(([name, { arn }]) => [arn,
      name === 'SESSION_REDIS_AUTH_TOKEN' ? redis.authToken
        : name === 'SESSION_ID_KEYS' ? 'i'.repeat(64)
          : JSON.stringify({ username: 'postgres', password: 'not-checked-by-trust-auth' })]));
    const run = await runBoot(script, {
      secrets, s3: { '*': bundle }, app: 'run', timeoutMs: 60_000,
      pem: { systemStore: amazonRoot.pem, rdsBundle: rdsRoot.pem },
      appOverrides: { NODE_EXTRA_CA_CERTS: redis.ca.certFile, SESSION_INSTANCE_METADATA: 'hostname', SESSION_APP_LOG: 'false' },
    });
    runs.push(run);
    expect({ signals: run.signals, output: run.signals.join() === 'SUCCESS' ? '' : run.output }).toEqual({ signals: ['SUCCESS'], output: '' });
    const s = await session(`http://127.0.0.1:${port}`);
    expect(s).toMatchObject({ counter: 3, strategy: 'database' });
    // The session is in the primary (through the "proxy") and, replicated, on the replica.
    const id = s.cookie.split('=')[1];
    await cluster.caughtUp();
    for (const server of [cluster.primary, cluster.replica]) {
      const rows = await server.query<{ version: string }>('SELECT version FROM sessions WHERE id = $1', [id], cluster.database);
      expect(rows.map((r) => Number(r.version))).toEqual([3]);
    }
    // Both chains were verified: the app's CA file holds exactly the two authorities.
    const env = fs.readFileSync(`${run.root}/etc/session-app/app.env`, 'utf8');
    const caFile = /SESSION_DB_CA_FILE="([^"]+)"/.exec(env)![1];
    expect(fs.readFileSync(caFile, 'utf8')).toBe(amazonRoot.pem + rdsRoot.pem);
  }, 120_000);
});

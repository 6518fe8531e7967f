/**
 * Your own application on a fleet: a directory or file shipped as an S3
 * asset with its command, port, health check and packages, or your own
 * machine image. The README's Node.js and PHP examples are booted from their
 * synthesized templates in the harness and run for real (Debian's php-cli
 * with phpredis for the PHP one), reaching a local Redis with TLS and AUTH
 * through the same environment contract the sample app reads.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter } from 'aws-cdk-lib/core';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AppFleet, FleetApplication, FleetColor, RedisSessionCache, SessionStrategy } from '../lib';
import { testStack, testVpc } from './helpers/app';
import { BootRun, bootConfig, bootScriptOf } from './helpers/boot-harness';
import { TlsRedis, bootApp, freeAppPort } from './helpers/wiring';

const FIXTURES = path.join(__dirname, 'fixtures');

/** A redis fleet running `application`, behind a listener. */
function redisFleet(application: FleetApplication): Template {
  const stack = testStack();
  const vpc = testVpc(stack);
  const cache = new RedisSessionCache(stack, 'Cache', { vpc });
  const fleet = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: SessionStrategy.redis(cache), application });
  new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [fleet.targetGroup] });
  return Template.fromStack(stack);
}

/** The asset directory zipped, as the CDK CLI uploads a directory asset. */
function zipOf(dir: string, into: string): string {
  const zip = path.join(into, `${path.basename(dir)}.zip`);
  execFileSync('python3', ['-m', 'zipfile', '-c', zip, ...fs.readdirSync(dir)], { cwd: dir });
  return zip;
}

const nodeApp = (port: number) => FleetApplication.fromAsset(path.join(FIXTURES, 'node-app'), {
  command: '/usr/bin/node-22 server.js',
  packages: ['nodejs22'],
  port,
  healthCheckPath: '/healthz',
});
const phpApp = (port: number) => FleetApplication.fromAsset(path.join(FIXTURES, 'php-app'), {
  command: '/usr/bin/php -S 0.0.0.0:${PORT} -t public',
  packages: ['php8.4-cli', 'php8.4-pecl-redis6'],
  port,
  healthCheckPath: '/health.php',
});

describe('FleetApplication.fromAsset', () => {
  const template = redisFleet(nodeApp(3000));
  const script = bootScriptOf(template);
  const config = bootConfig(script);

  test('installs its packages, unpacks the asset into the application directory and runs its command there under systemd', () => {
    expect(config.packages).toEqual(['nodejs22', 'unzip']);
    expect(script).toMatch(/aws s3 cp --region "\$REGION" --only-show-errors 's3:\/\/cdk-hnb659fds-assets-123456789012-eu-west-1\/[0-9a-f]{64}\.zip' \/tmp\/session-app\.zip/);
    expect(script).toContain('unzip -q -o /tmp/session-app.zip -d /opt/session-app');
    expect(config.unit).toContain('ExecStart=/usr/bin/node-22 server.js');
    expect(config.unit).toContain('WorkingDirectory=/opt/session-app');
    expect(config.unit).toContain('User=session-app');
    expect(script).toContain('curl -fsS --max-time 5 -o /dev/null http://127.0.0.1:3000/healthz');
  });

  test('gets the same environment contract as the sample app, and no metrics agent (it publishes none)', () => {
    expect(config.env).toMatchObject({ PORT: '3000', HOST: '0.0.0.0', SESSION_APP_COLOR: 'blue', SESSION_STRATEGY: 'redis', SESSION_REDIS_PORT: '6380', SESSION_REDIS_TLS: 'true' });
    expect(Object.keys(config.secrets).sort()).toEqual(['SESSION_ID_KEYS', 'SESSION_REDIS_AUTH_TOKEN']);
    expect(config.packages).not.toContain('amazon-cloudwatch-agent');
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
  });

  test('the target group sends traffic to its port and checks its health path; the role reads exactly its asset', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: 3000, HealthCheckPath: '/healthz' });
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).toMatch(/"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::cdk-hnb659fds-assets-123456789012-eu-west-1\/[0-9a-f]{64}\.zip"/);
  });

  test('a single file keeps its name in the application directory', () => {
    const single = bootScriptOf(redisFleet(FleetApplication.fromAsset(path.join(FIXTURES, 'node-app', 'server.js'), { command: '/usr/bin/node-22 server.js' })));
    expect(single).toMatch(/' \/opt\/session-app\/server\.js$/m);
    expect(bootConfig(single).packages).not.toContain('unzip');
  });

  test.each([
    [{ command: '' }, 'command: must be one non-empty line, got ""'],
    [{ command: 'a\nb' }, 'command: must be one non-empty line'],
    [{ command: 'x', port: 80 }, 'port: must be a whole number from 1024 to 65535, got 80; the application runs unprivileged'],
    [{ command: 'x', healthCheckPath: 'health' }, 'healthCheckPath: must be a URL path starting with /'],
    [{ command: 'x', packages: ['nodejs22; rm -rf /'] }, 'packages: each must be an Amazon Linux 2023 package name like nodejs22 or php8.4, got "nodejs22; rm -rf /"'],
  ])('fails when %j', (options, message) => {
    expect(() => FleetApplication.fromAsset(FIXTURES, options)).toThrow(message);
  });

  test('a port known only at deploy time (CfnParameter) is left to CloudFormation, and the sample app\'s too', () => {
    const port = new CfnParameter(testStack(), 'Port', { type: 'Number' }).valueAsNumber;
    expect(FleetApplication.fromAsset(FIXTURES, { command: 'x', port }).port).toBe(port);
    expect(FleetApplication.sampleApp({ port }).port).toBe(port);
    expect(() => FleetApplication.sampleApp({ port: 80 })).toThrow('port: must be a whole number from 1024 to 65535, got 80; the application runs unprivileged');
  });
});

describe('FleetApplication.fromMachineImage', () => {
  test('starts the image\'s application under systemd: no download, the image instead of Amazon Linux', () => {
    const stack = testStack();
    const vpc = testVpc(stack);
    const image = ec2.MachineImage.genericLinux({ 'eu-west-1': 'ami-0123456789abcdef0' });
    const fleet = new AppFleet(stack, 'Blue', {
      vpc, color: FleetColor.BLUE, application: FleetApplication.fromMachineImage(image, { command: '/opt/shop/bin/shop --port 9000', port: 9000 }),
    });
    new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [fleet.targetGroup] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', { LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0' } });
    const script = bootScriptOf(template);
    expect(script).not.toContain('aws s3 cp');
    expect(bootConfig(script).unit).toContain('ExecStart=/opt/shop/bin/shop --port 9000');
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('s3:GetObject');
  });
});

describe('your own application, booted from its template, runs against the real store', () => {
  let redis: TlsRedis;
  let work: string;
  const runs: BootRun[] = [];
  beforeAll(async () => {
    redis = await TlsRedis.start();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'own-app-'));
  });
  afterAll(async () => {
    await Promise.all(runs.map((r) => r.cleanup()));
    await redis.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a Node.js app reads the store\'s settings and the AUTH token from its environment', async () => {
    const port = await freeAppPort();
    const run = await bootApp(redisFleet(nodeApp(port)), 'Blue', { redis, bundle: zipOf(path.join(FIXTURES, 'node-app'), work) });
    runs.push(run);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.json()).toEqual({ color: FleetColor.BLUE, strategy: 'redis', redis: { host: redis.ip, port: 6380, tls: true }, authToken: 'set' });
  }, 90_000);

  test('a PHP app keeps its sessions in the cache with PHP\'s own Redis session handler, over TLS with the AUTH token', async () => {
    const port = await freeAppPort();
    const run = await bootApp(redisFleet(phpApp(port)), 'Blue', { redis, bundle: zipOf(path.join(FIXTURES, 'php-app'), work) });
    runs.push(run);
    let cookie = '';
    let visits = 0;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: cookie ? { cookie } : {} });
      cookie = res.headers.getSetCookie()[0]?.split(';')[0] ?? cookie;
      visits = ((await res.json()) as { visits: number }).visits;
    }
    expect(visits).toBe(3);
    expect(cookie).toMatch(/^sid=/);
    const client = redis.client();
    await client.connect();
    expect(await client.get(`PHPREDIS_SESSION:${cookie.slice(4)}`)).toBe('visits|i:3;');
    client.destroy();
  }, 90_000);
});

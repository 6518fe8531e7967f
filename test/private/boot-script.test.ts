/**
 * The boot script every fleet renders, for every strategy: shellcheck finds
 * nothing in it, and the harness runs it with stub commands to prove that
 * success is signalled only after the health check answers, and that every
 * failing step signals failure within seconds and never success.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { AppFleet, AppFleetProps, DatabaseEngine, FleetApplication, FleetColor, SessionStrategy, SessionTier } from '../../lib';
import { testStack, testVpc } from '../helpers/app';
import { BootFailure, BootRun, bootScriptOf, runBoot, secretArnFor, shellcheck } from '../helpers/boot-harness';
import { importedStores } from '../helpers/stores';

type StrategyName = 'memory' | 'cookie' | 'redis' | 'file' | 'database';

/** A standalone fleet of each strategy, on imported stores, behind a listener. */
function fleetTemplate(strategy: StrategyName, props: Partial<AppFleetProps> = {}): Template {
  const stack = testStack();
  const vpc = testVpc(stack);
  const stores = importedStores(stack);
  const strategies: Record<StrategyName, () => SessionStrategy> = {
    memory: () => SessionStrategy.memory(),
    cookie: () => SessionStrategy.cookie(),
    redis: () => SessionStrategy.redis(stores.cache),
    file: () => SessionStrategy.file(stores.fileSystem),
    database: () => SessionStrategy.database(stores.database, { cache: stores.cache }),
  };
  const fleet = new AppFleet(stack, 'Blue', { vpc, color: FleetColor.BLUE, strategy: strategies[strategy](), ...props });
  new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc }).addListener('Http', { port: 80, defaultTargetGroups: [fleet.targetGroup] });
  return Template.fromStack(stack);
}

/** The secrets a template's boot script reads, each with a value the app accepts. */
function secretsOf(script: string): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [, arn] of script.matchAll(/put_secret \w+ '([^']+)'/g)) {
    secrets[arn] = JSON.stringify({ username: 'app', password: 'p'.repeat(32) });
  }
  for (const [, name, arn] of script.matchAll(/put_secret (\w+) '([^']+)' ''/g)) {
    secrets[arn] = name === 'SESSION_COOKIE_SECRETS' ? 'c'.repeat(64) : 't'.repeat(64);
  }
  return secrets;
}

const STRATEGIES: StrategyName[] = ['memory', 'cookie', 'redis', 'file', 'database'];
const scripts = Object.fromEntries(STRATEGIES.map((s) => [s, bootScriptOf(fleetTemplate(s))])) as Record<StrategyName, string>;

describe('the boot script', () => {
  test.each(STRATEGIES)('of a %s fleet has no shellcheck finding (extra masked returns included)', (strategy) => {
    expect(shellcheck(scripts[strategy])).toEqual([]);
  });

  test('of an application from an asset, and of SessionTier\'s fleets with a proxy and MySQL, has no shellcheck finding', () => {
    const own = bootScriptOf(fleetTemplate('redis', {
      application: FleetApplication.fromAsset(`${__dirname}/../fixtures/node-app`, { command: '/usr/bin/node-22 server.js', packages: ['nodejs22'], port: 3000, healthCheckPath: '/healthz' }),
    }));
    const stack = testStack();
    new SessionTier(stack, 'Tier', {
      blue: { strategy: SessionStrategy.database() },
      green: { strategy: SessionStrategy.file() },
      databaseProps: { proxy: true, engine: DatabaseEngine.MYSQL },
    });
    const tier = Template.fromStack(stack);
    expect([own, bootScriptOf(tier, 'TierBlue'), bootScriptOf(tier, 'TierGreen')].flatMap(shellcheck)).toEqual([]);
  });

  test('shellcheck catches what the boot script used to do (a masked command substitution, unquoted command substitutions)', () => {
    const broken = [
      '#!/bin/bash',
      'set -euo pipefail',
      'printf \'%s="%s"\\n\' KEY "$(aws secretsmanager get-secret-value --secret-id x --query SecretString --output text)" >> /tmp/secrets.env',
      'echo "AWS_EMF_LOG_STREAM_NAME="$(ec2-metadata -i | cut -d\' \' -f2)"" >> /tmp/app.env',
    ].join('\n');
    const findings = shellcheck(broken).join('\n');
    expect(findings).toMatch(/SC2312/); // the masked return of the secret fetch
    expect(findings).toMatch(/SC2046|SC2027/); // the EMF line's lost quotes
  });
});

describe('the boot script, run', () => {
  const runs: BootRun[] = [];
  afterAll(async () => {
    await Promise.all(runs.map((r) => r.cleanup()));
  });
  const run = async (strategy: StrategyName, fail?: BootFailure, script = scripts[strategy]) => {
    const result = await runBoot(script, { secrets: secretsOf(script), s3: { '*': __filename }, fail });
    runs.push(result);
    return result;
  };

  test.each(STRATEGIES)('of a %s fleet signals SUCCESS once, and only after the health check answered', async (strategy) => {
    const r = await run(strategy);
    expect({ code: r.code, signals: r.signals, output: r.output }).toEqual({ code: 0, signals: ['SUCCESS'], output: expect.any(String) });
    const at = (prefix: string) => r.events.findIndex((e) => e.startsWith(prefix));
    const order = ['dnf install', 's3 cp', 'systemctl enable --now session-app', 'health ok', 'signal SUCCESS'].map(at);
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Every secret is fetched before the application starts.
    const secrets = r.events.map((e, i) => (e.startsWith('secret ') ? i : -1)).filter((i) => i >= 0);
    expect(secrets.every((i) => i < at('systemctl enable'))).toBe(true);
    expect(secrets.length).toBe({ memory: 1, cookie: 1, redis: 1, file: 0, database: 4 }[strategy]);
  });

  test('the file fleet mounts the file system before the application starts, and its unit requires the mount', async () => {
    const r = await run('file');
    const at = (prefix: string) => r.events.findIndex((e) => e.startsWith(prefix));
    expect(at('mount')).toBeGreaterThan(-1);
    expect(at('mount')).toBeLessThan(at('systemctl enable'));
    const unit = require('fs').readFileSync(`${r.root}/etc/systemd/system/session-app.service`, 'utf8') as string;
    expect(unit).toMatch(/\[Unit\][^[]*RequiresMountsFor=\S*\/mnt\/sessions\n/);
    expect(unit).toMatch(/\[Service\][^[]*ReadWritePaths=\S*\/mnt\/sessions\n/);
  });

  test('the database fleet trusts the system store (RDS Proxy\'s ACM certificates) and the RDS bundle, in one CA file', async () => {
    const script = scripts.database;
    const r = await runBoot(script, {
      secrets: secretsOf(script), s3: { '*': __filename },
      pem: { systemStore: 'AMAZON ROOT CA 1\n', rdsBundle: 'RDS GLOBAL BUNDLE\n' },
    });
    runs.push(r);
    const fs = require('fs');
    const env = fs.readFileSync(`${r.root}/etc/session-app/app.env`, 'utf8') as string;
    const caFile = /SESSION_DB_CA_FILE="([^"]+)"/.exec(env)![1];
    expect(caFile).toBe(`${r.root}/etc/session-app/db-ca.pem`);
    expect(fs.readFileSync(caFile, 'utf8')).toBe('AMAZON ROOT CA 1\nRDS GLOBAL BUNDLE\n');
  });

  const failures: Array<[string, StrategyName, BootFailure | ((script: string) => BootFailure)]> = [
    ['the package install', 'memory', 'dnf'],
    ['the instance metadata', 'memory', 'imds'],
    ['the application download', 'memory', 'download'],
    ['the CloudWatch agent', 'memory', 'agent'],
    ['the health check', 'memory', 'health'],
    ['the mount', 'file', 'mount'],
    ['the RDS certificate bundle', 'database', 'ca-bundle'],
    ['the cookie key fetch', 'cookie', (s) => ({ secret: Object.keys(secretsOf(s))[0] })],
    ['an empty cookie key', 'cookie', (s) => ({ emptySecret: Object.keys(secretsOf(s))[0] })],
    ['the AUTH token fetch', 'redis', (s) => ({ secret: Object.keys(secretsOf(s))[0] })],
    ['an empty AUTH token', 'redis', (s) => ({ emptySecret: Object.keys(secretsOf(s))[0] })],
    ['the database credentials fetch', 'database', (s) => ({ secret: /put_secret SESSION_DB_PASSWORD '([^']+)'/.exec(s)![1] })],
    ['empty database credentials', 'database', (s) => ({ emptySecret: /put_secret SESSION_DB_USER '([^']+)'/.exec(s)![1] })],
  ];
  // The fleet's CreationPolicy waits 15 minutes (signalTimeout's default): the script must give up and say so before
  // CloudFormation stops waiting, or the deploy fails with a timeout that names no cause. Counted in the script's own
  // time (the seconds it asks `sleep` for), not the test's clock, which the machine's load would make flaky.
  const SIGNAL_TIMEOUT_SECONDS = 15 * 60;
  const slept = (events: readonly string[]) => events.filter((e) => e.startsWith('sleep ')).reduce((sum, e) => sum + Number(e.slice(6)), 0);
  test.each(failures)('a failing step (%s) signals FAILURE before the creation policy times out, and never SUCCESS', async (_, strategy, fail) => {
    const r = await run(strategy, typeof fail === 'function' ? fail(scripts[strategy]) : fail);
    expect({ code: r.code, signals: r.signals }).toEqual({ code: 1, signals: ['FAILURE'] });
    expect(r.events).not.toContain('health ok');
    expect(r.output).toMatch(/session-app boot failed: /);
    expect(slept(r.events)).toBeLessThan(SIGNAL_TIMEOUT_SECONDS);
  });

  test('the count of the script\'s own time sees a health loop that outlasts the creation policy', async () => {
    // Three tries 400 s apart: few enough to run fast, 20 minutes in the script's time.
    const patient = scripts.memory.replace(/try <= \d+;/, 'try <= 3;').replace(/^  sleep 5$/m, '  sleep 400');
    expect(patient).not.toBe(scripts.memory);
    const r = await run('memory', 'health', patient);
    expect(r.signals).toEqual(['FAILURE']);
    expect(slept(r.events)).toBeGreaterThanOrEqual(SIGNAL_TIMEOUT_SECONDS);
  });

  test('the harness notices a boot that hides a failed step (a secret fetch whose failure printf masks)', async () => {
    const masked = [
      '#!/bin/bash',
      'set -euo pipefail',
      "trap 'aws cloudformation signal-resource --status FAILURE' ERR",
      `printf '%s="%s"\\n' TOKEN "$(aws secretsmanager get-secret-value --secret-id ${secretArnFor('Token')} --query SecretString --output text)" > /dev/null`,
      'aws cloudformation signal-resource --status SUCCESS',
    ].join('\n');
    const r = await runBoot(masked, { fail: { secret: secretArnFor('Token') } });
    runs.push(r);
    // What the failure tests above would reject: the fetch failed, and the boot said it succeeded.
    expect(r.events).toContain(`secret ${secretArnFor('Token')}`);
    expect(r.signals).toEqual(['SUCCESS']);
  });
});

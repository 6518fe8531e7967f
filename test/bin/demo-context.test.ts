import { Duration } from 'aws-cdk-lib/core';
import { demoRegion, tierPropsFromContext } from '../../bin/demo-context';
import { StickinessType } from '../../lib';
import { testApp } from '../helpers/app';

const props = (context: Record<string, unknown>) => tierPropsFromContext(testApp(context).node);

describe('demo context', () => {
  test('defaults: memory blue v1, cookie green v2, lb cookie for a day, blue targeted all at once, HTTP', () => {
    const p = props({});
    expect(p.blue).toMatchObject({ version: 'v1', minCapacity: 2, maxCapacity: 4 });
    expect(p.blue!.strategy!.name).toBe('memory');
    expect(p.green!.strategy!.name).toBe('cookie');
    expect(p.green!.version).toBe('v2');
    expect(p.blue!.stickiness!.type).toBe(StickinessType.LOAD_BALANCER_COOKIE);
    expect(p.blue!.stickiness!.duration!.toSeconds()).toBe(86400);
    expect(p.groupStickiness!.duration!.toSeconds()).toBe(86400);
    expect(p.targetColor).toBe('blue');
    expect(p.shiftPlan!.toString()).toBe('all-at-once');
    expect(p.blue!.instanceType!.toString()).toBe('t4g.small');
    expect(p.certificateArn).toBeUndefined();
  });

  test.each([
    ['45s', 45], ['30m', 1800], ['12h', 43200], ['7d', 604800],
  ])('reads the duration %s', (text, seconds) => {
    expect(props({ stickiness: `lb:${text}` }).blue!.stickiness!.duration!.toSeconds()).toBe(seconds);
    expect(props({ groupStickiness: text }).groupStickiness!.duration!.toSeconds()).toBe(seconds);
  });

  test('reads application-cookie stickiness, no stickiness, and no green fleet', () => {
    const app = props({ stickiness: 'app:sid:1h', greenStrategy: 'none' });
    expect(app.blue!.stickiness!.cookieName).toBe('sid');
    expect(app.blue!.stickiness!.duration!.toSeconds()).toBe(Duration.hours(1).toSeconds());
    expect(app.green).toBeUndefined();
    expect(props({ stickiness: 'none', groupStickiness: 'none' }).blue!.stickiness!.enabled).toBe(false);
  });

  test('database: replicas 0 to 15, the engine and the proxy; no deletion protection in the demo', () => {
    expect(props({}).databaseProps).toEqual({ readReplicas: 1, engine: 'postgres', proxy: false, deletionProtection: false });
    expect(props({ readReplicas: '15', databaseEngine: 'mysql', databaseProxy: 'true' }).databaseProps)
      .toMatchObject({ readReplicas: 15, engine: 'mysql', proxy: true });
    expect(props({ readReplicas: 0 }).databaseProps!.readReplicas).toBe(0);
  });

  test('reads numbers given as strings (-c) and as JSON numbers (cdk.json)', () => {
    expect(props({ minInstances: 3, maxInstances: '6' })).toMatchObject({ blue: { minCapacity: 3, maxCapacity: 6 } });
  });

  test.each([
    ['canary:10:5m', 'canary:10:300'],
    ['linear:20:90s', 'linear:20:90'],
    ['all-at-once', 'all-at-once'],
  ])('reads the shift plan %s', (text, plan) => {
    const p = props({ targetColor: 'green', shiftPlan: text });
    expect(p.targetColor).toBe('green');
    expect(p.shiftPlan!.toString()).toBe(plan);
  });

  test('fails on -c stickiness=lb:8d and names the key, the value and the 7-day limit', () => {
    expect(() => props({ stickiness: 'lb:8d' })).toThrow(
      '-c stickiness=lb:8d: stickiness: duration must be whole seconds from 1 s to 7 days (604800 s), got 8 days',
    );
  });

  test.each([
    ['stickiness', 'lb', /-c stickiness=lb: stickiness: must be none, lb:<duration> or app:<cookie>:<duration>/],
    ['stickiness', 'lb:10x', /-c stickiness=lb:10x: stickiness: duration must be a whole number with s, m, h or d/],
    ['stickiness', 'app:AWSALBTG:1h', /-c stickiness=app:AWSALBTG:1h: stickiness: cookie name must not start with AWSALB/],
    ['groupStickiness', '0s', /-c groupStickiness=0s: stickiness: duration must be whole seconds from 1 s to 7 days \(604800 s\), got 0 seconds/],
    ['blueStrategy', 'db', /-c blueStrategy=db: blueStrategy: unknown session strategy, got "db"/],
    ['readReplicas', '16', /-c readReplicas=16: readReplicas: must be a whole number from 0 to 15 \(the RDS limit of read replicas per instance\), got "16"/],
    ['readReplicas', '-1', /-c readReplicas=-1: readReplicas: must be a whole number from 0 to 15/],
    ['databaseProxy', 'yes', /-c databaseProxy=yes: databaseProxy: must be true or false, got "yes"/],
    ['databaseEngine', 'oracle', /-c databaseEngine=oracle: databaseEngine: must be postgres or mysql, got "oracle"/],
    ['greenStrategy', 'sticky', /-c greenStrategy=sticky: greenStrategy: unknown session strategy, got "sticky"; use one of memory, cookie, redis, file, database/],
    ['targetColor', 'red', /-c targetColor=red: targetColor: must be blue or green, got "red"/],
    ['shiftPlan', 'fast', /-c shiftPlan=fast: shiftPlan: must be all-at-once, canary:<percent>:<duration> or linear:<percent>:<duration>/],
    ['shiftPlan', 'canary:0:5m', /-c shiftPlan=canary:0:5m: shiftPlan: the step must be a whole percentage from 1 to 99, got 0/],
    ['shiftPlan', 'linear:1:1m', /-c shiftPlan=linear:1:1m: shiftPlan: must take at most 40 minutes from first to last step/],
    ['blueWeight', '50', /-c blueWeight=50: the weights are no longer set by hand; use -c targetColor=blue\|green and -c shiftPlan=/],
    ['minInstances', '0', /-c minInstances=0: minInstances: must be a whole number from 1 to 100/],
    ['maxInstances', 'many', /-c maxInstances=many: maxInstances: must be a whole number from 2 to 100/],
    ['instanceType', 'large', /-c instanceType=large: instanceType: must be an EC2 instance type like t4g.small/],
    ['certificateArn', 'arn:aws:iam::1:x', /-c certificateArn=arn:aws:iam::1:x: certificateArn: must be an ACM certificate ARN/],
  ])('fails on %s=%s and says what is allowed', (key, value, message) => {
    expect(() => props({ [key]: value })).toThrow(message);
  });

  test('reports every bad key at once', () => {
    expect(() => props({ stickiness: 'lb:8d', targetColor: 'x', greenStrategy: 'db' })).toThrow(
      /^3 problems:\n {2}- -c greenStrategy=db: .*\n {2}- -c stickiness=lb:8d: .*\n {2}- -c targetColor=x: /,
    );
  });

  test('fails when green is the target without a green fleet', () => {
    expect(() => props({ greenStrategy: 'none', targetColor: 'green' })).toThrow(/-c targetColor=green: there is no green fleet \(greenStrategy=none\)/);
  });

  test('region: from context, else the CLI default, and fails on a malformed one', () => {
    expect(demoRegion(testApp({ region: 'eu-central-1' }).node)).toBe('eu-central-1');
    expect(() => demoRegion(testApp({ region: 'moon' }).node)).toThrow('-c region=moon: region must be an AWS region name like us-east-1');
  });
});

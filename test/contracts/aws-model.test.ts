import { loadModel, violations } from '../../local/aws-model';

const elbv2 = loadModel('elbv2');
const cloudwatch = loadModel('cloudwatch');

const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2';
const RULE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const BLUE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/blue/73e2d6bc24d8a067';

const createRule = {
  ListenerArn: LISTENER,
  Priority: 50000,
  Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
  Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: BLUE, Weight: 100 }], TargetGroupStickinessConfig: { Enabled: false } } }],
  Tags: [{ Key: 'cdk-session-tier:weights', Value: 'blue=100/green=0' }],
};

test('a request AWS accepts has no violations', () => {
  expect(violations(elbv2, 'CreateRule', createRule)).toEqual([]);
  expect(violations(cloudwatch, 'DescribeAlarms', { AlarmNames: ['green-5xx'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] })).toEqual([]);
});

test('undefined members count as absent, as the SDK leaves them out', () => {
  expect(violations(elbv2, 'DescribeRules', { ListenerArn: LISTENER, Marker: undefined })).toEqual([]);
});

describe('catches what AWS would refuse', () => {
  test.each([
    ['a missing required member', 'ModifyRule', { Actions: [] }, ['RuleArn: is required by ModifyRuleInput, got nothing']],
    ['a missing required member of a nested structure', 'AddTags', { ResourceArns: [RULE], Tags: [{ Value: 'x' }] },
      ['Tags[0].Key: is required by Tag, got nothing']],
    ['a string too long', 'AddTags', { ResourceArns: [RULE], Tags: [{ Key: 'k'.repeat(129), Value: 'v' }] },
      ['Tags[0].Key: has 129 characters, more than the maximum 128']],
    ['a string too short', 'AddTags', { ResourceArns: [RULE], Tags: [{ Key: '' }] }, ['Tags[0].Key: has 0 characters, fewer than the minimum 1']],
    ['a bad enum value', 'CreateRule', { ...createRule, Actions: [{ Type: 'send' }] },
      ['Actions[0].Type: "send" is not one of forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response']],
    ['a pattern violation (the comma the weights tag once had)', 'AddTags', { ResourceArns: [RULE], Tags: [{ Key: 'cdk-session-tier:weights', Value: 'blue=100,green=0' }] },
      ['Tags[0].Value: "blue=100,green=0" does not match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$']],
    ['a number out of range', 'CreateRule', { ...createRule, Priority: 50001 }, ['Priority: 50001 is above the maximum 50000']],
    ['a number below its range', 'DescribeRules', { ListenerArn: LISTENER, PageSize: 0 }, ['PageSize: 0 is below the minimum 1']],
    ['a list too long', 'cloudwatch:DescribeAlarms', { AlarmNames: Array.from({ length: 101 }, (_, i) => `alarm-${i}`) },
      ['AlarmNames: has 101 items, more than the maximum 100']],
    ['a list too short', 'AddTags', { ResourceArns: [RULE], Tags: [] }, ['Tags: has 0 items, fewer than the minimum 1']],
    ['a wrong type', 'CreateRule', { ...createRule, Priority: '50000' }, ['Priority: must be a whole number (RulePriority), got "50000"']],
    ['a wrong type in a nested list', 'CreateRule', { ...createRule, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: '/*' } }] },
      ['Conditions[0].PathPatternConfig.Values: must be a list (ListOfString), got "/*"']],
    ['a boolean given as a string', 'CreateRule',
      { ...createRule, Actions: [{ Type: 'forward', ForwardConfig: { TargetGroupStickinessConfig: { Enabled: 'false' } } }] },
      ['Actions[0].ForwardConfig.TargetGroupStickinessConfig.Enabled: must be true or false (TargetGroupStickinessEnabled), got "false"']],
    ['a member the model does not have', 'DeleteRule', { RuleArn: RULE, Force: true }, ['Force: is not a member of DeleteRuleInput']],
    ['an operation the service does not have', 'DeleteRules', { RuleArn: RULE }, ['DeleteRules: no such operation in the elasticloadbalancing 2015-12-01 model']],
  ])('%s', (_what, operation, input, expected) => {
    const [model, name] = operation.startsWith('cloudwatch:') ? [cloudwatch, operation.slice('cloudwatch:'.length)] : [elbv2, operation];
    expect(violations(model, name, input)).toEqual(expected);
  });

  test('every violation of one request, not only the first', () => {
    expect(violations(elbv2, 'AddTags', { Tags: [{ Key: 'a,b', Value: 'c,d' }] })).toEqual([
      'ResourceArns: is required by AddTagsInput, got nothing',
      'Tags[0].Key: "a,b" does not match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$',
      'Tags[0].Value: "c,d" does not match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$',
    ]);
  });

  test('patterns read \\p{L} as any letter, as Java does', () => {
    expect(violations(elbv2, 'AddTags', { ResourceArns: [RULE], Tags: [{ Key: 'größe', Value: 'blå 1/2 @ x:y' }] })).toEqual([]);
  });
});

test('fails with the install command when the model is missing', () => {
  expect(() => loadModel('elbv2', '/nonexistent/service-2.json')).toThrow(
    'AWS service model for elbv2 not found at /nonexistent/service-2.json; install Debian\'s package: apt-get install python3-botocore',
  );
});

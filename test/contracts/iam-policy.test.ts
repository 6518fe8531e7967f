import { Statement, allows, authorizationsFor, newRuleArn, resolveIntrinsics, unauthorized, unusedActions } from './iam-policy';
import { SentRequest } from './sent-requests';

const context = { partition: 'aws', region: 'eu-west-1', account: '123456789012' };
const LISTENER = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2';
const RULE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
const OTHER_RULE = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/demo/50dc6c495c0c9188/0000000000000000/9683b2d02a6cabee';

const create: SentRequest = { service: 'elbv2', operation: 'CreateRule', input: { ListenerArn: LISTENER, Tags: [{ Key: 'k', Value: 'v' }] } };
const modify: SentRequest = { service: 'elbv2', operation: 'ModifyRule', input: { RuleArn: RULE } };
const describe_: SentRequest = { service: 'elbv2', operation: 'DescribeRules', input: { RuleArns: [RULE] } };
const alarms: SentRequest = { service: 'cloudwatch', operation: 'DescribeAlarms', input: { AlarmNames: ['green-5xx'] } };

const policy: Statement[] = [
  { Effect: 'Allow', Action: 'elasticloadbalancing:CreateRule', Resource: LISTENER },
  { Effect: 'Allow', Action: ['elasticloadbalancing:ModifyRule', 'elasticloadbalancing:AddTags'], Resource: `${LISTENER.replace(':listener/', ':listener-rule/')}/*` },
  { Effect: 'Allow', Action: 'elasticloadbalancing:DescribeRules', Resource: '*' },
  { Effect: 'Allow', Action: 'cloudwatch:DescribeAlarms', Resource: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:green-5xx' },
];

describe('what a request needs', () => {
  test('CreateRule with tags also needs AddTags on the rule it creates (tag on create)', () => {
    expect(authorizationsFor(create, context)).toEqual([
      { action: 'elasticloadbalancing:CreateRule', resource: LISTENER },
      { action: 'elasticloadbalancing:AddTags', resource: newRuleArn(LISTENER) },
    ]);
    expect(newRuleArn(LISTENER)).toBe(`${RULE.slice(0, RULE.lastIndexOf('/'))}/0123456789abcdef`);
  });

  test('Describe calls without resource types need "*"; DescribeAlarms needs each alarm\'s ARN', () => {
    expect(authorizationsFor(describe_, context)).toEqual([{ action: 'elasticloadbalancing:DescribeRules', resource: '*' }]);
    expect(authorizationsFor(alarms, context)).toEqual([{ action: 'cloudwatch:DescribeAlarms', resource: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:green-5xx' }]);
  });

  test('fails on an operation it has no mapping for, so no new command goes unchecked', () => {
    expect(() => authorizationsFor({ service: 'elbv2', operation: 'DeleteListener', input: {} }, context))
      .toThrow('elbv2:DeleteListener: no IAM action and resource known for it; add them from the Service Authorization Reference');
  });
});

describe('catches a policy that does not fit the requests', () => {
  test('a policy that allows every request passes', () => {
    expect(unauthorized([create, modify, describe_, alarms], policy, context)).toEqual([]);
    expect(unusedActions([create, modify, describe_, alarms], policy, context)).toEqual([]);
  });

  test('a missing action', () => {
    const withoutAddTags = policy.map((s) => (Array.isArray(s.Action) ? { ...s, Action: ['elasticloadbalancing:ModifyRule'] } : s));
    expect(unauthorized([create, modify], withoutAddTags, context)).toEqual([`CreateRule needs elasticloadbalancing:AddTags on ${newRuleArn(LISTENER)}`]);
  });

  test('an action on the wrong resource', () => {
    expect(unauthorized([{ ...modify, input: { RuleArn: OTHER_RULE } }], policy, context)).toEqual([`ModifyRule needs elasticloadbalancing:ModifyRule on ${OTHER_RULE}`]);
    expect(unauthorized([{ ...alarms, input: { AlarmNames: ['blue-5xx'] } }], policy, context))
      .toEqual(['DescribeAlarms needs cloudwatch:DescribeAlarms on arn:aws:cloudwatch:eu-west-1:123456789012:alarm:blue-5xx']);
  });

  test('an unused action', () => {
    const extra: Statement[] = [...policy, { Effect: 'Allow', Action: ['elasticloadbalancing:DeleteRule', 'elasticloadbalancing:SetRulePriorities'], Resource: '*' }];
    expect(unusedActions([create, modify, describe_, alarms], extra, context)).toEqual(['elasticloadbalancing:DeleteRule', 'elasticloadbalancing:SetRulePriorities']);
  });

  test('statements it does not understand are refused rather than guessed', () => {
    expect(() => allows([{ Effect: 'Deny', Action: '*', Resource: '*' }], { action: 'a:b', resource: '*' })).toThrow(/only Allow statements/);
  });
});

describe('IAM wildcard matching', () => {
  test.each([
    ['elasticloadbalancing:Describe*', '*', 'elasticloadbalancing:DescribeRules', RULE, true],
    ['ELASTICLOADBALANCING:modifyrule', '*', 'elasticloadbalancing:ModifyRule', RULE, true],
    ['elasticloadbalancing:ModifyRule', 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/demo/*', 'elasticloadbalancing:ModifyRule', RULE, true],
    ['elasticloadbalancing:ModifyRule', 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/DEMO/*', 'elasticloadbalancing:ModifyRule', RULE, false],
    ['elasticloadbalancing:ModifyRule', `${RULE.slice(0, -1)}?`, 'elasticloadbalancing:ModifyRule', RULE, true],
    ['elasticloadbalancing:ModifyRule', 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/demo/50dc6c495c0c9188/f2f7dc8efc522ab2', 'elasticloadbalancing:ModifyRule', RULE, false],
    ['elasticloadbalancing:Modify.Rule', '*', 'elasticloadbalancing:ModifyxRule', RULE, false],
  ])('%s on %s allows %s on the rule: %s', (action, resource, wanted, arn, expected) => {
    expect(allows([{ Effect: 'Allow', Action: action, Resource: resource }], { action: wanted, resource: arn })).toBe(expected);
  });
});

describe('resolving the template\'s intrinsics', () => {
  const values = { AlbHttp1234: LISTENER, 'Gate.Arn': 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:green-5xx', 'AWS::Partition': 'aws' };

  test('the rules-of-this-listener pattern BlueGreenRouting writes', () => {
    const parts = { 'Fn::Split': [':listener/', { Ref: 'AlbHttp1234' }, 2] };
    expect(resolveIntrinsics({ 'Fn::Join': ['', [{ 'Fn::Select': [0, parts] }, ':listener-rule/', { 'Fn::Select': [1, parts] }, '/*']] }, values))
      .toBe(`${LISTENER.replace(':listener/', ':listener-rule/')}/*`);
  });

  test('Ref, Fn::GetAtt and pseudo parameters', () => {
    expect(resolveIntrinsics([{ Ref: 'AlbHttp1234' }, { 'Fn::GetAtt': ['Gate', 'Arn'] }, { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }]] }], values))
      .toEqual([LISTENER, values['Gate.Arn'], 'arn:aws']);
  });

  test('fails on what it cannot resolve', () => {
    expect(() => resolveIntrinsics({ Ref: 'Unknown' }, values)).toThrow('cannot resolve {"Ref":"Unknown"}: no value given for Unknown');
    expect(() => resolveIntrinsics({ 'Fn::Sub': 'x' }, values)).toThrow('cannot resolve {"Fn::Sub":"x"}: Fn::Sub is not supported');
  });
});

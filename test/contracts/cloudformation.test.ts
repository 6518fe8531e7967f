/**
 * Every variant of the demo stack validates against CloudFormation's resource
 * schemas and fits the CloudFormation quotas the project relies on:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 */
import { readFileSync } from 'node:fs';
import { CfnElement, Stack } from 'aws-cdk-lib/core';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { tierPropsFromContext } from '../../bin/demo-context';
import { DemoStack } from '../../bin/demo-stack';
import { SESSION_STRATEGIES } from '../../lib/contract/app-env';
import { MAX_PLAN_SECONDS, MAX_WAIT_SECONDS } from '../../lib/contract/traffic-shift';
import { testApp, testStack, testVpc } from '../helpers/app';
import {
  AcceptedWarning, CFN_QUOTAS, Finding, MAX_SERVICE_TIMEOUT_SECONDS, SynthesizedTemplate, TemplateJson, TemplateValidator,
  customResourceViolations, formatFinding, needsS3, providerWait, quotaViolations, stateMachineSeconds, synthesizedTemplate, unaccepted, unusedAcceptances,
} from './cloudformation';
import { vpcFunctionRoleViolations, vpcFunctions } from './lambda-vpc';

const ENV = { account: '123456789012', region: 'eu-west-1' } as const;
const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
/** A synth takes seconds on a shared 2-core machine, and each test may be the first to need its variant. */
const SYNTH_TIMEOUT = 180_000;

/** A demo context, and what in its template shows the context took effect. */
interface Variant {
  readonly name: string;
  readonly context: Readonly<Record<string, string>>;
  readonly shows: (template: Template) => void;
}

const count = (template: Template, type: string, props?: object) =>
  Object.keys(template.findResources(type, props ? { Properties: props } : undefined)).length;

/** Each strategy once on blue and once on green, and every database and routing option in one of them. */
const VARIANTS: readonly Variant[] = [
  {
    name: 'memory/cookie over HTTPS, shifting to green with the longest plan accepted',
    context: { blueStrategy: 'memory', greenStrategy: 'cookie', certificateArn: CERTIFICATE, targetColor: 'green', shiftPlan: `canary:10:${MAX_PLAN_SECONDS}s` },
    shows: (t) => {
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTPS', Certificates: [{ CertificateArn: CERTIFICATE }] });
      t.hasResourceProperties('Custom::BlueGreenTrafficShift', { TargetColor: 'green', Plan: `canary:10:${MAX_PLAN_SECONDS}` });
    },
  },
  {
    name: 'cookie/redis',
    context: { blueStrategy: 'cookie', greenStrategy: 'redis' },
    shows: (t) => expect(count(t, 'AWS::ElastiCache::ReplicationGroup')).toBe(1),
  },
  {
    name: 'redis/file',
    context: { blueStrategy: 'redis', greenStrategy: 'file' },
    shows: (t) => expect([count(t, 'AWS::ElastiCache::ReplicationGroup'), count(t, 'AWS::EFS::FileSystem')]).toEqual([1, 1]),
  },
  {
    name: 'file/database on PostgreSQL with 15 read replicas',
    context: { blueStrategy: 'file', greenStrategy: 'database', readReplicas: '15' },
    shows: (t) => {
      expect(count(t, 'AWS::RDS::DBInstance', { Engine: 'postgres' })).toBe(1);
      expect(count(t, 'AWS::RDS::DBInstance', { SourceDBInstanceIdentifier: Match.anyValue() })).toBe(15);
      expect(count(t, 'AWS::RDS::DBProxy')).toBe(0);
    },
  },
  {
    name: 'database/memory on PostgreSQL behind RDS Proxy',
    context: { blueStrategy: 'database', greenStrategy: 'memory', databaseProxy: 'true' },
    shows: (t) => t.hasResourceProperties('AWS::RDS::DBProxy', { EngineFamily: 'POSTGRESQL' }),
  },
  {
    name: 'database/redis on MySQL without replicas or proxy',
    context: { blueStrategy: 'database', greenStrategy: 'redis', databaseEngine: 'mysql', readReplicas: '0' },
    shows: (t) => expect([count(t, 'AWS::RDS::DBInstance'), count(t, 'AWS::RDS::DBInstance', { Engine: 'mysql' }), count(t, 'AWS::RDS::DBProxy')]).toEqual([1, 1, 0]),
  },
  {
    name: 'database on MySQL behind RDS Proxy, one fleet with application-cookie stickiness',
    context: { blueStrategy: 'database', greenStrategy: 'none', databaseEngine: 'mysql', databaseProxy: 'true', stickiness: 'app:sid:1d' },
    shows: (t) => {
      t.hasResourceProperties('AWS::RDS::DBProxy', { EngineFamily: 'MYSQL' });
      expect(count(t, 'AWS::ElasticLoadBalancingV2::TargetGroup')).toBe(1);
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        TargetGroupAttributes: Match.arrayWith([{ Key: 'stickiness.type', Value: 'app_cookie' }, { Key: 'stickiness.app_cookie.cookie_name', Value: 'sid' }]),
      });
    },
  },
];

/**
 * Warnings judged harmless. Two of them come from the fixed account and
 * region the tests build in (test/helpers/app.ts seeds its Availability
 * Zones); the demo app leaves the account open (bin/session-tier.ts), and a
 * test below shows its template has neither.
 */
const ACCEPTED: readonly AcceptedWarning[] = [
  {
    ruleId: 'W3005',
    message: /^'\w+' dependency already enforced by a '(Ref|GetAtt)' at /,
    reason: 'A DependsOn that a Ref or GetAtt already implies (CDK adds them for functions on their roles; the tier for the scaling policies and the '
      + 'traffic shift on the listener). CloudFormation orders the resources the same either way; aws-cdk-lib\'s own synth check ignores W3005.',
  },
  {
    ruleId: 'W3010',
    entity: /^(TierVpc(Public|Private)Subnet\dSubnet[0-9A-F]{8}|TierSessionDatabaseReplica\d+[0-9A-F]{8}|Tier(Blue|Green)ASG[0-9A-F]{8})$/,
    message: /^Avoid hardcoding availability zones 'eu-west-1[ab]'$/,
    reason: 'Subnets, read replicas and the fleets (whose zones Control Tower\'s CT.AUTOSCALING.PR.1 hook reads) name their Availability Zones because the test stacks have a fixed environment with seeded zones; '
      + 'a stack whose account is left open, as the demo app\'s is, picks them with Fn::GetAZs.',
  },
  {
    ruleId: 'W9013',
    entity: /^TierNotifications[0-9A-F]{8}$/,
    message: /^Hardcoded account ID in ARN/,
    reason: 'The scaling-events topic names the AWS managed key alias/aws/sns by ARN, which CDK writes with the account of a fixed environment '
      + 'and with AWS::AccountId when the account is left open, as the demo app\'s is.',
  },
];

/** The demo stack as test/bin/demo-stack.test.ts builds it (without cdk-nag, which does not change the template). */
function demo(context: Readonly<Record<string, string>>, env: { readonly account?: string; readonly region: string } = ENV): SynthesizedTemplate {
  const app = testApp({ ...context });
  const stack = new DemoStack(app, 'SessionTierDemo', { env, tier: tierPropsFromContext(app.node) });
  return synthesizedTemplate(stack);
}

// Each variant is synthesized and validated once, by whichever test needs it first.
const synthesized = new Map<Variant, SynthesizedTemplate>();
const findings = new Map<Variant, Finding[]>();
const synthesizedOf = (variant: Variant): SynthesizedTemplate => synthesized.get(variant) ?? synthesized.set(variant, demo(variant.context)).get(variant)!;
const findingsOf = (variant: Variant): Finding[] =>
  findings.get(variant) ?? findings.set(variant, validator.validate(synthesizedOf(variant).body, `${variant.name}.template.json`, ENV)).get(variant)!;

let validator: TemplateValidator;
beforeAll(() => {
  validator = new TemplateValidator();
}, 120_000);
afterAll(() => validator?.free());

describe('the demo variants', () => {
  test('put every session strategy on blue and on green', () => {
    const missing = ['blueStrategy', 'greenStrategy'].flatMap((color) => SESSION_STRATEGIES
      .filter((strategy) => !VARIANTS.some((v) => v.context[color] === strategy))
      .map((strategy) => `${strategy} on ${color}`));
    expect(missing).toEqual([]);
  });

  describe.each(VARIANTS)('$name', (variant) => {
    test('is the variant it claims to be', () => {
      variant.shows(Template.fromJSON(synthesizedOf(variant).template as Record<string, unknown>));
    }, SYNTH_TIMEOUT);

    test('validates against the resource schemas with no error and no warning beyond the accepted ones', () => {
      expect(unaccepted(findingsOf(variant), ACCEPTED).map(formatFinding)).toEqual([]);
    }, SYNTH_TIMEOUT);

    test('fits CloudFormation\'s quotas; over 51,200 bytes, cdk deploy passes it through S3', () => {
      const { template, bytes, uploadedToS3 } = synthesizedOf(variant);
      expect(quotaViolations({ template, bytes })).toEqual([]);
      // With the default synthesizer the template is a file asset: the CLI passes its TemplateURL, whatever the size.
      expect({ bytes, needsS3: needsS3(bytes), uploadedToS3 }).toEqual({ bytes, needsS3: needsS3(bytes), uploadedToS3: true });
      const byRule = findingsOf(variant).reduce<Record<string, number>>((n, f) => ({ ...n, [f.ruleId]: (n[f.ruleId] ?? 0) + 1 }), {});
      console.log(`${variant.name}: ${Object.keys(template.Resources ?? {}).length} resources, ${Object.keys(template.Outputs ?? {}).length} outputs, `
        + `${Object.keys(template.Parameters ?? {}).length} parameters, ${bytes} bytes${needsS3(bytes) ? ' (over 51,200: uploaded to S3)' : ''}, `
        + `accepted warnings ${JSON.stringify(byRule)}`);
    }, SYNTH_TIMEOUT);

    test('answers every custom resource before its ServiceTimeout', () => {
      expect(customResourceViolations(synthesizedOf(variant).template)).toEqual([]);
    }, SYNTH_TIMEOUT);

    test('puts every function in the VPC, aws-cdk\'s own among them, with a role Lambda can create its network interfaces with', () => {
      const { template } = synthesizedOf(variant);
      const functions = Object.keys(template.Resources ?? {}).filter((id) => template.Resources?.[id].Type === 'AWS::Lambda::Function');
      const expected = [
        /^CustomVpcRestrictDefaultSGCustomResourceProviderHandler/,
        ...variant.context.greenStrategy === 'none' ? [] : [/^TierRoutingOnEvent/, /^TierRoutingIsComplete/, /^TierRoutingProviderframework/],
        ...Object.values(variant.context).includes('database') ? [/^TierSessionDatabaseSetupHandler/, /^TierSessionDatabaseSetupProviderframework/] : [],
      ];
      expect(functions).toEqual(expect.arrayContaining(expected.map((pattern) => expect.stringMatching(pattern))));
      expect(vpcFunctions(template)).toEqual(functions);
      expect(vpcFunctionRoleViolations(template)).toEqual([]);
    }, SYNTH_TIMEOUT);
  });

  test('every accepted warning still occurs in some variant, so none is stale', () => {
    expect(unusedAcceptances(VARIANTS.flatMap(findingsOf), ACCEPTED).map((a) => a.ruleId)).toEqual([]);
  }, SYNTH_TIMEOUT * 2);

  test('the longest plan has the provider poll 50 minutes, inside the 60 CloudFormation waits', () => {
    const { template } = synthesizedOf(VARIANTS[0]);
    const [shift] = Object.keys(Template.fromJSON(template as Record<string, unknown>).findResources('Custom::BlueGreenTrafficShift'));
    expect(template.Resources?.[shift].Properties?.ServiceTimeout).toBe(String(MAX_SERVICE_TIMEOUT_SECONDS));
    expect(providerWait(template, shift)).toEqual({ seconds: MAX_WAIT_SECONDS, boundBy: expect.stringMatching(/^the retries of .*'s waiter state machine /) });
  }, SYNTH_TIMEOUT);

  test('the demo app, whose account is left open, validates too, without the warnings the fixed test environment causes', () => {
    const { body } = demo({}, { region: ENV.region });
    const found = validator.validate(body, 'open-account.template.json', ENV);
    expect(unaccepted(found, ACCEPTED).map(formatFinding)).toEqual([]);
    expect(found.filter((f) => f.ruleId === 'W3010' || f.ruleId === 'W9013').map(formatFinding)).toEqual([]);
  }, SYNTH_TIMEOUT);
});

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** A VPC, a security group with an ingress rule, a load balancer and a target group: valid as it is, broken by each case below. */
function smallTemplate(change: (resources: Resources) => void = () => {}): string {
  const resources = {
    Vpc: { Type: 'AWS::EC2::VPC', Properties: { CidrBlock: '10.0.0.0/16' } as Record<string, unknown> },
    Sg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'web', VpcId: { Ref: 'Vpc' } } as Record<string, unknown> },
    Http: { Type: 'AWS::EC2::SecurityGroupIngress', Properties: { GroupId: 'sg-0123456789abcdef0', IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIp: '10.0.0.0/16' } as Record<string, unknown> },
    Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Scheme: 'internal', Subnets: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] } as Record<string, unknown> },
    Web: { Type: 'AWS::ElasticLoadBalancingV2::TargetGroup', Properties: { Protocol: 'HTTP', Port: 8080, VpcId: { Ref: 'Vpc' } } as Record<string, unknown> },
  };
  change(resources);
  return JSON.stringify({ Resources: resources });
}

describe('the schema check catches what CloudFormation would refuse', () => {
  test('uses the validator aws-cdk-lib runs at synth', () => {
    const cdkLib = JSON.parse(readFileSync(require.resolve('aws-cdk-lib/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(validator.version).toBe(cdkLib.dependencies['@aws/cloudformation-validate']);
  });

  test('a valid template has no findings', () => {
    expect(validator.validate(smallTemplate(), 'valid.json', ENV).map(formatFinding)).toEqual([]);
  });

  test.each([
    ['an unknown property', (r: Resources) => { r.Sg.Properties.Colour = 'blue'; },
      ['FATAL F3002 Sg Properties.Colour: Additional properties are not allowed (\'Colour\' was unexpected)']],
    ['a wrong type', (r: Resources) => { r.Sg.Properties.SecurityGroupIngress = 'all'; },
      ['FATAL F3012 Sg Properties.SecurityGroupIngress: \'all\' is not of type \'array\'']],
    ['a missing required property', (r: Resources) => { delete r.Sg.Properties.GroupDescription; },
      ['FATAL F3003 Sg Properties: \'GroupDescription\' is a required property']],
    ['a value outside an enum (a warning in cfn-lint, so warnings must count)', (r: Resources) => { r.Alb.Properties.Scheme = 'public'; },
      ['WARN W3030 Alb Properties.Scheme: \'public\' is not one of [\'internal\', \'internet-facing\']']],
    ['a security group id that is not sg- and hex', (r: Resources) => { r.Http.Properties.GroupId = 'group-1'; },
      ['ERROR E1150 Http Properties.GroupId: \'group-1\' does not match format \'AWS::EC2::SecurityGroup.Id\'']],
    ['a number above its maximum', (r: Resources) => { r.Web.Properties.Port = 70000; },
      ['FATAL F3034 Web Properties.Port: 70000 is greater than the maximum of 65535']],
    ['a resource type that does not exist', (r: Resources) => { r.Alb.Type = 'AWS::ElasticLoadBalancingV2::Balancer'; },
      ['FATAL F3006 Alb: Unknown resource type \'AWS::ElasticLoadBalancingV2::Balancer\'']],
  ])('%s', (_what, change, expected) => {
    expect(unaccepted(validator.validate(smallTemplate(change), 'broken.json', ENV), ACCEPTED).map(formatFinding)).toEqual(expected);
  });

  test('a template it cannot parse fails, with the report\'s status', () => {
    const found = unaccepted(validator.validate('{"Resources": {', 'truncated.json', ENV), ACCEPTED);
    expect(found.map((f) => `${f.severity} ${f.ruleId}`)).toEqual(expect.arrayContaining(['ERROR report']));
  });
});

describe('accepting warnings', () => {
  const warning = (entity: string, message: string): Finding => ({ severity: 'WARN', ruleId: 'W3010', entity, message });
  const subnets: AcceptedWarning = { ruleId: 'W3010', entity: /^Subnet\d$/, message: /'eu-west-1a'$/, reason: 'test' };

  test('covers only the entities and messages it names, and never an error', () => {
    const found = [
      warning('Subnet1', 'Avoid hardcoding availability zones \'eu-west-1a\''),
      warning('Cache', 'Avoid hardcoding availability zones \'eu-west-1a\''),
      warning('Subnet2', 'Avoid hardcoding availability zones \'eu-west-1b\''),
      { severity: 'ERROR', ruleId: 'W3010', entity: 'Subnet1', message: 'Avoid hardcoding availability zones \'eu-west-1a\'' } as const,
      { severity: 'INFO', ruleId: 'I9040', entity: 'Subnet1', message: 'supports Tags but none are configured' } as const,
    ];
    expect(unaccepted(found, [subnets]).map((f) => `${f.severity} ${f.entity} ${f.message.slice(-12)}`)).toEqual([
      'WARN Cache \'eu-west-1a\'', 'WARN Subnet2 \'eu-west-1b\'', 'ERROR Subnet1 \'eu-west-1a\'',
    ]);
  });

  test('an acceptance nothing needs any more is reported as stale', () => {
    expect(unusedAcceptances([warning('Subnet1', '\'eu-west-1a\'')], [subnets, { ...subnets, ruleId: 'W3005' }]).map((a) => a.ruleId)).toEqual(['W3005']);
  });
});

describe('the quota check catches a template over a limit', () => {
  const entries = <T = object>(n: number, value: T = {} as T): Record<string, T> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`E${i}`, value]));
  const topic = { Type: 'AWS::SNS::Topic' };
  const withDynamicReferences = (n: number) => entries(n, { Type: 'AWS::SSM::Parameter', Properties: { Value: '{{resolve:ssm:/a/b}}' } });

  test.each<[string, TemplateJson, number, string[]]>([
    ['500 resources, 200 outputs, parameters and mappings, 60 dynamic references, 1,000,000 bytes', {
      Resources: { ...entries(440, topic), ...withDynamicReferences(60) }, Outputs: entries(200), Parameters: entries(200), Mappings: entries(200),
    }, CFN_QUOTAS.templateBytes, []],
    ['501 resources', { Resources: entries(501, topic) }, 1, ['Resources: 501 declared, more than the 500 a template may have']],
    ['201 outputs', { Outputs: entries(201) }, 1, ['Outputs: 201 declared, more than the 200 a template may have']],
    ['201 parameters', { Parameters: entries(201) }, 1, ['Parameters: 201 declared, more than the 200 a template may have']],
    ['201 mappings', { Mappings: entries(201) }, 1, ['Mappings: 201 declared, more than the 200 a template may have']],
    ['61 dynamic references', { Resources: withDynamicReferences(61) }, 1, ['dynamic references: 61 {{resolve:...}}, more than the 60 a template may have']],
    ['1,000,001 bytes', {}, 1_000_001, ['template: 1000001 bytes, more than the 1000000 CloudFormation reads from S3; split the stack (nested stacks)']],
  ])('%s', (_what, template, bytes, expected) => {
    expect(quotaViolations({ template, bytes })).toEqual(expected);
  });

  test('a template over 51,200 bytes must go through S3', () => {
    expect([needsS3(CFN_QUOTAS.requestBodyBytes), needsS3(CFN_QUOTAS.requestBodyBytes + 1)]).toEqual([false, true]);
  });
});

/** A function in a VPC with `role` (aws-cdk's own when none), its template, and the logical ids of the function and of its role. */
function vpcFunction(role?: (stack: Stack) => iam.IRole) {
  const stack = testStack();
  const fn = new lambda.Function(stack, 'Fn', {
    vpc: testVpc(stack), role: role?.(stack), code: lambda.Code.fromInline('exports.handler = async () => {}'), handler: 'index.handler', runtime: lambda.Runtime.NODEJS_24_X,
  });
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }> };
  const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as CfnElement);
  return { template, functionId: logicalId(fn), roleId: fn.role instanceof iam.Role ? logicalId(fn.role) : undefined };
}

const ownRole = (stack: Stack) => new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
const ALL_SIX = 'ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DescribeSubnets, ec2:DeleteNetworkInterface, ec2:AssignPrivateIpAddresses, ec2:UnassignPrivateIpAddresses';
const FIX = '; attach the AWS managed policy service-role/AWSLambdaVPCAccessExecutionRole to the role';
const eniStatement = (options: Pick<iam.PolicyStatementProps, 'resources' | 'conditions'> = {}) => new iam.PolicyStatement({
  actions: ALL_SIX.split(', '), resources: ['*'], ...options,
});

describe('the VPC function role check catches a role Lambda refuses', () => {
  test('passes aws-cdk\'s own role, which carries AWSLambdaVPCAccessExecutionRole', () => {
    expect(vpcFunctionRoleViolations(vpcFunction().template)).toEqual([]);
  });

  test('a role of our own without the network-interface actions, as the shifter\'s and the setup\'s had', () => {
    const { template, functionId, roleId } = vpcFunction((stack) => {
      const role = ownRole(stack);
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: ['arn:aws:logs:eu-west-1:123456789012:log-group:own:*'] }));
      return role;
    });
    expect(vpcFunctionRoleViolations(template)).toEqual([
      `${functionId}: its role ${roleId} does not allow ${ALL_SIX} on "*" when Lambda creates the function, so Lambda refuses to create it${FIX}`,
    ]);
  });

  test('an inline policy counts when the function depends on it, as aws-cdk makes a function depend on its role\'s DefaultPolicy, and not otherwise', () => {
    const { template, functionId, roleId } = vpcFunction((stack) => {
      const role = ownRole(stack);
      role.addToPrincipalPolicy(eniStatement());
      return role;
    });
    expect(vpcFunctionRoleViolations(template)).toEqual([]);
    const policyId = Object.keys(template.Resources).find((id) => template.Resources[id].Type === 'AWS::IAM::Policy')!;
    expect(template.Resources[functionId].DependsOn).toContain(policyId);
    template.Resources[functionId].DependsOn = template.Resources[functionId].DependsOn!.filter((id) => id !== policyId);
    expect(vpcFunctionRoleViolations(template)).toEqual([
      `${functionId}: its role ${roleId} does not allow ${ALL_SIX} on "*" when Lambda creates the function, so Lambda refuses to create it; `
      + `${policyId} would, but the function does not depend on it, so CloudFormation may create it after the function${FIX}`,
    ]);
  });

  test('AWSLambdaENIManagementAccess alone lacks ec2:DescribeSubnets', () => {
    const { template, functionId, roleId } = vpcFunction((stack) => {
      const role = ownRole(stack);
      role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaENIManagementAccess'));
      return role;
    });
    expect(vpcFunctionRoleViolations(template)).toEqual([
      `${functionId}: its role ${roleId} does not allow ec2:DescribeSubnets on "*" when Lambda creates the function, so Lambda refuses to create it${FIX}`,
    ]);
  });

  test.each([
    ['allowed on one subnet only', [eniStatement({ resources: ['arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-0123456789abcdef0'] })]],
    ['allowed but denied too', [eniStatement(), new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['ec2:*'], resources: ['*'] })]],
    ['allowed under a condition', [eniStatement({ conditions: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } })]],
  ])('the actions %s', (_what, statements) => {
    const { template, functionId, roleId } = vpcFunction((stack) => new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), inlinePolicies: { Eni: new iam.PolicyDocument({ statements }) },
    }));
    expect(vpcFunctionRoleViolations(template)).toEqual([
      `${functionId}: its role ${roleId} does not allow ${ALL_SIX} on "*" when Lambda creates the function, so Lambda refuses to create it${FIX}`,
    ]);
  });

  test('a role from outside the template cannot be judged, and fails', () => {
    const { template, functionId } = vpcFunction((stack) => iam.Role.fromRoleArn(stack, 'Role', 'arn:aws:iam::123456789012:role/lambda'));
    expect(vpcFunctionRoleViolations(template)).toEqual([
      `${functionId}: its role is not a role of this template, so what it allows when Lambda creates the function is unknown, got "arn:aws:iam::123456789012:role/lambda"`,
    ]);
  });

  test('a function outside a VPC, or detached from it by an empty list of subnets, needs none of it', () => {
    const { template, functionId } = vpcFunction(ownRole);
    template.Resources[functionId].Properties.VpcConfig = { SubnetIds: [], SecurityGroupIds: [] };
    expect([vpcFunctions(template), vpcFunctionRoleViolations(template)]).toEqual([[], []]);
    delete template.Resources[functionId].Properties.VpcConfig;
    expect([vpcFunctions(template), vpcFunctionRoleViolations(template)]).toEqual([[], []]);
  });
});

/** A custom resource served by a provider framework whose waiter retries `attempts` times every `interval` s, like CDK's `Provider`. */
function providerTemplate(serviceTimeout: unknown, attempts: number, interval = 30): TemplateJson {
  return {
    Resources: {
      Shift: { Type: 'Custom::Shift', Properties: { ServiceToken: { 'Fn::GetAtt': ['OnEvent', 'Arn'] }, ...serviceTimeout === undefined ? {} : { ServiceTimeout: serviceTimeout } } },
      OnEvent: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 900, Environment: { Variables: { WAITER_STATE_MACHINE_ARN: { Ref: 'Waiter' } } } } },
      Waiter: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: { 'Fn::Join': ['', [
            `{"StartAt":"check","States":{"check":{"End":true,"Retry":[{"ErrorEquals":["States.ALL"],"IntervalSeconds":${interval},"MaxAttempts":${attempts},"BackoffRate":1}],`,
            '"Type":"Task","Resource":"', { 'Fn::GetAtt': ['IsComplete', 'Arn'] }, '"}}}',
          ]] },
        },
      },
    },
  };
}

describe('the custom resource check catches a provider CloudFormation gives up on', () => {
  test.each([
    ['the timeout at the limit, as text, and a waiter of 50 minutes', providerTemplate('3600', 100), []],
    ['no timeout (CloudFormation\'s default of 3600 s) and a waiter of 50 minutes', providerTemplate(undefined, 100), []],
    ['a ServiceTimeout of 7200 s', providerTemplate(7200, 100), ['Shift: ServiceTimeout must be from 1 to 3600 s, got 7200']],
    ['a ServiceTimeout of 0 s', providerTemplate('0', 100), ['Shift: ServiceTimeout must be from 1 to 3600 s, got 0']],
    ['a ServiceTimeout known only at deploy', providerTemplate({ Ref: 'Timeout' }, 100),
      ['Shift: ServiceTimeout must be a whole number of seconds known at synth, got {"Ref":"Timeout"}']],
    ['a waiter as long as the timeout', providerTemplate(3600, 120),
      ['Shift: its provider may take 3600 s (the retries of OnEvent\'s waiter state machine Waiter), not less than its ServiceTimeout of 3600 s']],
    ['a waiter longer than a shorter timeout', providerTemplate(600, 20, 31),
      ['Shift: its provider may take 620 s (the retries of OnEvent\'s waiter state machine Waiter), not less than its ServiceTimeout of 600 s']],
  ])('%s', (_what, template, expected) => {
    expect(customResourceViolations(template)).toEqual(expected);
  });

  test('a provider without a waiter answers within its function\'s timeout (3 s by default)', () => {
    const direct = (timeout: number | undefined, serviceTimeout: number): TemplateJson => ({
      Resources: {
        Sg: { Type: 'AWS::CloudFormation::CustomResource', Properties: { ServiceToken: { 'Fn::GetAtt': ['Handler', 'Arn'] }, ServiceTimeout: serviceTimeout } },
        Handler: { Type: 'AWS::Lambda::Function', Properties: timeout === undefined ? {} : { Timeout: timeout } },
      },
    });
    expect(providerWait(direct(undefined, 60), 'Sg')).toEqual({ seconds: 3, boundBy: 'the timeout of Lambda function Handler' });
    expect(customResourceViolations(direct(900, 3600))).toEqual([]);
    expect(customResourceViolations(direct(900, 600))).toEqual(['Sg: its provider may take 900 s (the timeout of Lambda function Handler), not less than its ServiceTimeout of 600 s']);
  });

  test('a provider outside the template cannot be judged, and fails', () => {
    const sns: TemplateJson = { Resources: { X: { Type: 'Custom::X', Properties: { ServiceToken: 'arn:aws:sns:eu-west-1:123456789012:provider' } } } };
    expect(customResourceViolations(sns)).toEqual([
      'X: its ServiceToken is not a Lambda function of this template, so how long its provider takes is unknown, got "arn:aws:sns:eu-west-1:123456789012:provider"',
    ]);
  });
});

describe('a state machine\'s longest wait', () => {
  const machine = (states: object, extra: object = {}) => JSON.stringify({ StartAt: 'a', States: states, ...extra });

  test.each([
    ['Step Functions\' defaults: 3 retries from 1 s, doubling', machine({ a: { Type: 'Task', Retry: [{ ErrorEquals: ['States.ALL'] }] } }), 1 + 2 + 4],
    ['backoff capped by MaxDelaySeconds', machine({ a: { Type: 'Task', Retry: [{ IntervalSeconds: 10, MaxAttempts: 4, BackoffRate: 3, MaxDelaySeconds: 50 }] } }), 10 + 30 + 50 + 50],
    ['retries and Wait states together', machine({ a: { Type: 'Wait', Seconds: 60 }, b: { Type: 'Task', Retry: [{ IntervalSeconds: 5, MaxAttempts: 2, BackoffRate: 1 }] } }), 70],
    ['at most the machine\'s TimeoutSeconds', machine({ a: { Type: 'Task', Retry: [{ IntervalSeconds: 30, MaxAttempts: 100, BackoffRate: 1 }] } }, { TimeoutSeconds: 600 }), 600],
  ])('%s', (_what, definition, seconds) => {
    expect(stateMachineSeconds(definition)).toBe(seconds);
  });

  test('fails on states it does not understand rather than undercount', () => {
    expect(() => stateMachineSeconds(machine({ a: { Type: 'Parallel', Branches: [] } }))).toThrow('state a: Parallel states are not understood; count their branches by hand');
    expect(() => stateMachineSeconds({ 'Fn::Sub': '{}' })).toThrow('DefinitionString: must be text or an Fn::Join with an empty separator, got {"Fn::Sub":"{}"}');
  });
});

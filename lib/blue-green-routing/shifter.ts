import { BundlingOutput, Duration, Fn, Stack } from 'aws-cdk-lib/core';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, IDependable } from 'constructs';
import { TRAFFIC_SHIFTER_BUNDLE, bundleAssetOptions } from '../private/esbuild-bundle';
import { functionRole } from '../private/function-role';
import { acknowledgeShifterRole } from './acknowledgements';

/** Where the shifter's functions run, when in a VPC. */
export interface ShifterNetwork {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
  /** The subnets' routes out: the functions reach the AWS APIs through them. */
  readonly ready: IDependable;
}

/** Where the functions run: the private subnets, with a security group that lets them out on HTTPS only. */
export function shifterNetwork(scope: Construct, vpc: ec2.IVpc, vpcSubnets: ec2.SubnetSelection): ShifterNetwork {
  const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc,
    description: 'Traffic shifter functions: out to the AWS APIs over HTTPS only, nothing in',
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS: the ELB, CloudWatch and Lambda APIs');
  return { vpc, vpcSubnets, securityGroups: [securityGroup], ready: vpc.selectSubnets(vpcSubnets).internetConnectivityEstablished };
}

/** One of the shifter's functions (`handler` is its export in the bundle), with its own role and log group. */
export function shifterFunction(
  scope: Construct, id: string, handler: string, timeout: Duration, logGroupFor: (id: string) => logs.LogGroup, network?: ShifterNetwork,
): lambda.Function {
  const logGroup = logGroupFor(`${id}Logs`);
  // Its own role with write access to its own log group (and, in a VPC, what Lambda needs for the function's network interfaces).
  const role = functionRole(scope, `${id}Role`, `Blue/green traffic shifter (${handler}): the listener rule it owns, target health, gate alarms`, network !== undefined);
  logGroup.grantWrite(role);
  const { path: codeDir, ...code } = bundleAssetOptions(TRAFFIC_SHIFTER_BUNDLE, BundlingOutput.NOT_ARCHIVED);
  return new lambda.Function(scope, id, {
    code: lambda.Code.fromAsset(codeDir, code),
    handler: `index.${handler}`,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout,
    description: `Blue/green traffic shifter: ${handler}`,
    logGroup,
    role,
    vpc: network?.vpc,
    vpcSubnets: network?.vpcSubnets,
    securityGroups: network?.securityGroups,
  });
}

/**
 * Each handler's own least privilege: onEvent creates, carries over and
 * deletes the rule; isComplete moves its weights and reads the gates. Both
 * change only rules of this listener.
 */
export function grantShift(
  scope: Construct, listener: elbv2.IApplicationListener, alarms: cloudwatch.IAlarm[], onEvent: iam.IGrantable, isComplete: iam.IGrantable,
  hook?: lambda.IFunction,
): void {
  // listener ARN: arn:...:listener/app/<lb>/<lb-id>/<listener-id>; its rules: arn:...:listener-rule/app/<lb>/<lb-id>/<listener-id>/<rule-id>
  const parts = Fn.split(':listener/', listener.listenerArn, 2);
  const rulesOfListener = Fn.join('', [Fn.select(0, parts), ':listener-rule/', Fn.select(1, parts), '/*']);
  // CreateRule with tags is also authorized as AddTags on the new rule (tag on create), which this statement covers.
  const changeRules = (...actions: string[]) => new iam.PolicyStatement({
    sid: 'ChangeOnlyRulesOfThisListener', actions: actions.map((a) => `elasticloadbalancing:${a}`), resources: [rulesOfListener],
  });
  const describe = (actions: string[]) => new iam.PolicyStatement({ sid: 'DescribeCallsTakeNoResource', actions, resources: ['*'] });
  // DescribeAlarms takes alarm ARNs, but returns composite alarms only to a role allowed it on "*".
  const composite = alarms.some((alarm) => alarm instanceof cloudwatch.CompositeAlarm);
  const alarmsOnStar = composite ? ['cloudwatch:DescribeAlarms'] : [];
  const readTheGateAlarms = alarms.length > 0 && !composite
    ? [new iam.PolicyStatement({ sid: 'ReadOnlyTheGateAlarms', actions: ['cloudwatch:DescribeAlarms'], resources: alarms.map((a) => a.alarmArn) })]
    : [];
  const onStar = (names: string[]) => `${names.join(', ')} support no resource-level permissions: AWS requires "*". They only read.`;
  const grants = [
    {
      grantee: onEvent,
      statements: [
        new iam.PolicyStatement({ sid: 'CreateTheRuleOnThisListener', actions: ['elasticloadbalancing:CreateRule'], resources: [listener.listenerArn] }),
        changeRules('ModifyRule', 'DeleteRule', 'AddTags', 'SetRulePriorities'),
        describe(['elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetGroups']),
      ],
      starReason: onStar(['DescribeRules', 'DescribeTags', 'DescribeTargetGroups']),
    },
    {
      grantee: isComplete,
      statements: [
        changeRules('ModifyRule', 'AddTags'),
        describe([
          'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeTargetHealth', ...alarmsOnStar,
        ]),
        ...readTheGateAlarms,
        // The hook by the ARN the shifter calls, not its versions (`<arn>:*`, as lambda.grantInvoke would add).
        ...hook ? [new iam.PolicyStatement({ sid: 'InvokeTheHook', actions: ['lambda:InvokeFunction'], resources: [hook.functionArn] })] : [],
      ],
      starReason: onStar(['DescribeRules', 'DescribeTags', 'DescribeTargetHealth']) + (composite
        ? ' DescribeAlarms is allowed on "*" too: a gate alarm is a composite alarm, and DescribeAlarms returns composite alarms only to a role allowed it on "*".'
        : ''),
    },
  ];
  // cdk-nag names a finding by the resource as it renders the template: the parts of the Fn::Join, objects as JSON.
  // An imported listener's ARN is known at synth: the rules' ARN pattern is then a plain string.
  const resolved = Stack.of(scope).resolve(rulesOfListener);
  const renderedRules = typeof resolved === 'string' ? resolved : (resolved['Fn::Join'][1] as unknown[])
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
  for (const { grantee, statements, starReason } of grants) {
    for (const statement of statements) {
      grantee.grantPrincipal.addToPrincipalPolicy(statement);
    }
    const role = grantee.grantPrincipal;
    if (role instanceof Construct) {
      acknowledgeShifterRole(role, starReason, renderedRules);
    }
  }
}

/**
 * X-Ray tracing on the provider's waiter state machine (Control Tower
 * CT.STEPFUNCTIONS.PR.2), which `cr.Provider` offers no option for: set on
 * the state machine, with the X-Ray calls tracing needs on its role.
 *
 * It reaches into the provider's children (the `cr.WaiterStateMachine`, its
 * `CfnStateMachine` and its `Role` child), which aws-cdk-lib does not promise
 * to keep. If a release moves them, synth stops here with a plain `Error`:
 * a broken assumption of this library, not a problem with the user's props,
 * and better than deploying a waiter without the tracing the controls demand.
 */
export function traceWaiter(provider: cr.Provider): void {
  const waiter = provider.node.findAll().find((c): c is cr.WaiterStateMachine => c instanceof cr.WaiterStateMachine);
  const machine = waiter?.node.defaultChild;
  const role = waiter?.node.tryFindChild('Role');
  if (!(machine instanceof sfn.CfnStateMachine) || !(role instanceof iam.Role)) {
    throw new Error(`cdk-session-tier: cannot turn on X-Ray tracing for the traffic shifter's waiter at ${provider.node.path}: ` +
      'this aws-cdk-lib\'s cr.Provider no longer has a cr.WaiterStateMachine with a CfnStateMachine and a child named Role, as cdk-session-tier expects. ' +
      'This is a bug in cdk-session-tier, not in your props: please report it with your aws-cdk-lib version, ' +
      'and meanwhile pin aws-cdk-lib to the last version that synthesized.');
  }
  machine.tracingConfiguration = { enabled: true };
  // What the AWSXrayWriteOnlyAccess managed policy grants: the X-Ray API takes no resource.
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    sid: 'WriteTraces',
    actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
    resources: ['*'],
  }));
}

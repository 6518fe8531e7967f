/**
 * Lambda's requirement on the role of a function in a VPC, read from a
 * synthesized template. Lambda creates the function's network interfaces
 * with the function's role, checks when it creates the function that the role
 * allows it, and refuses the function otherwise ("The provided execution role
 * does not have permissions to call CreateNetworkInterface on EC2"):
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html#configuration-vpc-permissions
 *
 * So a permission counts only if it exists before the function does: on the
 * role itself (its managed policies and its `Policies`, attached when
 * CloudFormation creates the role, which the function's `Role` refers to), or
 * in a separate policy resource (`AWS::IAM::Policy`, `AWS::IAM::ManagedPolicy`)
 * the function depends on, by `DependsOn` or by reference, directly or not.
 * Any other policy of the role may be created after the function.
 */
import { TemplateJson } from './cloudformation';
import { Statement, allows } from './iam-policy';

/**
 * The actions Lambda's VPC documentation (above) requires of a function's
 * role. DescribeNetworkInterfaces works only on "*", and Lambda names the
 * interfaces it makes: the check wants each allowed on "*".
 */
const LAMBDA_VPC_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

const onStar = (...actions: string[]): Statement[] => [{ Effect: 'Allow', Action: actions, Resource: '*' }];

/** What the AWS managed policies for a function's network interfaces allow, as AWS's managed policy reference gives them. */
const AWS_MANAGED_POLICIES: Readonly<Record<string, readonly Statement[]>> = {
  // Version v3: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaVPCAccessExecutionRole.html
  'service-role/AWSLambdaVPCAccessExecutionRole': onStar('logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', ...LAMBDA_VPC_ACTIONS),
  // Version v2, which has no ec2:DescribeSubnets: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaENIManagementAccess.html
  'service-role/AWSLambdaENIManagementAccess': onStar(
    'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
  ),
};

const AWS_MANAGED_ARN = /^arn:aws(?:-[a-z]+)*:iam::aws:policy\/(.+)$/;

type Resources = NonNullable<TemplateJson['Resources']>;
type Resource = Resources[string];

/** The functions Lambda attaches to a VPC: those with a `VpcConfig` whose subnets are not an empty list (which detaches). */
export function vpcFunctions(template: TemplateJson): string[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties?.VpcConfig !== undefined)
    .filter(([, r]) => {
      const subnets = (r.Properties?.VpcConfig as { SubnetIds?: unknown }).SubnetIds;
      return !(Array.isArray(subnets) && subnets.length === 0);
    })
    .map(([id]) => id);
}

/**
 * Each function in a VPC whose role does not allow the network-interface
 * actions on "*" by the time Lambda creates the function, with what is
 * missing and why.
 */
export function vpcFunctionRoleViolations(template: TemplateJson): string[] {
  const resources = template.Resources ?? {};
  return vpcFunctions(template).flatMap((id) => {
    const problem = roleProblem(resources, id);
    return problem === undefined ? [] : [`${id}: ${problem}`];
  });
}

function roleProblem(resources: Resources, functionId: string): string | undefined {
  const roleArn = resources[functionId].Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
  const roleId = roleArn?.['Fn::GetAtt']?.[1] === 'Arn' ? roleArn['Fn::GetAtt'][0] : undefined;
  const role = roleId === undefined ? undefined : resources[roleId];
  if (roleId === undefined || role?.Type !== 'AWS::IAM::Role') {
    return `its role is not a role of this template, so what it allows when Lambda creates the function is unknown, got ${JSON.stringify(roleArn)}`;
  }
  const before = dependencies(resources, functionId);
  const statements: unknown[] = [];
  const unknownPolicies: string[] = [];
  for (const arn of (role.Properties?.ManagedPolicyArns ?? []) as unknown[]) {
    const ref = (arn as { Ref?: unknown } | undefined)?.Ref;
    if (typeof ref === 'string' && resources[ref]?.Type === 'AWS::IAM::ManagedPolicy') {
      statements.push(...documentStatements(resources[ref].Properties?.PolicyDocument));
      continue;
    }
    const text = arnText(arn);
    const known = AWS_MANAGED_POLICIES[AWS_MANAGED_ARN.exec(text ?? '')?.[1] ?? ''];
    if (known) {
      statements.push(...known);
    } else {
      unknownPolicies.push(text ?? JSON.stringify(arn));
    }
  }
  for (const policy of (role.Properties?.Policies ?? []) as Array<{ PolicyDocument?: unknown }>) {
    statements.push(...documentStatements(policy.PolicyDocument));
  }
  const attached = Object.entries(resources).filter(([, r]) => attachesTo(r, roleId));
  const inTime = attached.filter(([id]) => before.has(id));
  statements.push(...inTime.flatMap(([, r]) => documentStatements(r.Properties?.PolicyDocument)));

  const missing = LAMBDA_VPC_ACTIONS.filter((action) => !allowedOnStar(statements, action));
  if (missing.length === 0) {
    return undefined;
  }
  const late = attached.filter(([id, r]) => !before.has(id)
    && missing.some((action) => allowedOnStar(documentStatements(r.Properties?.PolicyDocument), action)))
    .map(([id]) => id);
  return `its role ${roleId} does not allow ${missing.join(', ')} on "*" when Lambda creates the function, so Lambda refuses to create it`
    + (late.length > 0 ? `; ${late.join(' and ')} would, but the function does not depend on it, so CloudFormation may create it after the function` : '')
    + (unknownPolicies.length > 0 ? `; counted as allowing nothing, managed policies this check does not know: ${unknownPolicies.join(', ')}` : '')
    + '; attach the AWS managed policy service-role/AWSLambdaVPCAccessExecutionRole to the role';
}

/** Whether a separate policy resource attaches to the role `roleId` (by `Roles: [{ Ref }]`). */
function attachesTo(resource: Resource, roleId: string): boolean {
  if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') {
    return false;
  }
  return ((resource.Properties?.Roles ?? []) as unknown[]).some((r) => (r as { Ref?: unknown } | undefined)?.Ref === roleId);
}

/**
 * Whether the statements allow `action` on "*" and none denies it. Only
 * plain Allow statements (Action and Resource, no condition) count; any Deny
 * that names the action counts against it, whatever its resource or condition.
 */
function allowedOnStar(statements: readonly unknown[], action: string): boolean {
  const all = statements as Array<Record<string, unknown>>;
  const plain = (s: Record<string, unknown>) => Object.keys(s).every((key) => ['Sid', 'Effect', 'Action', 'Resource'].includes(key));
  const texts = (value: unknown): string[] => [value].flat().filter((v): v is string => typeof v === 'string');
  const asAllow = (s: Record<string, unknown>, resource: string[]): Statement => ({ Effect: 'Allow', Action: texts(s.Action), Resource: resource });
  const allowing = all.filter((s) => s.Effect === 'Allow' && plain(s)).map((s) => asAllow(s, texts(s.Resource)));
  const denying = all.filter((s) => s.Effect === 'Deny' && s.Action !== undefined).map((s) => asAllow(s, ['*']));
  return allows(allowing, { action, resource: '*' }) && !allows(denying, { action, resource: '*' });
}

function documentStatements(document: unknown): unknown[] {
  return [(document as { Statement?: unknown } | undefined)?.Statement ?? []].flat();
}

/** An ARN as text: a string, or an `Fn::Join` of strings and the partition (read as `aws`). */
function arnText(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  const join = (value as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (!join || join[0] !== '') {
    return undefined;
  }
  const parts = join[1].map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === '{"Ref":"AWS::Partition"}' ? 'aws' : undefined));
  return parts.every((part) => part !== undefined) ? parts.join('') : undefined;
}

/** Every resource `id` depends on, directly or not: its `DependsOn`, and each `Ref`, `Fn::GetAtt` and `Fn::Sub` reference in its properties. */
function dependencies(resources: Resources, id: string): Set<string> {
  const found = new Set<string>();
  const pending = [id];
  while (pending.length > 0) {
    for (const next of directDependencies(resources[pending.pop()!])) {
      if (next in resources && !found.has(next)) {
        found.add(next);
        pending.push(next);
      }
    }
  }
  return found;
}

function directDependencies(resource: Resource): string[] {
  const found = [resource.DependsOn ?? []].flat();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(walk);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (key === 'Ref' && typeof item === 'string') {
          found.push(item);
        } else if (key === 'Fn::GetAtt' && Array.isArray(item) && typeof item[0] === 'string') {
          found.push(item[0]);
        } else if (key === 'Fn::Sub') {
          const text = [item].flat()[0];
          if (typeof text === 'string') {
            found.push(...[...text.matchAll(/\$\{([^!.}]+)[^}]*\}/g)].map((m) => m[1]));
          }
        }
        walk(item);
      }
    }
  };
  walk(resource.Properties);
  return found;
}

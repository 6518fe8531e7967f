/**
 * What the integration-test apps (test/integ.*.ts) share: the app, its
 * environment, cdk-nag over the stacks under test, and the probes that reach
 * the tier over HTTP. These apps are run by integ-runner, which synthesizes
 * them to compare with their committed snapshots (npm test) and deploys them
 * with `--update-on-failed` or `--force` (see the README's "Integration tests").
 */
import { App, CfnResource, CustomResource, Duration, Fn, IPolicyValidationPlugin, PolicyValidationPluginReport, RemovalPolicies, Stack, Validations } from 'aws-cdk-lib/core';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { ExpectedResult, HttpApiCall, IApiCall } from '@aws-cdk/integ-tests-alpha';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * The region the integration tests deploy to. Fixed, like the demo's, because
 * the load balancer's access-log bucket policy depends on it; the account is
 * left open, so synth needs no credentials and a deploy uses the caller's.
 */
export const INTEG_REGION = 'us-east-1';

/**
 * An app with the feature flags `cdk init` writes today (the ones cdk.json
 * carries). integ-runner passes its own list of recommended flags as context;
 * `postCliContext` wins over it, so the stacks under test are the ones users
 * deploy with this aws-cdk-lib.
 */
export function integApp(): App {
  return new App({ postCliContext: { ...cxapi.CURRENTLY_RECOMMENDED_FLAGS } });
}

/**
 * cdk-nag's AwsSolutions pack over the stacks under test, as bin/session-tier.ts
 * runs it over the demo: any unacknowledged finding fails the synth, and with it
 * integ-runner's snapshot check. The assertion stack (integ-tests' own Lambda
 * functions and state machines, which exist only for the run) is left out.
 */
export function checkWithNag(app: App, stacks: Stack[]): void {
  const pack = new AwsSolutionsChecks();
  // Named as the pack, so a finding's "Acknowledge with ..." hint is the one the demo's synth prints.
  const plugin: IPolicyValidationPlugin = {
    name: pack.name,
    validate: (): PolicyValidationPluginReport => {
      const reports = stacks.map((stack) => pack.validateScope(stack));
      return { success: reports.every((r) => r.success), violations: reports.flatMap((r) => r.violations) };
    },
  };
  Validations.of(app).addPlugins(plugin);
}

/**
 * What a run would otherwise leave behind for good, removed with the stack:
 * the KMS keys (scheduled for deletion), the log groups and the cache (no
 * final snapshot), which the constructs retain by default for real stacks.
 * The access-log buckets stay retained: they hold logs by then, and
 * CloudFormation cannot delete a bucket that is not empty (README lists them).
 */
export function removeWithStack(stack: Stack): void {
  RemovalPolicies.of(stack).destroy({ applyToResourceTypes: ['AWS::KMS::Key', 'AWS::Logs::LogGroup', 'AWS::ElastiCache::ReplicationGroup'] });
}

/**
 * The stack integ-tests puts its assertions in, in the region of the stacks
 * under test: its calls read their outputs (the URL, the rule's ARN), and
 * aws-cdk-lib references across stacks only within one known region.
 */
export function assertionStack(app: App, stackName: string): Stack {
  return new Stack(app, stackName, { env: { region: INTEG_REGION } });
}

/**
 * The ELBv2 service as integ-tests' awsApiCall should be given it: the SDK v3
 * client name, from which it derives the IAM prefix `elasticloadbalancing`
 * (given `ElasticLoadBalancingV2`, it grants `elasticloadbalancingv2:...`,
 * an action that does not exist, and the call would be refused).
 */
export const ELBV2 = 'elastic-load-balancing-v2';

/** The name=value pair of a Set-Cookie header value: what a browser sends back in Cookie. */
export function cookiePair(setCookie: string): string {
  return Fn.select(0, Fn.split(';', setCookie));
}

/** How long a probe waits for the fleet behind the load balancer to answer (instances boot, then pass 2 health checks 15 s apart). */
const SERVED_WITHIN = Duration.minutes(10);

/**
 * A probe in a stack under test: it waits until `url` answers GET /api/session
 * with 200 from the `color` fleet, then logs in as `user` (POST /api/login), so
 * that the stack holds a session made at that point of its deploy. Its
 * `cookie` is the app's Set-Cookie, for assertions to present after the deploy.
 *
 * What it adds to the stack under test: integ-tests' provider functions and
 * the waiter's state machine, removed with the stack. integ-tests declares
 * them as plain CfnResources, which cdk-nag's rules (written against the L1
 * classes) do not inspect.
 */
export class SessionProbe {
  /** The Set-Cookie header value of the login's response: the app's session cookie (the only cookie set when stickiness is off). */
  public readonly setCookie: string;
  /** The session's creation time, as the app reported it at login: the same session answers with the same `createdAt`. */
  public readonly createdAt: string;
  /** The login call; make what must come after the session depend on it. */
  public readonly login: IApiCall;

  constructor(scope: Stack, id: string, props: { readonly url: string; readonly color: string; readonly user: string; readonly after: IConstruct[] }) {
    const served = new HttpApiCall(scope, `${id}Served`, { url: `${props.url}/api/session` });
    served.expect(ExpectedResult.objectLike({ status: 200, body: { color: props.color } }));
    served.waitForAssertions({ totalTimeout: SERVED_WITHIN, interval: Duration.seconds(15), backoffRate: 1 });
    served.node.addDependency(...props.after);
    this.login = served.next(new HttpApiCall(scope, `${id}Login`, {
      url: `${props.url}/api/login`,
      fetchOptions: { method: 'POST', body: JSON.stringify({ user: props.user }), headers: { 'content-type': 'application/json' } },
    }));
    this.setCookie = this.login.getAttString('headers.set-cookie.0');
    this.createdAt = this.login.getAttString('body.createdAt');
    for (const call of [served, this.login]) {
      fixSalt(call);
    }
  }
}

/**
 * integ-tests salts every call with the time of synth so that it runs on every
 * deploy; in a stack under test that would change the committed snapshot at
 * every synth. Each integ run creates the stack anew, so a constant salt still
 * runs the probe once per run.
 */
function fixSalt(call: IApiCall): void {
  const resource = call.node.tryFindChild('Default') as CustomResource | undefined;
  (resource?.node.defaultChild as CfnResource | undefined)?.addPropertyOverride('salt', 'integ');
}

/**
 * The command line of `cdk-session-tier status`: which release to show
 * (the shifter's rule, found by its ARN, its listener or its stack), and how.
 * Pure: a usage error is thrown as {@link UsageError}, which main.ts turns
 * into exit code 2.
 */

/** A command line the command cannot run: exit code 2, with the usage. */
export class UsageError extends Error {
  public readonly name = 'UsageError';
}

/** Where the shifter's rule is. */
export type RuleLocator =
  | { readonly kind: 'rule'; readonly ruleArn: string }
  | { readonly kind: 'listener'; readonly listenerArn: string }
  | { readonly kind: 'stack'; readonly stackName: string; readonly logicalId?: string };

/** What `status` was asked. */
export interface StatusOptions {
  readonly locator: RuleLocator;
  /** The region; none: from the ARN given, else the SDK's (AWS_REGION, the profile). */
  readonly region?: string;
  /** Print once and exit. */
  readonly once: boolean;
  /** Seconds between two reads. */
  readonly intervalSeconds: number;
  /** One JSON object per line instead of text. */
  readonly json: boolean;
  /** The gate alarms, when not read from the stack. */
  readonly alarmNames: readonly string[];
  /** The healthy targets each step needs, when not read from the stack. */
  readonly minHealthyTargets?: number;
}

/** Seconds between reads by default: the shifter checks every `checkInterval` (30 s by default), a step shows within a third of that. */
export const DEFAULT_INTERVAL_SECONDS = 10;

export const USAGE = `Usage: cdk-session-tier status (--rule-arn ARN | --listener-arn ARN | --stack NAME [--logical-id ID]) [options]

Shows where a blue/green release of BlueGreenRouting stands: the plan and its progress,
the weights, the time to the next step, the bake, each gate with what it reads, the hook
and the test-traffic rules, and the outcome. On a terminal it refreshes in place until
the release ends; otherwise it prints a summary at each change and exits when it ends.

Which release:
  --rule-arn ARN       the shifter's weighted rule (the traffic shift's RuleArn attribute)
  --listener-arn ARN   the listener; finds the rule the shifter tagged on it
  --stack NAME         the stack; its Custom::BlueGreenTrafficShift's physical id is the rule,
                       and its properties give the gate alarms and the healthy targets needed
  --logical-id ID      which traffic shift, when the stack has several

Options:
  --region REGION      default: the ARN's region, else AWS_REGION or the profile's
  --alarm NAME         a gate alarm to show (repeat for each), without --stack
  --min-healthy N      healthy targets a step needs, without --stack
  --interval SECONDS   between reads (default ${DEFAULT_INTERVAL_SECONDS})
  --once               print once and exit
  --json               print JSON, one object per line
  -h, --help           this text

Exit codes: 3 the release was cut off by a failed gate (with --once too), 1 an AWS
call failed, 2 a usage error, else 0 (the release done, or --once).`;

const FLAGS_WITH_VALUE = ['--rule-arn', '--listener-arn', '--stack', '--logical-id', '--region', '--interval', '--alarm', '--min-healthy'] as const;
const SWITCHES = ['--once', '--json'] as const;

/** `-h`/`--help` was asked: print the usage, exit 0. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('-h') || argv.includes('--help');
}

/** Parses `status ...` (argv without node and the script); throws a {@link UsageError} naming what is wrong. */
export function parseArgs(argv: readonly string[]): StatusOptions {
  const [command, ...rest] = argv;
  if (command !== 'status') {
    throw new UsageError(command === undefined ? 'no command given; the command is status' : `unknown command ${JSON.stringify(command)}; the command is status`);
  }
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = rest[i].startsWith('--') && rest[i].includes('=') ? [rest[i].slice(0, rest[i].indexOf('=')), rest[i].slice(rest[i].indexOf('=') + 1)] : [rest[i], undefined];
    if ((SWITCHES as readonly string[]).includes(flag) && inline === undefined) {
      switches.add(flag);
    } else if ((FLAGS_WITH_VALUE as readonly string[]).includes(flag)) {
      const value = inline ?? rest[++i];
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) {
        throw new UsageError(`${flag}: needs a value`);
      }
      values.set(flag, [...values.get(flag) ?? [], value]);
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(rest[i])}`);
    }
  }
  const one = (flag: string): string | undefined => {
    const given = values.get(flag);
    if (given && given.length > 1) {
      throw new UsageError(`${flag}: given ${given.length} times, once at most`);
    }
    return given?.[0];
  };
  const ruleArn = one('--rule-arn');
  const listenerArn = one('--listener-arn');
  const stackName = one('--stack');
  const logicalId = one('--logical-id');
  const given = [ruleArn && '--rule-arn', listenerArn && '--listener-arn', stackName && '--stack'].filter(Boolean);
  if (given.length !== 1) {
    throw new UsageError(given.length === 0 ? 'which release: give --rule-arn, --listener-arn or --stack' : `which release: give one of ${given.join(', ')}, not several`);
  }
  if (logicalId !== undefined && !stackName) {
    throw new UsageError('--logical-id: only with --stack');
  }
  if (ruleArn !== undefined && !/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\//.test(ruleArn)) {
    throw new UsageError(`--rule-arn: must be an ELBv2 listener rule ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener-rule/...), got ${JSON.stringify(ruleArn)}`);
  }
  if (listenerArn !== undefined && !/^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\//.test(listenerArn)) {
    throw new UsageError(`--listener-arn: must be an ELBv2 listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:listener/...), got ${JSON.stringify(listenerArn)}`);
  }
  const interval = one('--interval');
  const intervalSeconds = interval === undefined ? DEFAULT_INTERVAL_SECONDS : Number(interval);
  if (!Number.isFinite(intervalSeconds) || intervalSeconds < 1 || intervalSeconds > 3600) {
    throw new UsageError(`--interval: must be a number of seconds from 1 to 3600, got ${JSON.stringify(interval)}`);
  }
  const minHealthy = one('--min-healthy');
  if (minHealthy !== undefined && !/^\d{1,4}$/.test(minHealthy)) {
    throw new UsageError(`--min-healthy: must be a whole number, got ${JSON.stringify(minHealthy)}`);
  }
  const alarmNames = values.get('--alarm') ?? [];
  if (stackName && (alarmNames.length > 0 || minHealthy !== undefined)) {
    throw new UsageError('--alarm and --min-healthy: not with --stack, which reads them from the traffic shift\'s properties');
  }
  const region = one('--region');
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new UsageError(`--region: must be a region name such as eu-west-1, got ${JSON.stringify(region)}`);
  }
  const locator: RuleLocator = ruleArn ? { kind: 'rule', ruleArn } : listenerArn ? { kind: 'listener', listenerArn } : { kind: 'stack', stackName: stackName!, logicalId };
  return {
    locator,
    region: region ?? regionOf(ruleArn ?? listenerArn),
    once: switches.has('--once'),
    intervalSeconds,
    json: switches.has('--json'),
    alarmNames,
    minHealthyTargets: minHealthy === undefined ? undefined : Number(minHealthy),
  };
}

/** The region of an ARN (`arn:partition:service:region:account:...`). */
function regionOf(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}

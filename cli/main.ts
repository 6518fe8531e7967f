/**
 * `npx cdk-session-tier status ...`: where a blue/green release stands. The
 * package's `bin`, bundled with its SDK clients into dist/assets/cli/index.js
 * (lib/private/esbuild-bundle.ts, `CLI_BUNDLE`), so it runs from the
 * installed package with nothing but Node.js.
 */
import { FleetColorName } from '../lib/contract/app-env';
import { StatusOptions, USAGE, UsageError, parseArgs, wantsHelp } from './args';
import { AwsCallError, GateConfig, StatusReader } from './aws';
import { Snapshot, StatusView, changeKey, render, ruleGroups, viewOf } from './view';

/** Exit codes: see {@link USAGE}. */
export const EXIT = { DONE: 0, AWS_ERROR: 1, USAGE: 2, CUT_OFF: 3 } as const;

/** Where output goes: the process's, or a test's. */
export interface Terminal {
  readonly write: (text: string) => void;
  readonly error: (text: string) => void;
  /** Whether output is a terminal: refresh in place. */
  readonly isTty: boolean;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

/** The release's rule, and what to read each time. */
interface Target {
  readonly ruleArn: string;
  readonly gate: GateConfig;
  readonly stack?: { readonly stackName: string; readonly logicalId: string };
}

async function locate(reader: StatusReader, options: StatusOptions): Promise<Target> {
  const gate: GateConfig = { alarmNames: options.alarmNames, minHealthyTargets: options.minHealthyTargets, unresolved: [] };
  const l = options.locator;
  switch (l.kind) {
    case 'rule':
      return { ruleArn: l.ruleArn, gate };
    case 'listener':
      return { ruleArn: await reader.ruleOnListener(l.listenerArn), gate };
    case 'stack': {
      const shift = await reader.stackTrafficShift(l.stackName, l.logicalId);
      return { ruleArn: shift.ruleArn, gate: shift.gate, stack: { stackName: shift.stackName, logicalId: shift.logicalId } };
    }
  }
}

/** One read of everything the view shows. */
async function read(reader: StatusReader, target: Target, now: () => number): Promise<Snapshot> {
  const rule = await reader.rule(target.ruleArn);
  const tags = (await reader.tags([target.ruleArn])).get(target.ruleArn) ?? {};
  const { groups } = ruleGroups(rule, tags);
  const targets: Record<FleetColorName, Awaited<ReturnType<StatusReader['targets']>>> = { blue: [], green: [] };
  if (groups) {
    for (const color of ['blue', 'green'] as const) {
      targets[color] = await reader.targets(groups[color]);
    }
  }
  return {
    ruleArn: target.ruleArn,
    rule,
    tags,
    targets,
    alarms: await reader.alarms(target.gate.alarmNames),
    testRules: await reader.testRules(tags),
    gate: target.gate,
    stack: target.stack && { ...target.stack, resourceStatus: await reader.resourceStatus(target.stack.stackName, target.stack.logicalId) },
    now: now(),
  };
}

/** ANSI: cursor home, clear the screen. */
const CLEAR = '\x1b[H\x1b[2J';

/** Runs the command; resolves with the exit code. */
export async function run(argv: readonly string[], term: Terminal): Promise<number> {
  if (wantsHelp(argv)) {
    term.write(`${USAGE}\n`);
    return EXIT.DONE;
  }
  let options: StatusOptions;
  try {
    options = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      term.error(`cdk-session-tier: ${e.message}\n\n${USAGE}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }
  const reader = new StatusReader(options.region);
  try {
    const target = await locate(reader, options);
    let last: string | undefined;
    for (;;) {
      const view = viewOf(await read(reader, target, term.now));
      const text = options.json ? JSON.stringify(view) : render(view);
      if (options.once) {
        term.write(`${text}\n`);
      } else if (term.isTty && !options.json) {
        term.write(`${CLEAR}${text}\n${view.ended ? '' : `\nrefreshing every ${options.intervalSeconds} s; Ctrl-C to stop\n`}`);
      } else if (changeKey(view) !== last) {
        term.write(`${last !== undefined && !options.json ? '\n' : ''}${text}\n`);
        last = changeKey(view);
      }
      if (options.once || view.ended) {
        return exitCode(view);
      }
      await term.sleep(options.intervalSeconds * 1000);
    }
  } catch (e) {
    if (e instanceof AwsCallError) {
      term.error(`cdk-session-tier: ${e.message}\n`);
      return EXIT.AWS_ERROR;
    }
    // The SDK's own failures before any call (no region, no credentials) name themselves.
    term.error(`cdk-session-tier: ${(e as Error).name}: ${(e as Error).message}\n`);
    return EXIT.AWS_ERROR;
  } finally {
    reader.destroy();
  }
}

function exitCode(view: StatusView): number {
  return view.outcome === 'cut off' ? EXIT.CUT_OFF : EXIT.DONE;
}

if (require.main === module) {
  // The SDK warns on Node.js 20 that its later releases will need 22: this command ships the SDK it was built with, so the warning
  // says nothing to its user (@aws-sdk/core's emitWarningIfUnsupportedVersion reads this variable when a client is made).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  run(process.argv.slice(2), {
    write: (text) => process.stdout.write(text),
    error: (text) => process.stderr.write(text),
    isTty: process.stdout.isTTY === true,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => Date.now(),
  }).then((code) => {
    process.exitCode = code;
  }, (e: Error) => {
    process.stderr.write(`cdk-session-tier: ${e.stack ?? e.message}\n`);
    process.exitCode = 1;
  });
}

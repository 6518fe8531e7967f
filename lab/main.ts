/**
 * `npm run lab`: blue and green fleets of the real sample app behind HAProxy
 * on loopback, with their stores, the lab's ELBv2 endpoint and the real
 * traffic shifter (created targeting blue); prints the URL and stops
 * everything on Ctrl-C.
 *
 *   LAB_BLUE=memory LAB_GREEN=redis LAB_INSTANCES=2 LAB_STICKINESS=lb npm run lab
 *
 * `LAB_GREEN=none` runs blue alone (the only way to use `LAB_STICKINESS=app`,
 * as on AWS). While it runs, lines typed on stdin deploy a release through
 * the shifter (`deploy green canary:25:10`: CloudFormation's update, rolled
 * back if a gate fails), kill an instance (`kill green-1`), launch one or
 * terminate one as the Auto Scaling group would (`launch green`,
 * `terminate green-2`), or set a gate alarm (`alarm green-5xx ALARM`); the
 * targets' health states are printed as they change.
 */
import { createInterface } from 'readline';
import { Duration } from 'aws-cdk-lib/core';
import { FLEET_COLORS, FleetColorName, SESSION_STRATEGIES, SessionStrategyName } from '../lib/contract/app-env';
import { parsePlan } from '../lib/contract/traffic-shift';
import { Stickiness } from '../lib/stickiness';
import { Lab } from './lab';
import { describeRule, shiftRule } from './rollback';
import { LabTrafficShift } from './traffic-shift';

function strategy(name: string, fallback: SessionStrategyName): SessionStrategyName {
  const value = process.env[name] ?? fallback;
  if (!(SESSION_STRATEGIES as readonly string[]).includes(value)) {
    throw new Error(`${name}: must be one of ${SESSION_STRATEGIES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as SessionStrategyName;
}

function wholeNumber(name: string, fallback: number, min: number, max: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}: must be a whole number from ${min} to ${max}, got ${process.env[name]}`);
  }
  return value;
}

/** The fleets' stickiness, for an hour: `lb` (AWSALB), `app` (on the app's `sid` cookie) or `none`. */
function stickiness(): Stickiness {
  const value = process.env.LAB_STICKINESS ?? 'lb';
  switch (value) {
    case 'lb': return Stickiness.loadBalancerCookie(Duration.hours(1));
    case 'app': return Stickiness.applicationCookie('sid', Duration.hours(1));
    case 'none': return Stickiness.none();
    default: throw new Error(`LAB_STICKINESS: must be lb, app or none, got ${JSON.stringify(value)}`);
  }
}

async function main(): Promise<void> {
  const instances = wholeNumber('LAB_INSTANCES', 2, 1, 8);
  const fleetStickiness = stickiness();
  const blue = { strategy: strategy('LAB_BLUE', 'memory'), instances, stickiness: fleetStickiness };
  const green = process.env.LAB_GREEN === 'none' ? undefined : { strategy: strategy('LAB_GREEN', 'redis'), instances, stickiness: fleetStickiness };
  // Ctrl-C may come while the lab is still starting: then it stops as soon as it has started.
  let stopRequested = false;
  let stopNow: () => void = () => {
    stopRequested = true;
  };
  process.on('SIGINT', () => stopNow());
  process.on('SIGTERM', () => stopNow());

  const lab = await Lab.start({
    blue,
    green,
    // As BlueGreenRouting: AWSALBTG whenever there are two colors (an hour here, a day by default there).
    groupStickiness: green ? Stickiness.loadBalancerCookie(Duration.hours(1)) : Stickiness.none(),
  });
  const shifter = green ? await LabTrafficShift.start(lab) : undefined;
  const settings = { minHealthyTargets: instances, alarmNames: [] as string[] };
  if (shifter) {
    const created = await shifter.deploy({ target: 'blue', plan: { kind: 'all-at-once' }, ...settings });
    console.log(`traffic shift: ${created.status}; rule ${describeRule(shiftRule(lab))}`);
  }

  // The targets' health states, as DescribeTargetHealth reports them, printed when they change.
  let states = new Map<string, string>();
  const watch = setInterval(() => {
    lab.targetStates().then((now) => {
      for (const [name, state] of now) {
        if (states.get(name) !== state) {
          console.log(`target ${name}: ${state}`);
        }
      }
      states = now;
    }, () => undefined);
  }, 500);

  let stopping = false;
  stopNow = () => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log('\nstopping the lab...');
    clearInterval(watch);
    (shifter?.stop() ?? Promise.resolve()).then(() => lab.stop()).then(() => process.exit(0), (e: Error) => {
      console.error(e.message);
      process.exit(1);
    });
  };
  if (stopRequested) {
    stopNow();
    return;
  }

  console.log(`session lab: ${lab.url}`);
  for (const [name, app] of lab.apps) {
    const spec = name.startsWith('blue') ? blue : green!;
    console.log(`  ${name}: ${app.url} (${spec.strategy}, ${fleetStickiness})`);
  }
  console.log(`  files: ${lab.dir}`);
  console.log('type "deploy <color> [plan]", "kill <instance>", "launch <color>", "terminate <instance>" or "alarm <name> <OK|ALARM>" and Enter; Ctrl-C stops everything');

  const color = (word: string | undefined): FleetColorName => {
    if (!(FLEET_COLORS as readonly string[]).includes(word ?? '')) {
      throw new Error(`must name blue or green, got ${JSON.stringify(word)}`);
    }
    return word as FleetColorName;
  };
  const commands: Record<string, (words: string[]) => Promise<string>> = {
    deploy: async ([target, plan = 'all-at-once']) => {
      if (!shifter) {
        throw new Error('deploy: the lab runs blue alone, there is no traffic shift');
      }
      const operation = await shifter.deploy({ target: color(target), plan: parsePlan(plan), ...settings });
      return `deploy to ${target} (${plan}): ${operation.status}${operation.reason ? `: ${operation.reason}` : ''}; rule ${describeRule(shiftRule(lab))}`;
    },
    kill: async ([name]) => lab.kill(name ?? '').then(() => `killed ${name}`),
    launch: async ([c]) => lab.launch(color(c)).then((name) => `launched ${name}`),
    terminate: async ([name]) => lab.terminate(name ?? '').then(() => `terminated ${name}`),
    alarm: async ([name, state]) => {
      if (!name || !['OK', 'ALARM', 'INSUFFICIENT_DATA'].includes(state ?? '')) {
        throw new Error('alarm: give a name and OK, ALARM or INSUFFICIENT_DATA');
      }
      lab.endpoint!.setAlarm(name, state as 'OK');
      settings.alarmNames = [...new Set([...settings.alarmNames, name])];
      return `alarm ${name}: ${state} (a gate of the next deploy)`;
    },
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, ...words] = line.trim().split(/\s+/);
    const run = commands[command];
    const done = run ? run(words) : Promise.reject(new Error(`unknown command ${JSON.stringify(command)}; try deploy, kill, launch, terminate or alarm`));
    done.then(console.log, (e: Error) => console.log(e.message));
  });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

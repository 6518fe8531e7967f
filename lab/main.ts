/**
 * `npm run lab`: blue and green fleets of the real sample app behind HAProxy
 * on loopback, with their stores; prints the URL and stops everything on Ctrl-C.
 *
 *   LAB_BLUE=memory LAB_GREEN=redis LAB_INSTANCES=2 LAB_GREEN_WEIGHT=0 LAB_STICKINESS=lb npm run lab
 *
 * `LAB_GREEN=none` runs blue alone (the only way to use `LAB_STICKINESS=app`,
 * as on AWS). While it runs, lines typed on stdin change the weights through
 * HAProxy's runtime API (`<blue> <green>`, e.g. `50 50`), cut a color off the
 * rule as the traffic shifter does on a failed gate (`cut green`), or kill an
 * instance (`kill blue-1`); the health checks' verdicts are printed as they change.
 */
import { createInterface } from 'readline';
import { Duration } from 'aws-cdk-lib/core';
import { FLEET_COLORS, FleetColorName, SESSION_STRATEGIES, SessionStrategyName } from '../lib/contract/app-env';
import { cutOff, formatState } from '../lambda/traffic-shifter/plan';
import { Stickiness } from '../lib/stickiness';
import { Lab } from './lab';

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
  const greenWeight = wholeNumber('LAB_GREEN_WEIGHT', 0, 0, 100);
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
    weights: { blue: 100 - greenWeight, green: greenWeight },
  });

  // The health checks' verdicts, read through the runtime API, printed when they change.
  let states: Record<string, string> = {};
  const watch = setInterval(() => {
    lab.haproxy!.serverStates().then((now) => {
      for (const [name, state] of Object.entries(now)) {
        if (states[name] !== undefined && states[name] !== state) {
          console.log(`haproxy: ${name} is ${state}`);
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
    lab.stop().then(() => process.exit(0), (e: Error) => {
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
  console.log('type "<blue weight> <green weight>" (0 to 999), "cut <color>" or "kill <instance>" and Enter; Ctrl-C stops everything');

  createInterface({ input: process.stdin }).on('line', (line) => {
    const words = line.trim().split(/\s+/);
    const cut = async (color: string) => {
      if (!(FLEET_COLORS as readonly string[]).includes(color)) {
        throw new Error(`cut: must name blue or green, got ${JSON.stringify(color)}`);
      }
      await lab.setRule(cutOff(color as FleetColorName));
      return `rule: ${formatState(lab.rule)} (${color} cut off, no group stickiness; type weights to put both colors back)`;
    };
    const done = words[0] === 'kill'
      ? lab.kill(words[1] ?? '').then(() => `killed ${words[1]}`)
      : words[0] === 'cut'
        ? cut(words[1] ?? '')
        : lab.setWeights(Number(words[0]), Number(words[1])).then(() => `weights: blue ${words[0]}, green ${words[1]}`);
    done.then(console.log, (e: Error) => console.log(e.message));
  });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

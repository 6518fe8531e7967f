/**
 * `npm run lab`: blue and green fleets of the real sample app behind HAProxy
 * on loopback, with their stores; prints the URL and stops everything on Ctrl-C.
 *
 *   LAB_BLUE=memory LAB_GREEN=redis LAB_INSTANCES=2 LAB_GREEN_WEIGHT=0 npm run lab
 *
 * While it runs, a line typed on stdin (`<blue> <green>`, e.g. `50 50`)
 * changes the weights through HAProxy's runtime API.
 */
import { createInterface } from 'readline';
import { Duration } from 'aws-cdk-lib';
import { SESSION_STRATEGIES, SessionStrategyName } from '../lib/shared/app-env';
import { Stickiness } from '../lib/stickiness';
import { Lab } from './lab';

function strategy(name: string, fallback: SessionStrategyName): SessionStrategyName {
  const value = process.env[name] ?? fallback;
  if (!(SESSION_STRATEGIES as readonly string[]).includes(value)) {
    throw new Error(`${name}: must be one of ${SESSION_STRATEGIES.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as SessionStrategyName;
}

async function main(): Promise<void> {
  const instances = Number(process.env.LAB_INSTANCES ?? 2);
  if (!Number.isInteger(instances) || instances < 1 || instances > 8) {
    throw new Error(`LAB_INSTANCES: must be a whole number from 1 to 8, got ${process.env.LAB_INSTANCES}`);
  }
  const stickiness = Stickiness.loadBalancerCookie(Duration.hours(1));
  const greenWeight = Number(process.env.LAB_GREEN_WEIGHT ?? 0);
  const lab = await Lab.start({
    blue: { strategy: strategy('LAB_BLUE', 'memory'), instances, stickiness },
    green: { strategy: strategy('LAB_GREEN', 'redis'), instances, stickiness },
    groupStickiness: Stickiness.loadBalancerCookie(Duration.hours(1)),
    weights: { blue: 100 - Math.min(100, greenWeight), green: Math.min(100, greenWeight) },
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log('\nstopping the lab...');
    await lab.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  console.log(`session lab: ${lab.url}  (instances: ${[...lab.apps.keys()].join(', ')})`);
  console.log('type "<blue weight> <green weight>" (0 to 999) and Enter to shift traffic; Ctrl-C stops everything');
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [blue, green] = line.trim().split(/\s+/).map(Number);
    lab.setWeights(blue, green).then(() => console.log(`weights: blue ${blue}, green ${green}`), (e: Error) => console.log(e.message));
  });
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

/**
 * `npx tsx lab/session-ids.ts`: what signing session ids costs and what it
 * saves, the figures behind SESSION_ID_KEYS in sample-app/README.md.
 *
 * 1. The MAC's CPU per request: `SessionIds.check` (every request with a
 *    session) and `issue` (every new session), with a key and without, the
 *    median of 5 runs of 200,000 calls each.
 * 2. Primary reads for N forged ids sent to the `database` strategy without
 *    the cache, with a PostgreSQL primary and a streaming replica started
 *    here: without keys (the replica's "absent" is believed, so no primary
 *    read, but a session a lagging replica has not replayed yet is lost),
 *    reading every absent id through to the primary without a MAC (nothing
 *    then bounds what forged ids cost the primary), and with keys (forged
 *    ids refused before any read).
 *
 *   LAB_FORGED=200 npx tsx lab/session-ids.ts
 */
import { startCounterApp } from '../local/counter-app';
import { PostgresCluster } from '../local/postgres';
import { ID_KEY, SECRET_A } from '../local/secrets';
import { DatabaseStore } from '../sample-app/src/sessions/database/store';
import { IdCheck, SessionIds } from '../sample-app/src/sessions/session-id';

const CALLS = 200_000;
const RUNS = 5;
const FORGED = Number(process.env.LAB_FORGED ?? 200);

/** Median µs per call of `fn` over {@link RUNS} runs of {@link CALLS} calls. */
function microseconds(fn: () => unknown): number {
  const runs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < CALLS; i++) {
      fn();
    }
    runs.push(Number(process.hrtime.bigint() - started) / 1000 / CALLS);
  }
  return runs.sort((a, b) => a - b)[Math.floor(RUNS / 2)];
}

/** Read-through without a MAC: every well-formed id counts as issued, so every one the replica does not know costs a primary read. */
class EveryIdIssued extends SessionIds {
  public override check(id: string): IdCheck {
    return super.check(id) === 'rejected' ? 'rejected' : 'issued';
  }
}

/** Sends `ids` as session cookies to an instance on `store` and returns the primary reads they cost. */
async function primaryReads(store: DatabaseStore, ids: SessionIds, forged: () => string): Promise<{ primary: number; replica: number; rejected: number }> {
  const app = await startCounterApp(store, ids);
  const before = { ...store.reads };
  try {
    for (let i = 0; i < FORGED; i++) {
      const res = await fetch(`${app.url}/counter`, { method: 'POST', headers: { cookie: `sid=${forged()}` } });
      if (res.status !== 200) {
        throw new Error(`a forged id got ${res.status}`);
      }
    }
  } finally {
    await app.close();
  }
  const replicaReads = (r: typeof before) => r.replica + r.staleReplica + r.absentOnReplica;
  return { primary: store.reads.primary - before.primary, replica: replicaReads(store.reads) - replicaReads(before), rejected: app.metrics.rejected };
}

async function main(): Promise<void> {
  const keyed = new SessionIds([ID_KEY]);
  const rotating = new SessionIds([SECRET_A, ID_KEY]);
  const unkeyed = new SessionIds([]);
  const signed = keyed.issue();
  const unsigned = unkeyed.issue();
  const cost = {
    'check, signed id, one key': microseconds(() => keyed.check(signed)),
    'check, id signed by the second of two keys': microseconds(() => rotating.check(signed)),
    'check, unsigned id': microseconds(() => keyed.check(unsigned)),
    'issue, with a key': microseconds(() => keyed.issue()),
    'issue, without keys': microseconds(() => unkeyed.issue()),
  };
  console.log('| call | µs |');
  console.log('|---|---:|');
  for (const [call, us] of Object.entries(cost)) {
    console.log(`| ${call} | ${us.toFixed(2)} |`);
  }

  const cluster = await PostgresCluster.start();
  const store = await DatabaseStore.open({ ...cluster.storeOptions, sweepIntervalSeconds: 0 });
  try {
    const forger = new SessionIds(['f'.repeat(40)]);
    const rows = [
      ['no keys (as before): random 22-character ids', await primaryReads(store, unkeyed, () => unkeyed.issue())],
      ['absent ids read through to the primary, no MAC: random 22-character ids', await primaryReads(store, new EveryIdIssued([]), () => unkeyed.issue())],
      ['SESSION_ID_KEYS: ids signed under another key', await primaryReads(store, keyed, () => forger.issue())],
      ['SESSION_ID_KEYS: random 22-character ids (the unsigned shape)', await primaryReads(store, keyed, () => unkeyed.issue())],
    ] as const;
    console.log(`\n| ${FORGED} forged ids | primary reads | replica reads | refused before any read |`);
    console.log('|---|---:|---:|---:|');
    for (const [what, r] of rows) {
      console.log(`| ${what} | ${r.primary} | ${r.replica} | ${r.rejected} |`);
    }
  } finally {
    await store.close();
    await cluster.destroy();
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  process.exit(1);
});

/**
 * The lab's store drills, under load: failovers as ElastiCache and RDS
 * Multi-AZ make them, an Availability Zone lost, and stores that hang. Each
 * counts the requests that failed, the acknowledged saves that went missing
 * (by each user's counter), and the time until every instance serves again.
 */
import { closeSync, constants, linkSync, lstatSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'fs';
import { execFileSync } from 'child_process';
import { setTimeout as sleep } from 'timers/promises';
import { join } from 'path';
import pg from 'pg';
import { Client } from '../local/http-client';
import { SessionStrategyName } from '../lib/contract/app-env';
import { SESSIONS_TABLE } from '../lib/contract/sessions-table';
import { DEFAULT_CALL_TIMEOUT_MS } from '../sample-app/src/sessions/file';
import { Stickiness } from '../lib/stickiness';
import { Lab } from './lab';
import { HUNG_MS, LB_DAY, ScenarioResult, ScenarioSize, VirtualUser, describeStickiness, keepClicking, result, rounds } from './scenarios';

/** What a drill measured. */
export interface DrillResult extends ScenarioResult {
  /** From the failover's start, or from the store answering again, until every instance saved a new session. */
  readonly recoveredAfterMs: number;
  /** Saves acknowledged and missing afterwards, all users. */
  readonly lostSaves: number;
  /** Of those, the ones acknowledged before the replica was known to have everything: more than asynchronous replication loses. */
  readonly lostBeyondReplication: number;
  /** The slowest answer, in ms. */
  readonly slowestMs: number;
  /** Requests without an answer within {@link HUNG_MS}. */
  readonly hung: number;
}


/** Instances per color in the drills: enough that "every instance" means something. */
const INSTANCES = 3;


/**
 * Asks each app process directly, with a new session each time, until each
 * has saved one: the longest wait since `since`, and how many of these
 * probes failed (they are requests as any user's, and often the first to
 * meet a broken connection).
 */
async function untilEveryInstanceServes(lab: Lab, since: number, timeoutMs = 30_000): Promise<{ ms: number; failed: number }> {
  let failed = 0;
  const waits = await Promise.all([...lab.apps].map(async ([name, app]) => {
    while (Date.now() - since < timeoutMs) {
      const res = await new Client(app.url).request('POST', '/api/counter', { timeoutMs: HUNG_MS }).catch(() => undefined);
      if (res?.status === 200) {
        return Date.now() - since;
      }
      failed++;
      await sleep(20);
    }
    throw new Error(`${name} did not save a new session within ${timeoutMs} ms`);
  }));
  return { ms: Math.max(...waits), failed };
}

/**
 * Runs users against the lab, breaks the store under load with `fault`, and
 * measures. `fault` resolves with when every acknowledged save was known to
 * be on the replica (failovers) and the moment recovery is counted from.
 */
async function underLoad(lab: Lab, scenario: ScenarioResult['scenario'], setup: string, size: ScenarioSize,
  fault: () => Promise<{ syncedAt: number; recoverFrom: number; what: string }>): Promise<DrillResult> {
  const tally = new Map<string, number>();
  const users = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
  await rounds(users, Math.ceil(size.rounds / 2), tally);
  const { stop } = keepClicking(users, tally);
  let measured: { syncedAt: number; recoverFrom: number; what: string; recoveredAfterMs: number; probesFailed: number };
  try {
    const f = await fault();
    const served = await untilEveryInstanceServes(lab, f.recoverFrom);
    measured = { ...f, recoveredAfterMs: served.ms, probesFailed: served.failed };
  } finally {
    await stop();
  }
  // Everyone clicks on, so that each session is seen kept or lost.
  await rounds(users, Math.ceil(size.rounds / 2), tally);
  const lostSaves = users.reduce((a, u) => a + u.lostSaves, 0);
  const beyond = users.filter((u) => u.earliestLostAck < measured.syncedAt).reduce((a, u) => a + u.lostSaves, 0);
  const slowestMs = Math.max(...users.map((u) => u.slowestMs));
  const hung = users.reduce((a, u) => a + u.hung, 0);
  const lossNote = scenario.endsWith('failover')
    ? `; ${lostSaves} acknowledged saves lost, ${beyond} of them before the replica was known to have them (beyond what asynchronous replication loses)`
    : `; ${lostSaves} acknowledged saves lost`;
  const measuredResult = result(scenario, setup, users, tally,
    `every instance served again ${measured.recoveredAfterMs} ms after ${measured.what}${lossNote}; slowest answer ${slowestMs} ms, `
    + `${hung} without an answer after ${HUNG_MS / 1000} s; ${measured.probesFailed} of the failed requests were the probes' (a new session on each instance until it saves)`);
  return {
    ...measuredResult,
    errors: measuredResult.errors + measured.probesFailed,
    recoveredAfterMs: measured.recoveredAfterMs,
    lostSaves,
    lostBeyondReplication: beyond,
    slowestMs,
    hung,
  };
}

/** Runs `body` on a lab of one color of {@link INSTANCES} processes without stickiness (every request may land anywhere), then stops it. */
async function withLab<T>(strategy: SessionStrategyName, options: Omit<Parameters<typeof Lab.start>[0], 'blue'>, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.start({ blue: { strategy, instances: INSTANCES, stickiness: Stickiness.none() }, ...options });
  try {
    return await body(lab);
  } finally {
    await lab.stop();
  }
}

/**
 * The cache fails over as ElastiCache Multi-AZ does it: the replica is
 * promoted, the old primary becomes its replica (and answers READONLY on the
 * connections still open to it), and the primary endpoint moves.
 */
export function cacheFailover(strategy: 'redis' | 'database', size: ScenarioSize): Promise<DrillResult> {
  const setup = `${strategy === 'redis' ? 'redis' : 'database (PostgreSQL) with its cache'}, Redis primary and replica`;
  return withLab(strategy, { redisReplica: true }, (lab) => underLoad(lab, 'cache failover', setup, size, async () => {
    const syncedAt = Date.now();
    await lab.redis!.replicatedTo(lab.redisReplica!);
    const began = Date.now();
    await lab.failOverCache();
    return { syncedAt, recoverFrom: began, what: 'the failover began' };
  }));
}

/** The database fails over as RDS Multi-AZ does it: the primary stops, the replica is promoted, the writer endpoint moves. */
export function databaseFailover(engine: 'postgres' | 'mysql', size: ScenarioSize): Promise<DrillResult> {
  const setup = `database (${engine === 'postgres' ? 'PostgreSQL' : 'MariaDB'}) with its cache, primary and replica`;
  return withLab('database', { database: { engine } }, (lab) => underLoad(lab, 'database failover', setup, size, async () => {
    const syncedAt = Date.now();
    await (lab.postgres ?? lab.mariadb)!.caughtUp();
    const began = Date.now();
    await lab.failOverDatabase();
    return { syncedAt, recoverFrom: began, what: 'the failover began' };
  }));
}

/** What hangs in {@link storeHangs}. */
export type Hang = 'redis' | 'database' | 'database lock' | 'file';

/**
 * The store stops answering for `holdMs` under load, its connections left
 * open: Redis or the PostgreSQL primary stopped (SIGSTOP of every process),
 * the sessions table locked by another session, or the file store's session
 * files turned into FIFOs, whose open() blocks as a hung NFS mount's does.
 */
export function storeHangs(hang: Hang, size: ScenarioSize, holdMs = 3000): Promise<DrillResult> {
  const strategy: SessionStrategyName = hang === 'file' ? 'file' : hang === 'redis' ? 'redis' : 'database';
  const what = {
    redis: 'Redis stopped (SIGSTOP)',
    database: 'PostgreSQL primary stopped (SIGSTOP)',
    'database lock': 'sessions table locked by another session',
    file: `session files block on open (FIFOs; the blocked calls let go ${DEFAULT_CALL_TIMEOUT_MS / 1000} s after the files are back)`,
  }[hang];
  const setup = `${strategy === 'database' ? 'database (PostgreSQL) with its cache' : strategy}, ${what} for ${holdMs / 1000} s`;
  return withLab(strategy, {}, (lab) => underLoad(lab, 'store hangs', setup, size, async () => {
    const heal = await hangStore(lab, hang);
    await sleep(holdMs);
    await heal();
    return { syncedAt: -Infinity, recoverFrom: Date.now(), what: 'the store answered again' };
  }));
}

/** Makes the store hang; resolves with what lets it go on. */
async function hangStore(lab: Lab, hang: Hang): Promise<() => Promise<void>> {
  switch (hang) {
    case 'redis':
      lab.redis!.pause();
      return async () => lab.redis!.resume();
    case 'database':
      lab.postgres!.primary.pause();
      return async () => lab.postgres!.primary.resume();
    case 'database lock': {
      const holder = new pg.Client({ host: '127.0.0.1', port: lab.postgres!.primary.port, user: 'postgres', database: lab.postgres!.database });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${SESSIONS_TABLE} IN ACCESS EXCLUSIVE MODE`);
      return async () => {
        await holder.query('COMMIT');
        await holder.end();
      };
    }
    case 'file':
      return hangFiles(lab.fileDir, lab.dir);
  }
}

/**
 * Turns every session file in `dir` into a FIFO, whose open() blocks until a
 * writer comes, as every call on a hung NFS mount blocks; resolves with what
 * puts the files back. Each swap is made under the session's own lock file
 * and by one rename, so that the app never finds a session missing, nor
 * saves one in between, because of the drill itself.
 */
async function hangFiles(dir: string, scratch: string): Promise<() => Promise<void>> {
  const ids = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));
  const path = (id: string, suffix: string) => join(dir, `${id}${suffix}`);
  /**
   * Runs `swap` holding the session's lock, waiting up to a second for it;
   * without it (`force`: a request whose clean-up waits behind the hang may
   * hold it, and then no save of it can run either) or returns false.
   */
  const underLock = async (id: string, swap: () => void, force: boolean) => {
    let locked = false;
    for (let tries = 0; tries < 100 && !locked; tries++) {
      try {
        writeFileSync(path(id, '.lock'), 'lab', { flag: 'wx' });
        locked = true;
      } catch {
        await sleep(10);
      }
    }
    if (!locked && !force) {
      return false;
    }
    try {
      swap();
    } finally {
      if (locked) {
        rmSync(path(id, '.lock'), { force: true });
      }
    }
    return true;
  };
  const hung: string[] = [];
  for (const id of ids) {
    const swapped = await underLock(id, () => {
      linkSync(path(id, '.json'), path(id, '.held'));
      execFileSync('mkfifo', [path(id, '.fifo')]);
      renameSync(path(id, '.fifo'), path(id, '.json'));
    }, false);
    if (swapped) {
      hung.push(id);
    }
  }
  return async () => {
    for (const id of hung) {
      // Kept by another name, to let its blocked callers go later.
      linkSync(path(id, '.json'), join(scratch, `${id}.fifo`));
      await underLock(id, () => {
        if (lstatSync(path(id, '.json')).isFIFO()) {
          renameSync(path(id, '.held'), path(id, '.json'));
        } else {
          rmSync(path(id, '.held'));
        }
      }, true);
    }
    // A FIFO lets a blocked open() go only to read nothing, which a mount that answers again never does: so the calls
    // blocked on one are let go only once past their deadline, when what they return is thrown away.
    await sleep(DEFAULT_CALL_TIMEOUT_MS + 100);
    for (const id of hung) {
      const fifo = join(scratch, `${id}.fifo`);
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: no one was blocked on it.
      }
      rmSync(fifo);
    }
  };
}

/** The zone drill's own figures. */
export interface ZoneResult extends ScenarioResult {
  /** Users whose last answer before the loss came from a killed instance. */
  readonly onKilledInstances: number;
  /** Users who lost their session though they were not on a killed instance. */
  readonly lostOnLiveInstances: number;
}

/**
 * An Availability Zone lost: both colors of 4 instances, two per zone,
 * sticky (load-balancer cookies, as the constructs default), new users split
 * 50/50; halfway, every instance in zone a (half of each color) is killed at
 * once, and users go on until HAProxy has taken them all out and once more.
 */
export async function zoneLost(strategy: SessionStrategyName, size: ScenarioSize): Promise<ZoneResult> {
  const setup = `${strategy} on both colors, ${describeStickiness(LB_DAY)}, 2 of 4 instances per color`;
  const lab = await Lab.start({
    blue: { strategy, instances: 4, stickiness: LB_DAY },
    green: { strategy, instances: 4, stickiness: LB_DAY },
    weights: { blue: 50, green: 50 },
  });
  try {
    const zoneA = ['blue-1', 'blue-2', 'green-1', 'green-2'];
    const tally = new Map<string, number>();
    const users = Array.from({ length: size.users }, () => new VirtualUser(lab.url));
    const onKilled = new Set<VirtualUser>();
    let down: Promise<number[]> | undefined;
    await rounds(users, size.rounds, tally, async (round) => {
      if (round === Math.floor(size.rounds / 2)) {
        users.filter((u) => zoneA.includes(u.instance ?? '')).forEach((u) => onKilled.add(u));
        const killedAt = Date.now();
        await Promise.all(zoneA.map((name) => lab.kill(name)));
        down = Promise.all(zoneA.map((name) => lab.waitUntilDown(name, killedAt)));
      }
    });
    const downAfterMs = Math.max(...await down!);
    await rounds(users, 1, tally);
    return {
      ...result('zone lost', setup, users, tally,
        `zone a (${zoneA.join(', ')}) killed at once; ${onKilled.size} users were on it; HAProxy took all four out after ${downAfterMs} ms`),
      onKilledInstances: onKilled.size,
      lostOnLiveInstances: users.filter((u) => u.lost > 0 && !onKilled.has(u)).length,
    };
  } finally {
    await lab.stop();
  }
}

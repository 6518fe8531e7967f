/**
 * The session lab: the real sample app, several processes per color, behind
 * HAProxy configured like the ALB, with the stores the strategies need, all on
 * loopback. Everything it starts it stops.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { DEFAULT_GROUP_STICKINESS } from '../lib/blue-green-routing/props';
import { Stickiness } from '../lib/stickiness';
import { APP_ENV, RedisSettings, SessionStrategyName, storeEnvironment } from '../lib/contract/app-env';
import { AppProcess, spawnApp } from '../local/app-process';
import { freePort } from '../local/ports';
import { MariadbCluster } from '../local/mariadb';
import { PostgresCluster } from '../local/postgres';
import { RedisServer } from '../local/redis-server';
import { TcpProxy } from '../local/tcp-proxy';
import { ID_KEY } from '../local/secrets';
import { startOrUndo } from '../local/start-or-undo';
import { RuleState } from '../lambda/traffic-shifter/plan';
import { Haproxy, LabServer, checkRule, checkStickiness } from './haproxy';

/** One color of the lab. */
export interface LabColor {
  readonly strategy: SessionStrategyName;
  /** App processes, 1 or more. */
  readonly instances: number;
  /** The color's target-group stickiness. */
  readonly stickiness: Stickiness;
  /** @default 'v1' for blue, 'v2' for green */
  readonly version?: string;
}

/** What the lab runs. */
export interface LabOptions {
  readonly blue: LabColor;
  readonly green?: LabColor;
  /**
   * Stickiness between the colors (`AWSALBTG`).
   * @default as `BlueGreenRouting`: DEFAULT_GROUP_STICKINESS (the load balancer's cookie for a day) with two colors, none with one
   */
  readonly groupStickiness?: Stickiness;
  /** Weights of new users' first choice, 0 to 999 each. @default all to blue */
  readonly weights?: { readonly blue: number; readonly green: number };
  /** Where users connect. @default a free port */
  readonly port?: number;
  /**
   * The Redis a replica of its own, which a failover promotes (as
   * ElastiCache Multi-AZ has one in another zone). @default false
   */
  readonly redisReplica?: boolean;
  /** For `database`: the engine, and whether the write-through cache is on. @default postgres, with the cache */
  readonly database?: { readonly engine?: 'postgres' | 'mysql'; readonly cache?: boolean };
}

/** A running lab. */
export class Lab {
  public static async start(options: LabOptions): Promise<Lab> {
    const dir = mkdtempSync(join(tmpdir(), 'session-lab-'));
    return startOrUndo(new Lab(dir, options), (lab) => lab.startAll(), (lab) => lab.stop());
  }

  /** The app processes by name (`blue-1`, `green-2`, ...). */
  public readonly apps = new Map<string, AppProcess>();
  /** The Redis primary (after a failover, the promoted replica). */
  public redis?: RedisServer;
  /** Its replica, with `redisReplica` (after a failover, the demoted old primary). */
  public redisReplica?: RedisServer;
  /** The cache's primary endpoint, as the apps reach it: it moves on a failover, as ElastiCache's DNS name does. */
  public redisEndpoint?: TcpProxy;
  public postgres?: PostgresCluster;
  public mariadb?: MariadbCluster;
  /** The database's writer endpoint, as the apps reach it: it moves on a failover, as the RDS instance's DNS name does. */
  public databaseEndpoint?: TcpProxy;
  public haproxy?: Haproxy;

  private constructor(
    /** The lab's own temporary directory: HAProxy's files, Redis's data, the `file` sessions; removed by {@link stop}. */
    public readonly dir: string,
    private readonly options: LabOptions,
  ) {}

  /** The `file` sessions' directory. */
  public get fileDir(): string {
    return join(this.dir, 'sessions');
  }

  /** Where users go. */
  public get url(): string {
    return this.haproxy!.url;
  }

  /** Changes the weights of first visits through HAProxy's runtime API (both colors in the rule, with group stickiness). */
  public setWeights(blue: number, green: number): Promise<void> {
    return this.setRule({ weights: { blue, green } });
  }

  /** Gives the listener rule this forward action, as the traffic shifter sets it (see `RuleState`), through HAProxy's runtime API. */
  public setRule(rule: RuleState): Promise<void> {
    return this.haproxy!.setRule(rule);
  }

  /** The rule's forward action as last set. */
  public get rule(): RuleState {
    return this.haproxy!.rule;
  }

  /** Kills an app process at once (SIGKILL), as an instance that fails. */
  public async kill(name: string): Promise<void> {
    const app = this.apps.get(name);
    if (!app) {
      throw new Error(`no instance ${name}; there are ${[...this.apps.keys()].join(', ')}`);
    }
    await app.stop('SIGKILL');
    this.apps.delete(name);
  }

  /**
   * Waits until HAProxy's health checks have taken the instance out (state
   * `DOWN`, read through the runtime API) and returns how long that took.
   */
  public async waitUntilDown(name: string, since = Date.now(), timeoutMs = 10_000): Promise<number> {
    while (Date.now() - since < timeoutMs) {
      if ((await this.haproxy!.serverStates())[name]?.startsWith('DOWN')) {
        return Date.now() - since;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`HAProxy did not mark ${name} DOWN within ${timeoutMs} ms`);
  }

  /** Stops everything it started and removes its files. */
  public async stop(): Promise<void> {
    await this.haproxy?.stop().catch(() => undefined);
    await Promise.all([...this.apps.values()].map((a) => a.stop().catch(() => undefined)));
    this.apps.clear();
    await this.redisEndpoint?.close().catch(() => undefined);
    await this.databaseEndpoint?.close().catch(() => undefined);
    await Promise.all([this.redis, this.redisReplica].map((r) => r?.kill().catch(() => undefined)));
    await this.postgres?.destroy().catch(() => undefined);
    await this.mariadb?.destroy().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startAll(): Promise<void> {
    const { blue, green } = this.options;
    const groupStickiness = this.options.groupStickiness ?? (green ? DEFAULT_GROUP_STICKINESS : Stickiness.none());
    const weights = this.options.weights ?? { blue: 1, green: 0 };
    // Refuse a setup AWS would refuse before anything starts.
    checkRule({ weights }, green !== undefined);
    checkStickiness(blue.stickiness, green?.stickiness, groupStickiness);
    const colors = green ? { blue, green } : { blue };
    const strategies = Object.values(colors).map((c) => c.strategy);
    await this.startStores(strategies);
    const fileDir = this.fileDir;
    const servers: Record<string, LabServer[]> = {};
    for (const [color, spec] of Object.entries(colors)) {
      // allSettled: every process that did start is in `apps` before a failure stops the lab.
      const started = await Promise.allSettled(Array.from({ length: spec.instances }, (_, i) => {
        const name = `${color}-${i + 1}`;
        return spawnApp({
          [APP_ENV.COLOR]: color,
          [APP_ENV.VERSION]: spec.version ?? (color === 'blue' ? 'v1' : 'v2'),
          [APP_ENV.INSTANCE_NAME]: name,
          // As the fleets have it: one key for every instance of both colors.
          [APP_ENV.ID_KEYS]: ID_KEY,
          ...this.storeEnvironment(spec.strategy, fileDir),
        }).then((app) => {
          this.apps.set(name, app);
          return { name, port: Number(new URL(app.url).port) };
        });
      }));
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) {
        throw failed.reason;
      }
      servers[color] = started.map((r) => (r as PromiseFulfilledResult<LabServer>).value);
    }
    this.haproxy = await Haproxy.start({
      port: this.options.port ?? await freePort(),
      dir: this.dir,
      blue: { servers: servers.blue, stickiness: blue.stickiness },
      green: green ? { servers: servers.green, stickiness: green.stickiness } : undefined,
      groupStickiness,
      rule: { weights },
    });
  }

  /** The stores the strategies need, each behind an endpoint of its own where AWS has a DNS name that moves. */
  private async startStores(strategies: readonly SessionStrategyName[]): Promise<void> {
    const database = strategies.includes('database') ? { engine: 'postgres', cache: true, ...this.options.database } : undefined;
    if (strategies.includes('redis') || database?.cache) {
      // Each its own data directory: their append-only files must not mix.
      const dataDir = (name: string) => {
        const path = join(this.dir, name);
        mkdirSync(path);
        return path;
      };
      this.redis = await RedisServer.start({ dataDir: dataDir('redis-a') });
      if (this.options.redisReplica) {
        this.redisReplica = await RedisServer.start({ dataDir: dataDir('redis-b') });
        await this.redisReplica.replicaOf(this.redis.port);
        await this.redisReplica.inSync();
      }
      this.redisEndpoint = await TcpProxy.start(this.redis.port);
    }
    if (database?.engine === 'mysql') {
      this.mariadb = await MariadbCluster.start();
      this.databaseEndpoint = await TcpProxy.start(this.mariadb.primary.port);
    } else if (database) {
      this.postgres = await PostgresCluster.start();
      this.databaseEndpoint = await TcpProxy.start(this.postgres.primary.port);
    }
  }

  /**
   * A cache failover as ElastiCache Multi-AZ makes it: the replica promoted,
   * the old primary made a replica of it (it answers READONLY to writes on
   * the connections still open to it), and the endpoint moved.
   */
  public async failOverCache(): Promise<void> {
    const [primary, replica] = [this.redis!, this.redisReplica!];
    await replica.replicaOf();
    await primary.replicaOf(replica.port);
    this.redisEndpoint!.moveTo(replica.port);
    [this.redis, this.redisReplica] = [replica, primary];
  }

  /**
   * A database failover as RDS Multi-AZ makes it: the primary stops, the
   * replica is promoted, and the writer endpoint moves to it. The replica
   * also served the reads, and goes on doing so.
   */
  public async failOverDatabase(): Promise<void> {
    const cluster = this.postgres ?? this.mariadb!;
    if (this.postgres) {
      await this.postgres.primary.stop('immediate');
    } else {
      await this.mariadb!.primary.kill();
    }
    await cluster.replica.promote();
    this.databaseEndpoint!.moveTo(cluster.replica.port);
  }

  /** The store's settings as the constructs write them on an instance (the contract's storeEnvironment), pointed at the lab's stores. */
  private storeEnvironment(strategy: SessionStrategyName, fileDir: string): Record<string, string> {
    const redis: RedisSettings | undefined = this.redisEndpoint ? { host: '127.0.0.1', port: String(this.redisEndpoint.port), tls: false } : undefined;
    switch (strategy) {
      case 'redis':
        return storeEnvironment({ strategy, redis: redis! });
      case 'file':
        return storeEnvironment({ strategy, directory: fileDir });
      case 'database': {
        const cluster = this.postgres ?? this.mariadb!;
        return {
          ...storeEnvironment({
            strategy,
            database: {
              engine: this.postgres ? 'postgres' : 'mysql',
              host: '127.0.0.1',
              port: String(this.databaseEndpoint!.port),
              name: cluster.database,
              replicas: [`127.0.0.1:${cluster.replica.port}`],
              tls: false,
            },
            cache: this.options.database?.cache !== false ? redis : undefined,
          }),
          // What the instances read from the database's secret at boot.
          [APP_ENV.DB_USER]: this.postgres ? 'postgres' : 'root',
        };
      }
      default:
        return storeEnvironment({ strategy });
    }
  }
}

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
import { APP_ENV, FLEET_COLORS, FleetColorName, RedisSettings, SessionStrategyName, storeEnvironment } from '../lib/contract/app-env';
import { AppProcess, spawnApp } from '../local/app-process';
import { freePort } from '../local/ports';
import { MariadbCluster } from '../local/mariadb';
import { PostgresCluster } from '../local/postgres';
import { RedisServer } from '../local/redis-server';
import { TcpProxy } from '../local/tcp-proxy';
import { ID_KEY } from '../local/secrets';
import { startOrUndo } from '../local/start-or-undo';
import { waitFor } from '../local/ports';
import { ContinuityAlarm, EmfCollector, LAB_CONTINUITY_PERIOD_MS } from './elb/cloudwatch';
import { ElbEndpoint } from './elb/endpoint';
import { DefaultForward, LoadBalancer } from './elb/load-balancer';
import { Haproxy, checkStickiness } from './haproxy';

/** One color of the lab. */
export interface LabColor {
  readonly strategy: SessionStrategyName;
  /** App processes at start; 0 for a fleet whose instances come later ({@link Lab.launch}). */
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
  /**
   * The listener's default action as a weighted forward to both colors (0 to
   * 999 each), with the group stickiness: for scenarios that need no traffic
   * shift. @default a forward to blue alone, as `BlueGreenRouting` sets it
   */
  readonly weights?: { readonly blue: number; readonly green: number };
  /** Health-check interval, in milliseconds. @default 500 */
  readonly checkIntervalMs?: number;
  /** A deregistered target's draining time. @default 1000 (AWS's default: 300 s) */
  readonly deregistrationDelayMs?: number;
  /** Where users connect. @default a free port */
  readonly port?: number;
  /**
   * The Redis a replica of its own, which a failover promotes (as
   * ElastiCache Multi-AZ has one in another zone). @default false
   */
  readonly redisReplica?: boolean;
  /** For `database`: the engine, and whether the write-through cache is on. @default postgres, with the cache */
  readonly database?: { readonly engine?: 'postgres' | 'mysql'; readonly cache?: boolean };
  /**
   * The apps publish their metrics in Embedded Metric Format every second to
   * the lab's CloudWatch agent ({@link Lab.metrics}), and the endpoint's
   * DescribeAlarms answers each color's session-continuity alarm evaluated on
   * them (`<color>SessionsLost`, {@link continuityAlarmName}). @default false
   */
  readonly metrics?: boolean;
}

/** The name of a color's session-continuity alarm on the lab's endpoint (the dashboard's construct id: `GreenSessionsLost`). */
export function continuityAlarmName(color: FleetColorName): string {
  return `${color[0].toUpperCase()}${color.slice(1)}SessionsLost`;
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
  /** The load balancer's API (ELBv2 and CloudWatch's DescribeAlarms), which HAProxy routes by. */
  public endpoint?: ElbEndpoint;
  /** With `metrics`: the CloudWatch agent the apps send their EMF to, and the lab's CloudWatch over it. */
  public metrics?: EmfCollector;
  /** The instances each color has started so far, for the next one's name. */
  private readonly started: Record<FleetColorName, number> = { blue: 0, green: 0 };
  /** The strategy each instance started with, by name (those stopped too). */
  public readonly strategies = new Map<string, SessionStrategyName>();
  /** Each color's fleet as its next instance starts (a rolling update changes it). */
  private readonly fleets: Partial<Record<FleetColorName, LabColor>> = {};

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

  /** The load balancer (its ARNs, its rules). */
  public get loadBalancer(): LoadBalancer {
    return this.endpoint!.loadBalancer;
  }

  /** Kills an app process at once (SIGKILL), as an instance that fails; it stays registered, and its health checks fail. */
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
    const slot = this.endpoint!.targets.slotOf(name);
    if (!slot) {
      throw new Error(`${name} is not registered`);
    }
    while (Date.now() - since < timeoutMs) {
      if ((await this.haproxy!.servers()).get(slot)?.status.startsWith('DOWN')) {
        return Date.now() - since;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`HAProxy did not mark ${name} DOWN within ${timeoutMs} ms`);
  }

  /**
   * Starts a new instance of a color's fleet, as its Auto Scaling group
   * launches one: the app with the fleet's settings (see {@link updateFleet}),
   * registered in the color's target group (`initial` until its health
   * checks pass). Resolves with its name once registered.
   */
  public async launch(color: FleetColorName): Promise<string> {
    const spec = this.fleets[color];
    if (!spec) {
      throw new Error(`the lab runs no ${color} fleet`);
    }
    await this.startStores([spec.strategy]);
    const name = `${color}-${++this.started[color]}`;
    const app = await spawnApp({
      [APP_ENV.COLOR]: color,
      [APP_ENV.VERSION]: spec.version ?? (color === 'blue' ? 'v1' : 'v2'),
      [APP_ENV.INSTANCE_NAME]: name,
      // As the fleets have it: one key for every instance of both colors.
      [APP_ENV.ID_KEYS]: ID_KEY,
      ...this.storeEnvironment(spec.strategy, this.fileDir),
      ...this.metrics ? {
        // As the fleets' user data has it, the agent on the instance; here one agent for every process, and a window a second.
        [APP_ENV.METRICS_INTERVAL]: '1',
        AWS_EMF_ENVIRONMENT: 'Agent',
        AWS_EMF_AGENT_ENDPOINT: this.metrics.endpoint,
        AWS_EMF_LOG_GROUP_NAME: `lab-${color}`,
        AWS_EMF_LOG_STREAM_NAME: name,
      } : {},
    });
    this.apps.set(name, app);
    this.strategies.set(name, spec.strategy);
    if (this.endpoint) {
      await this.endpoint.targets.register(color, name, Number(new URL(app.url).port));
    }
    return name;
  }

  /**
   * Ends an instance as its Auto Scaling group does: deregistered from its
   * target group, draining through the deregistration delay, then stopped.
   */
  public async terminate(name: string): Promise<void> {
    await this.endpoint!.targets.deregister(name);
    await this.apps.get(name)?.stop();
    this.apps.delete(name);
  }

  /** The settings of the color's next instances (a new launch template): strategy, version. */
  public updateFleet(color: FleetColorName, change: Partial<Pick<LabColor, 'strategy' | 'version'>>): void {
    const spec = this.fleets[color];
    if (!spec) {
      throw new Error(`the lab runs no ${color} fleet`);
    }
    this.fleets[color] = { ...spec, ...change };
  }

  /** The color's fleet as its next instance starts. */
  public fleet(color: FleetColorName): LabColor | undefined {
    return this.fleets[color];
  }

  /** The app processes of a color now running, by name. */
  public instancesOf(color: FleetColorName): string[] {
    return [...this.apps.keys()].filter((n) => n.startsWith(`${color}-`));
  }

  /** Waits until every named instance is `healthy` in its target group, as DescribeTargetHealth reports it. */
  public async untilHealthy(names: readonly string[], timeoutMs = 15_000): Promise<void> {
    await waitFor(`${names.join(', ')} healthy`, async () => {
      const states = await this.targetStates();
      return names.every((n) => states.get(n) === 'healthy');
    }, timeoutMs);
  }

  /** Each registered instance's health state, as DescribeTargetHealth reports it. */
  public async targetStates(): Promise<Map<string, string>> {
    const states = new Map<string, string>();
    for (const color of FLEET_COLORS.filter((c) => this.fleets[c])) {
      for (const d of await this.endpoint!.targets.describe(color)) {
        const name = this.endpoint!.targets.nameOf(d.Target!.Id!);
        if (name) {
          states.set(name, d.TargetHealth!.State!);
        }
      }
    }
    return states;
  }

  /** Stops everything it started and removes its files. */
  public async stop(): Promise<void> {
    await this.endpoint?.stop().catch(() => undefined);
    await this.metrics?.stop().catch(() => undefined);
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

  /** Target-group stickiness between the colors (AWSALBTG), as the routing has it. */
  public get groupStickiness(): Stickiness {
    return this.options.groupStickiness ?? (this.options.green ? DEFAULT_GROUP_STICKINESS : Stickiness.none());
  }

  private async startAll(): Promise<void> {
    const { blue, green } = this.options;
    const groupStickiness = this.groupStickiness;
    // Refuse a setup AWS would refuse before anything starts.
    checkStickiness(blue.stickiness, green?.stickiness, groupStickiness);
    const colors = green ? { blue, green } : { blue };
    Object.assign(this.fleets, colors);
    await this.startStores(Object.values(colors).map((c) => c.strategy));
    const sticky = groupStickiness.enabled ? groupStickiness.duration!.toSeconds() : 0;
    const weights = this.options.weights;
    const defaultAction: DefaultForward = weights
      ? { targets: [{ group: 'blue', weight: weights.blue }, ...green ? [{ group: 'green', weight: weights.green }] : []], stickySeconds: sticky }
      : { targets: [{ group: 'blue', weight: 1 }], stickySeconds: 0 };
    const loadBalancer = new LoadBalancer({ targetGroups: Object.keys(colors), defaultAction });
    this.haproxy = await Haproxy.start({
      port: this.options.port ?? await freePort(),
      dir: this.dir,
      // Room for a rolling replacement of every instance while the old ones drain.
      backends: Object.fromEntries(Object.entries(colors).map(([color, spec]) => [color, { slots: 2 * Math.max(2, spec.instances) + 2, stickiness: spec.stickiness }])),
      rules: loadBalancer.routing(),
      checkIntervalMs: this.options.checkIntervalMs,
    });
    this.endpoint = await ElbEndpoint.start(loadBalancer, this.haproxy, { deregistrationDelayMs: this.options.deregistrationDelayMs });
    if (this.options.metrics) {
      const metrics = await EmfCollector.start();
      this.metrics = metrics;
      for (const color of Object.keys(colors) as FleetColorName[]) {
        const alarm = new ContinuityAlarm(metrics, color, { periodMs: LAB_CONTINUITY_PERIOD_MS });
        this.endpoint.addEvaluatedAlarm(continuityAlarmName(color), () => alarm.read());
      }
    }
    // Two at a time: each app compiles its TypeScript as it starts, and eight at once on a busy machine can outlast their start deadline.
    const launches = (Object.entries(colors) as Array<[FleetColorName, LabColor]>).flatMap(([color, spec]) => Array.from({ length: spec.instances }, () => color));
    for (let i = 0; i < launches.length; i += 2) {
      // allSettled: every process that did start is in `apps` before a failure stops the lab.
      const launched = await Promise.allSettled(launches.slice(i, i + 2).map((color) => this.launch(color)));
      const failed = launched.find((r) => r.status === 'rejected');
      if (failed) {
        throw failed.reason;
      }
    }
    // As a first deploy ends once the instances have signalled and the checks passed: the groups in use serve at once.
    const used = [...this.apps.keys()].filter((n) => this.loadBalancer.usedTargetGroups().has(this.loadBalancer.groupArn(n.split('-')[0])));
    await this.untilHealthy(used);
  }

  /** The stores the strategies need, each behind an endpoint of its own where AWS has a DNS name that moves. */
  private async startStores(strategies: readonly SessionStrategyName[]): Promise<void> {
    const database = strategies.includes('database') && !this.postgres && !this.mariadb ? { engine: 'postgres', cache: true, ...this.options.database } : undefined;
    if ((strategies.includes('redis') || database?.cache) && !this.redis) {
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

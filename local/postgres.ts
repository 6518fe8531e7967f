/**
 * A PostgreSQL primary and a streaming replica of the tests' own, on free
 * loopback ports, from the installed binaries (initdb, pg_basebackup,
 * pg_ctl): a real replica whose replay can be paused to make it lag on
 * demand, and servers that can be stopped and started to show outages.
 *
 * The servers run as the `postgres` OS user (PostgreSQL refuses root), with
 * trust authentication on 127.0.0.1 only, in a temporary directory removed
 * by {@link PostgresCluster.destroy}. Started `rdsLike`, they sign in as RDS
 * does, with passwords, and the database belongs to a master user made like
 * RDS's ({@link RdsMaster}): what runs on RDS as the master runs here as it,
 * never as a superuser.
 */
import { execFile, execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import pg from 'pg';
import { freePort, waitFor } from './ports';
import { signalTree } from './signals';
import { startOrUndo } from './start-or-undo';

const run = promisify(execFile);

/** Where the PostgreSQL binaries live: the Debian package's directory, else the PATH. */
function binary(name: string): string {
  for (const version of ['17', '16', '15']) {
    const path = `/usr/lib/postgresql/${version}/bin/${name}`;
    if (existsSync(path)) {
      return path;
    }
  }
  return name;
}

/** Where one server of a cluster listens, and the certificate it presents when it speaks TLS. */
export interface PostgresListen {
  /** A loopback address. @default '127.0.0.1' */
  readonly host?: string;
  /** @default a free port */
  readonly port?: number;
  /** TLS (`ssl=on`) with this certificate and key, as RDS requires it. @default no TLS */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** How a {@link PostgresCluster} is set up. */
export interface PostgresClusterOptions {
  /** The database created (and replicated). @default 'sessions' */
  readonly database?: string;
  readonly primary?: PostgresListen;
  readonly replica?: PostgresListen;
  /**
   * Sign-in and ownership as on RDS: every role but `postgres` signs in with
   * a SCRAM password (`postgres`, with trust, stands for RDS's own
   * `rdsadmin`, which no user gets), and the database is created by, and
   * owned by, an {@link RdsMaster} ({@link PostgresCluster.master}).
   * @default false: trust for every role, the database owned by `postgres`
   */
  readonly rdsLike?: boolean;
}

/** A role's sign-in: a user name and its password. */
export interface PostgresLogin {
  readonly user: string;
  readonly password: string;
}

/**
 * The RDS master user, modelled as far as PostgreSQL lets us: RDS documents it
 * as `CREATE ROLE postgres WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE
 * NOREPLICATION VALID UNTIL 'infinity'`, granted `rds_superuser`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html).
 * `rds_superuser` is a group role here too, holding the predefined roles that
 * give what RDS lists for it: seeing every connection in pg_stat_activity and
 * pg_stat_replication (pg_read_all_stats), cancelling and ending them
 * (pg_signal_backend), CHECKPOINT (pg_checkpoint). What RDS adds inside its
 * own build (installing its extensions, granting rds_replication and
 * rds_password) has no equivalent to model. Not a superuser: a statement that
 * needs one (naming SUPERUSER or REPLICATION in ALTER ROLE, reading
 * pg_authid) fails here as it fails on RDS.
 */
export class RdsMaster implements PostgresLogin {
  /** The group role RDS grants its master. */
  public static readonly GROUP = 'rds_superuser';

  /** Creates `rds_superuser` (once per cluster) and a master in it, named `user`, with a random password. */
  public static async create(server: PostgresServer, user = 'sessions_admin'): Promise<RdsMaster> {
    const master = new RdsMaster(server, user, randomBytes(18).toString('base64url'));
    await server.query(`DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${RdsMaster.GROUP}') THEN
    CREATE ROLE ${RdsMaster.GROUP} NOLOGIN;
    GRANT pg_read_all_stats, pg_signal_backend, pg_checkpoint TO ${RdsMaster.GROUP};
  END IF;
END $$`);
    await server.query(`CREATE ROLE "${user}" WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE NOREPLICATION VALID UNTIL 'infinity' PASSWORD '${master.password}' IN ROLE ${RdsMaster.GROUP}`);
    return master;
  }

  private constructor(public readonly server: PostgresServer, public readonly user: string, public readonly password: string) {}

  /** Runs one statement as the master, with a connection of its own. */
  public async query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
    return queryOnce<T>({ host: this.server.host, port: this.server.port, user: this.user, password: this.password, database }, sql, params);
  }

  /** Creates `database` as the master, which owns it, as RDS's master owns the database RDS creates for it. */
  public async createDatabase(database: string): Promise<void> {
    await this.query(`CREATE DATABASE "${database}"`);
  }
}

/** One server of the cluster. */
export class PostgresServer {
  constructor(public readonly port: number, private readonly dataDir: string, public readonly host = '127.0.0.1') {}

  /** Starts it and waits until it takes connections. */
  public async start(): Promise<void> {
    await asPostgres(binary('pg_ctl'), ['-D', this.dataDir, '-l', `${this.dataDir}.log`, '-w', '-t', '30', 'start']);
    await waitFor(`PostgreSQL on ${this.port}`, async () => {
      await this.query('SELECT 1');
      return true;
    });
  }

  /** Stops it at once (`immediate`: like a crash, no checkpoint). */
  public async stop(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    await asPostgres(binary('pg_ctl'), ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']).catch(() => undefined);
  }

  /** Promotes this replica to a primary (`pg_ctl promote`), as RDS does with the standby in a failover; waits until it takes writes. */
  public async promote(): Promise<void> {
    await asPostgres(binary('pg_ctl'), ['-D', this.dataDir, '-w', '-t', '30', 'promote']);
    await waitFor(`PostgreSQL on ${this.port} to leave recovery`, async () => (await this.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r'))[0].r === false);
  }

  /** Stops every process of the server (SIGSTOP): connections stay open and nothing answers, as a hung host looks. */
  public pause(): void {
    signalTree(this.pid(), 'SIGSTOP');
  }

  /** Lets a paused server go on (SIGCONT). */
  public resume(): void {
    signalTree(this.pid(), 'SIGCONT');
  }

  /** The postmaster's process id. */
  private pid(): number {
    return Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** Runs one statement as `postgres` (a superuser), with a connection of its own. */
  public async query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
    return queryOnce<T>({ host: this.host, port: this.port, user: 'postgres', database }, sql, params);
  }

  /** What the server has written to its log so far (statements, when `log_statement` asks; failed statements, by default). */
  public log(): string {
    return readFileSync(`${this.dataDir}.log`, 'utf8');
  }
}

/** Runs one statement on a connection of its own, closed after. */
async function queryOnce<T extends pg.QueryResultRow>(config: pg.ClientConfig, sql: string, params: unknown[]): Promise<T[]> {
  const client = new pg.Client({ ...config, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/** A primary and a streaming replica. */
export class PostgresCluster {
  /** Creates both, starts both, and creates `database` (replicated to the replica). */
  public static async start(options: string | PostgresClusterOptions = {}): Promise<PostgresCluster> {
    const o: PostgresClusterOptions = typeof options === 'string' ? { database: options } : options;
    const dir = mkdtempSync(join(tmpdir(), 'pg-cluster-'));
    chownSync(dir, uid('postgres'), gid('postgres'));
    const cluster = new PostgresCluster(dir, o.database ?? 'sessions', o, o.primary?.port ?? await freePort(), o.replica?.port ?? await freePort());
    return startOrUndo(cluster, (c) => c.create(), (c) => c.destroy());
  }

  public readonly primary: PostgresServer;
  public readonly replica: PostgresServer;
  private rdsMaster: RdsMaster | undefined;

  private constructor(private readonly dir: string, public readonly database: string, private readonly options: PostgresClusterOptions, primaryPort: number, replicaPort: number) {
    this.primary = new PostgresServer(primaryPort, join(dir, 'primary'), options.primary?.host);
    this.replica = new PostgresServer(replicaPort, join(dir, 'replica'), options.replica?.host);
  }

  /** The master user, which created and owns the database; only for a cluster started `rdsLike`. */
  public get master(): RdsMaster {
    if (!this.rdsMaster) {
      throw new Error('PostgresCluster: no master user; start the cluster with rdsLike: true');
    }
    return this.rdsMaster;
  }

  /** How the database store reaches this cluster: writes to the primary, reads from the replica. */
  public get storeOptions() {
    return {
      engine: 'postgres' as const,
      primary: { host: this.primary.host, port: this.primary.port },
      replicas: [{ host: this.replica.host, port: this.replica.port }],
      database: this.database,
      user: 'postgres',
      tls: false,
    };
  }

  /**
   * Runs `body` while the replica lags: its replay paused (it keeps receiving
   * WAL but shows older data), then resumed and caught up, whatever `body` did.
   */
  public async whileReplayPaused(body: () => Promise<void>): Promise<void> {
    await this.pauseReplay();
    try {
      await body();
    } finally {
      await this.resumeReplay();
    }
  }

  /** Stops the replica's replay: it keeps receiving WAL but shows older data until resumed. */
  private async pauseReplay(): Promise<void> {
    await this.replica.query('SELECT pg_wal_replay_pause()');
  }

  /** Resumes replay and waits until the replica has replayed everything the primary wrote. */
  private async resumeReplay(): Promise<void> {
    await this.replica.query('SELECT pg_wal_replay_resume()');
    await this.caughtUp();
  }

  /** Waits until the replica has replayed all the WAL the primary has written so far. */
  public async caughtUp(timeoutMs = 15_000): Promise<void> {
    const [{ lsn }] = await this.primary.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn');
    await waitFor('the replica to catch up', async () => {
      // NULL until the replica has replayed anything: not caught up.
      const [{ done }] = await this.replica.query<{ done: boolean }>('SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS done', [lsn]);
      return done;
    }, timeoutMs);
  }

  /** Stops both servers and removes their files. */
  public async destroy(): Promise<void> {
    await Promise.all([this.replica.stop(), this.primary.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async create(): Promise<void> {
    const primaryDir = join(this.dir, 'primary');
    await asPostgres(binary('initdb'), ['-D', primaryDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    const settings = [
      `port=${this.primary.port}`,
      `listen_addresses='${this.primary.host}'`,
      `unix_socket_directories='${this.dir}'`,
      'wal_level=replica',
      'max_wal_senders=5',
      'hot_standby=on',
      // A test machine: durability is not what is under test, speed is welcome.
      'fsync=off',
      'full_page_writes=off',
      'shared_buffers=32MB',
    ];
    settings.push(...tlsFiles(primaryDir, 'primary', this.options.primary));
    await asPostgres('sh', ['-c', `printf '%s\\n' ${settings.map((s) => `"${s}"`).join(' ')} >> ${primaryDir}/postgresql.conf && ` +
      `printf '%s\\n' ${hbaLines(this.options.rdsLike === true).map((s) => `"${s}"`).join(' ')} ${this.options.rdsLike ? '>' : '>>'} ${primaryDir}/pg_hba.conf`]);
    await this.primary.start();
    if (this.options.rdsLike) {
      this.rdsMaster = await RdsMaster.create(this.primary);
      await this.rdsMaster.createDatabase(this.database);
    } else {
      await this.primary.query(`CREATE DATABASE ${this.database}`);
    }

    const replicaDir = join(this.dir, 'replica');
    // -R writes primary_conninfo and standby.signal: the copy starts as a streaming replica.
    await asPostgres(binary('pg_basebackup'), ['-h', this.primary.host, '-p', String(this.primary.port), '-U', 'postgres', '-D', replicaDir, '-R', '-X', 'stream', '--checkpoint=fast', '--no-sync']);
    const replicaSettings = [`port=${this.replica.port}`, `listen_addresses='${this.replica.host}'`, ...tlsFiles(replicaDir, 'replica', this.options.replica)];
    await asPostgres('sh', ['-c', `printf '%s\\n' ${replicaSettings.map((s) => `"${s}"`).join(' ')} >> ${replicaDir}/postgresql.conf`]);
    await this.replica.start();
    await this.caughtUp();
  }
}

/**
 * Who signs in how (pg_hba.conf, first match wins; copied to the replica by
 * pg_basebackup). Any loopback address: the servers may listen on one of
 * their own. RDS-like: these lines alone, `postgres` by trust and every other
 * role with a SCRAM password; otherwise added after initdb's trust lines.
 */
function hbaLines(rdsLike: boolean): string[] {
  const replication = 'host replication postgres 127.0.0.0/8 trust';
  return rdsLike
    ? ['local all postgres trust', 'host all postgres 127.0.0.0/8 trust', 'host all all 127.0.0.0/8 scram-sha-256', replication]
    : ['host all all 127.0.0.0/8 trust', replication];
}

/** The server's TLS settings, its certificate and key copied where the postgres user may read them (the key only it). */
function tlsFiles(dataDir: string, name: string, listen: PostgresListen | undefined): string[] {
  if (!listen?.tls) {
    return ['ssl=off'];
  }
  const cert = join(dataDir, `${name}-server.crt`);
  const key = join(dataDir, `${name}-server.key`);
  copyFileSync(listen.tls.certFile, cert);
  copyFileSync(listen.tls.keyFile, key);
  chmodSync(key, 0o600);
  for (const file of [cert, key]) {
    chownSync(file, uid('postgres'), gid('postgres'));
  }
  return ['ssl=on', `ssl_cert_file='${cert}'`, `ssl_key_file='${key}'`];
}

async function asPostgres(command: string, args: string[]): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'postgres', '--', command, ...args], { cwd: '/tmp', timeout: 60_000 });
  return stdout;
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user]).toString().trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user]).toString().trim());
}

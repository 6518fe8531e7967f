/**
 * MariaDB for the tests and the lab: a database of its own on the machine's
 * server, or a primary and a replica of their own (a second and third
 * mariadbd on free ports, each with its own data directory), and a master
 * user made like RDS's, to run as what runs as the master on RDS.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { chownSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { promisify } from 'util';
import mysql from 'mysql2/promise';
import { freePort, waitFor } from './ports';
import { killChild } from './signals';
import { startOrUndo } from './start-or-undo';

const run = promisify(execFile);

/** A database of its own on the MariaDB at 127.0.0.1:3306 (root, no password), and a connection to administer it. */
export class ScratchDatabase {
  /** Creates `<prefix>_<random>`. */
  public static async create(prefix: string): Promise<ScratchDatabase> {
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    const db = new ScratchDatabase(`${prefix}_${randomBytes(4).toString('hex')}`, admin);
    await admin.query(`CREATE DATABASE ${db.name}`);
    return db;
  }

  private constructor(public readonly name: string, public readonly admin: mysql.Connection) {}

  /** Drops it and closes the connection. */
  public async drop(): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.name}`);
    await this.admin.end();
  }
}

/**
 * The privileges RDS gives the master user of a MySQL or MariaDB instance, on
 * `*.*` WITH GRANT OPTION, and never SUPER
 * (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html).
 * RDS for MySQL 8.0.36 and later adds dynamic privileges MariaDB does not have
 * (CREATE ROLE, DROP ROLE, APPLICATION_PASSWORD_ADMIN, ROLE_ADMIN,
 * SET_USER_ID, XA_RECOVER_ADMIN) and the role rds_superuser_role; none of
 * them lets an account create users or grant table privileges, which the list
 * below already does.
 */
const RDS_MASTER_PRIVILEGES = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'CREATE', 'DROP', 'RELOAD', 'PROCESS', 'REFERENCES', 'INDEX', 'ALTER',
  'SHOW DATABASES', 'CREATE TEMPORARY TABLES', 'LOCK TABLES', 'EXECUTE', 'REPLICATION SLAVE', 'REPLICATION CLIENT',
  'CREATE VIEW', 'SHOW VIEW', 'CREATE ROUTINE', 'ALTER ROUTINE', 'CREATE USER', 'EVENT', 'TRIGGER',
];

/** A master user made like RDS's on a MariaDB server, and its sign-in. */
export class MariadbMaster {
  /** Creates `rds_master_<random>`@`%` with a random password and the privileges above, through `admin` (root). */
  public static async create(admin: mysql.Connection): Promise<MariadbMaster> {
    const master = new MariadbMaster(`rds_master_${randomBytes(4).toString('hex')}`, randomBytes(18).toString('base64url'), admin);
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY ?", [master.user, master.password]);
    await admin.query(`GRANT ${RDS_MASTER_PRIVILEGES.join(', ')} ON *.* TO ?@'%' WITH GRANT OPTION`, [master.user]);
    return master;
  }

  private constructor(public readonly user: string, public readonly password: string, private readonly admin: mysql.Connection) {}

  /** Drops the user (what it created stays). */
  public async drop(): Promise<void> {
    await this.admin.query("DROP USER IF EXISTS ?@'%'", [this.user]);
  }
}

/** One MariaDB server of a {@link MariadbCluster}, its data in a directory of its own. */
export class MariadbServer {
  private child: ChildProcess | undefined;

  constructor(public readonly port: number, private readonly dataDir: string, private readonly serverId: number) {}

  /** Creates the data directory (mariadb-install-db: root without a password). */
  public async install(): Promise<void> {
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${this.dataDir}`, '--user=mysql', '--auth-root-authentication-method=normal', '--skip-test-db'], { timeout: 60_000 });
  }

  /** Starts it, writing a binary log (with GTIDs) a replica can follow, and waits until it takes connections. */
  public async start(): Promise<void> {
    this.child = spawn('mariadbd', [
      '--no-defaults', `--datadir=${this.dataDir}`, `--port=${this.port}`, '--bind-address=127.0.0.1', `--socket=${this.dataDir}.sock`,
      `--pid-file=${this.dataDir}.pid`, '--user=mysql', `--server-id=${this.serverId}`, '--log-bin=mysql-bin', '--binlog-format=ROW',
      // A test machine: durability is not what is under test, and memory is shared.
      '--innodb-buffer-pool-size=32M', '--innodb-log-file-size=16M', '--innodb-flush-log-at-trx-commit=2', '--sync-binlog=0',
    ], { stdio: 'ignore' });
    await waitFor(`MariaDB on ${this.port}`, async () => {
      await this.query('SELECT 1');
      return true;
    }, 30_000);
  }

  /** Kills it at once (SIGKILL), as a failed host goes. */
  public async kill(): Promise<void> {
    await killChild(this.child);
    this.child = undefined;
  }

  /** Runs statements with a connection of its own. */
  public async query<T = mysql.RowDataPacket[]>(sql: string, params: unknown[] = []): Promise<T> {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 2000, multipleStatements: true });
    try {
      return (await connection.query(sql, params))[0] as T;
    } finally {
      await connection.end();
    }
  }

  /** Makes this replica a primary, as RDS promotes the standby: it stops following and takes writes. */
  public async promote(): Promise<void> {
    await this.query('STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only = OFF');
  }
}

/** A MariaDB primary and a replica that follows its binary log, on free loopback ports, in a temporary directory. */
export class MariadbCluster {
  /** Creates both, starts both, creates `database` on the primary and waits until the replica has it. */
  public static async start(database = 'sessions'): Promise<MariadbCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'mariadb-cluster-'));
    chownSync(dir, Number(execFileSync('id', ['-u', 'mysql']).toString()), Number(execFileSync('id', ['-g', 'mysql']).toString()));
    const cluster = new MariadbCluster(dir, database, await freePort(), await freePort());
    return startOrUndo(cluster, (c) => c.create(), (c) => c.destroy());
  }

  public readonly primary: MariadbServer;
  public readonly replica: MariadbServer;

  private constructor(private readonly dir: string, public readonly database: string, primaryPort: number, replicaPort: number) {
    this.primary = new MariadbServer(primaryPort, join(dir, 'primary'), 1);
    this.replica = new MariadbServer(replicaPort, join(dir, 'replica'), 2);
  }

  /** Waits until the replica has applied everything the primary has logged so far. */
  public async caughtUp(timeoutSeconds = 15): Promise<void> {
    const [{ pos }] = await this.primary.query<Array<{ pos: string }>>('SELECT @@gtid_binlog_pos AS pos');
    const [{ done }] = await this.replica.query<Array<{ done: number }>>('SELECT MASTER_GTID_WAIT(?, ?) AS done', [pos, timeoutSeconds]);
    if (Number(done) !== 0) {
      throw new Error(`the MariaDB replica did not reach ${pos} within ${timeoutSeconds} s`);
    }
  }

  /** Stops both servers and removes their files. */
  public async destroy(): Promise<void> {
    await Promise.all([this.replica.kill(), this.primary.kill()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Installs the primary, copies it for the replica, starts both, makes the replica follow and creates the database. */
  private async create(): Promise<void> {
    // One installation, copied: two bootstraps at once can trip over each other's temporary tables.
    await this.primary.install();
    await run('cp', ['-a', join(this.dir, 'primary'), join(this.dir, 'replica')]);
    await Promise.all([this.primary.start(), this.replica.start()]);
    await this.replica.query(`SET GLOBAL read_only = ON; CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${this.primary.port}, `
      + "MASTER_USER = 'root', MASTER_PASSWORD = '', MASTER_USE_GTID = slave_pos; START SLAVE");
    await this.primary.query(`CREATE DATABASE ${this.database}`);
    await this.caughtUp();
  }
}

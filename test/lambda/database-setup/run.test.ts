/**
 * The setup's SQL against real servers, run as a master user made like
 * RDS's, never as a superuser: PostgreSQL in a cluster of the tests' own
 * started RDS-like (SCRAM passwords for every role but `postgres`, which
 * stands for RDS's own rdsadmin and serves only to look; the database owned
 * by the master), and the MariaDB on 127.0.0.1:3306 with a master of the
 * privileges RDS gives (no SUPER). Each test works with a user of its own,
 * and drops what it made.
 */
import { randomBytes } from 'crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { SESSION_ID_WIDTH } from '../../../lib/contract/sessions-table';
import { runSetup, ServerConnection } from '../../../lambda/database-setup/run';
import { scramSha256Verifier } from '../../../lambda/database-setup/scram';
import { MariadbMaster } from '../../../local/mariadb';
import { PostgresCluster, RdsMaster } from '../../../local/postgres';
import { DatabaseStore, DatabaseStoreOptions } from '../../../sample-app/src/sessions/database/store';
import { newSessionData } from '../../../sample-app/src/sessions/session';
import { SessionIds } from '../../../sample-app/src/sessions/session-id';
import { mysqlStatements, postgresLiteral, postgresStatements } from '../../../lambda/database-setup/sql';

const suffix = () => randomBytes(4).toString('hex');
/** What no log may hold: the random part of the password (the quote is escaped or doubled in a statement's text). */
const SECRET = randomBytes(12).toString('base64url');
const PASSWORD = `pw-${SECRET}'quote`;

/** The sample app's database store on these settings: it opens (its migration changes nothing), saves a signed id's session and loads it. */
async function expectStoreWorks(options: DatabaseStoreOptions): Promise<void> {
  const store = await DatabaseStore.open({ ...options, sweepIntervalSeconds: 0 });
  try {
    // A signed id, 43 characters: the width the setup gives the column.
    const id = new SessionIds(['k'.repeat(32)]).issue();
    expect(id).toHaveLength(43);
    await store.save(id, { ...newSessionData(1), counter: 7 }, 0, 60);
    expect((await store.load(id))?.data.counter).toBe(7);
    await store.destroy(id);
  } finally {
    await store.close();
  }
}

/** An error as the Lambda runtime logs it: name, message, stack and every enumerable field (toFormatted in aws-lambda-nodejs-runtime-interface-client). */
function asLambdaLogsIt(error: Error): string {
  return JSON.stringify({ errorType: error.name, errorMessage: error.message, ...error, stack: error.stack });
}

describe('the setup SQL', () => {
  test('refuses names it would have to quote', () => {
    expect(() => postgresStatements({ database: 'sessions', user: 'a"b' }, 'x')).toThrow(/user: must start with a letter/);
    expect(() => mysqlStatements({ database: 'x`y', user: 'app' }, 'x')).toThrow(/database: must start with a letter/);
  });

  test('quotes a PostgreSQL literal by doubling single quotes, and refuses NUL', () => {
    expect(postgresLiteral("it's")).toBe("'it''s'");
    expect(() => postgresLiteral('a\0b')).toThrow(/NUL/);
  });

  test('PostgreSQL sends the password as its SCRAM-SHA-256 verifier, never as text, and refuses an empty one or one with NUL', () => {
    const sql = postgresStatements({ database: 'sessions', user: 'sessions_app' }, 'secret-xyz').map((s) => s.sql).join('\n');
    expect(sql).not.toContain('secret-xyz');
    expect(sql).toMatch(/ALTER ROLE "sessions_app" WITH LOGIN PASSWORD 'SCRAM-SHA-256\$4096:[^']+'/);
    expect(() => postgresStatements({ database: 'sessions', user: 'sessions_app' }, '')).toThrow('password: must be non-empty and hold no NUL character');
    expect(() => postgresStatements({ database: 'sessions', user: 'sessions_app' }, 'a\0b')).toThrow('password: must be non-empty and hold no NUL character');
  });

  test('MySQL passes the user and the password as parameters, never in the text', () => {
    const statements = mysqlStatements({ database: 'sessions', user: 'sessions_app' }, 'secret');
    expect(statements.map((s) => s.sql).join('\n')).not.toMatch(/secret|sessions_app/);
  });
});

describe('PostgreSQL, as a master made like RDS\'s (a cluster of its own, 127.0.0.1)', () => {
  let cluster: PostgresCluster;
  let master: RdsMaster;
  const user = `app_${suffix()}`;
  /** As `postgres`, to look at what the master may not read (pg_authid, the log). */
  const inspect = <T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params: unknown[] = [], db = cluster.database) =>
    cluster.primary.query<T>(sql, params, db);
  const asMaster = (): ServerConnection => ({ engine: 'postgres', host: cluster.primary.host, port: cluster.primary.port, user: master.user, password: master.password });
  const setup = (names: { database?: string; user?: string } = {}, password = PASSWORD) =>
    runSetup(asMaster(), { database: names.database ?? cluster.database, user: names.user ?? user }, password);
  const signIn = async (role: string, password: string, database = cluster.database) => {
    const client = new pg.Client({ host: cluster.primary.host, port: cluster.primary.port, user: role, password, database });
    await client.connect();
    return client;
  };
  /** Everything the setup may change, but the salted password verifier. */
  const state = async () => ({
    columns: await inspect(`SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns WHERE table_name = 'sessions' ORDER BY column_name`),
    indexes: await inspect(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sessions' ORDER BY indexname`),
    grants: await inspect(`SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = $1 ORDER BY 1, 2`, [user]),
    role: await inspect(`SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolinherit FROM pg_roles WHERE rolname = $1`, [user]),
    schema: await inspect(`SELECT has_schema_privilege($1, 'public', 'CREATE') AS can_create, has_schema_privilege($1, 'public', 'USAGE') AS can_use`, [user]),
  });
  const storedVerifier = async (role: string) => (await inspect<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]))[0].rolpassword;
  let app: pg.Client;

  beforeAll(async () => {
    cluster = await PostgresCluster.start({ rdsLike: true });
    master = cluster.master;
    // Every statement the master sends goes to the server's log, where the tests read what was sent.
    await inspect(`ALTER ROLE "${master.user}" SET log_statement = 'all'`);
    await master.query('CREATE TABLE other (secret text)', [], cluster.database);
    await setup();
    app = await signIn(user, PASSWORD);
  });

  afterAll(async () => {
    await app?.end();
    await cluster?.destroy();
  });

  test('the master is made like RDS\'s: LOGIN, CREATEROLE, CREATEDB, no superuser, in rds_superuser, owning the database', async () => {
    expect(await inspect(`SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls,
        pg_has_role(rolname, 'rds_superuser', 'MEMBER') AS in_group,
        (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $2) AS owns
      FROM pg_roles WHERE rolname = $1`, [master.user, cluster.database])).toEqual([{
      rolsuper: false, rolcreaterole: true, rolcreatedb: true, rolcanlogin: true, rolreplication: false, rolbypassrls: false, in_group: true, owns: master.user,
    }]);
    // What rds_superuser gives that PostgreSQL can model: every connection's activity, signalling other backends, CHECKPOINT.
    expect(await inspect(`SELECT b.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.member JOIN pg_roles b ON b.oid = m.roleid
      WHERE g.rolname = 'rds_superuser' ORDER BY 1`)).toEqual([{ rolname: 'pg_checkpoint' }, { rolname: 'pg_read_all_stats' }, { rolname: 'pg_signal_backend' }]);
  });

  test('the master is refused what only a superuser may do, as on RDS: the ALTER ROLE the setup sent before, naming NOSUPERUSER and NOREPLICATION', async () => {
    const probe = `probe_${suffix()}`;
    await master.query(`CREATE ROLE "${probe}"`);
    await expect(master.query(`ALTER ROLE "${probe}" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD 'x'`))
      .rejects.toThrow('must be superuser to alter superuser roles or change superuser attribute');
    await expect(master.query(`ALTER ROLE "${probe}" NOREPLICATION`)).rejects.toThrow('must be superuser to alter replication roles or change replication attribute');
    await expect(master.query('SELECT rolpassword FROM pg_authid')).rejects.toThrow('permission denied for table pg_authid');
    // The same statement as a superuser passes: what the tests ran as before proved nothing about RDS.
    await inspect(`ALTER ROLE "${probe}" WITH LOGIN NOSUPERUSER NOREPLICATION`);
  });

  test('creates the sessions table with the sample app\'s columns and index', async () => {
    const { columns, indexes } = await state();
    expect(columns).toEqual([
      { column_name: 'data', data_type: 'text', character_maximum_length: null, is_nullable: 'NO' },
      { column_name: 'expires_at', data_type: 'bigint', character_maximum_length: null, is_nullable: 'NO' },
      { column_name: 'id', data_type: 'character varying', character_maximum_length: SESSION_ID_WIDTH, is_nullable: 'NO' },
      { column_name: 'version', data_type: 'bigint', character_maximum_length: null, is_nullable: 'NO' },
    ]);
    expect(indexes.map((i) => i.indexname)).toEqual(['sessions_expires_at', 'sessions_pkey']);
  });

  test('the application user signs in over SCRAM with the secret\'s password, and with no other', async () => {
    // The cluster's pg_hba.conf asks every role but postgres for scram-sha-256: a sign-in that passes proved the password by SCRAM.
    expect((await app.query<{ user: string }>('SELECT current_user AS user')).rows).toEqual([{ user }]);
    await expect(signIn(user, `${PASSWORD}x`)).rejects.toThrow(`password authentication failed for user "${user}"`);
    expect(await storedVerifier(user)).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  });

  test('the application user reads, writes and deletes sessions, as the sample app does', async () => {
    await app.query(`INSERT INTO sessions (id, version, data, expires_at) VALUES ('s1', 1, '{}', 10)
      ON CONFLICT (id) DO UPDATE SET version = sessions.version + 1 WHERE sessions.expires_at <= 0`);
    await app.query(`UPDATE sessions SET version = version + 1, data = '{"n":1}' WHERE id = 's1' AND version = 1`);
    expect((await app.query(`SELECT version, data FROM sessions WHERE id = 's1'`)).rows).toEqual([{ version: '2', data: '{"n":1}' }]);
    await app.query(`DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= 100 ORDER BY expires_at LIMIT 10)`);
    await app.query(`SELECT pg_advisory_xact_lock(hashtext('sessions migration'))`);
  });

  test('the application user can create no table, read no other table, and is a plain login role', async () => {
    await expect(app.query('CREATE TABLE mine (x int)')).rejects.toThrow(/permission denied for schema public/);
    await expect(app.query('SELECT * FROM other')).rejects.toThrow(/permission denied for table other/);
    await expect(app.query('DROP TABLE sessions')).rejects.toThrow(/must be owner of table sessions/);
    const { role, schema } = await state();
    expect(role).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false, rolinherit: true }]);
    expect(schema).toEqual([{ can_create: false, can_use: true }]);
  });

  test('what the sample app must tolerate: its own CREATE TABLE IF NOT EXISTS and CREATE INDEX IF NOT EXISTS fail for this user even when both exist', async () => {
    await expect(app.query('CREATE TABLE IF NOT EXISTS sessions (id varchar(22) PRIMARY KEY)')).rejects.toThrow(/permission denied for schema public/);
    await expect(app.query('CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at)')).rejects.toThrow(/must be owner of table sessions/);
  });

  test('the sample app\'s store, signed in as the application user, opens on the table the setup made and keeps a session', async () => {
    await expectStoreWorks({ engine: 'postgres', primary: { host: cluster.primary.host, port: cluster.primary.port }, replicas: [], database: cluster.database, user, password: PASSWORD, tls: false });
  });

  test('running it again on the role an earlier run made (a retried Create, an Update) changes nothing', async () => {
    const before = await state();
    await app.query(`INSERT INTO sessions (id, version, data, expires_at) VALUES ('kept', 1, '{}', 99) ON CONFLICT DO NOTHING`);
    await setup();
    expect(await state()).toEqual(before);
    expect((await app.query(`SELECT id FROM sessions WHERE id = 'kept'`)).rows).toEqual([{ id: 'kept' }]);
  });

  test('no statement the setup sends holds the password; the role keeps the verifier sent, as it was sent', async () => {
    const own = `app_${suffix()}`;
    const logged = cluster.primary.log().length;
    await setup({ user: own });
    const sent = cluster.primary.log().slice(logged);
    expect(sent).toContain(`ALTER ROLE "${own}" WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:`);
    expect(sent).not.toContain(SECRET);
    const [, verifier] = new RegExp(`ALTER ROLE "${own}" WITH LOGIN PASSWORD '([^']+)'`).exec(sent)!;
    expect(await storedVerifier(own)).toBe(verifier);
    await (await signIn(own, PASSWORD)).end();
  });

  test('a failed ALTER ROLE, logged with its text by default (log_min_error_statement), writes no password to the log', async () => {
    // A role of that name the master may not alter: the statement fails, and the server logs it.
    const taken = `app_${suffix()}`;
    await inspect(`CREATE ROLE "${taken}" SUPERUSER`);
    const logged = cluster.primary.log().length;
    await expect(setup({ user: taken })).rejects.toThrow('must be superuser to alter superuser roles or change superuser attribute');
    const written = cluster.primary.log().slice(logged);
    expect(written).toMatch(new RegExp(`ERROR: .*must be superuser to alter superuser roles[^\n]*\n[^\n]*STATEMENT:  ALTER ROLE "${taken}"`));
    expect(written).not.toContain(SECRET);
  });

  test.each([
    ['printable ASCII, with a quote', PASSWORD],
    ['non-ASCII that SASLprep maps and normalizes (no-break space, soft hyphen, a ligature)', `p\u00A0w\u00AD\uFB01-${SECRET}`],
  ])('the verifier is the one PostgreSQL computes from the password, and signs in with it: %s', async (_name, password) => {
    const probe = `probe_${suffix()}`;
    await master.query(`CREATE ROLE "${probe}" LOGIN`);
    await master.query(`GRANT CONNECT ON DATABASE "${cluster.database}" TO "${probe}"`);
    // PostgreSQL computes it from the text, with a salt of its own (password_encryption is scram-sha-256).
    await inspect(`ALTER ROLE "${probe}" PASSWORD ${postgresLiteral(password)}`);
    const computed = await storedVerifier(probe);
    const [, salt] = /^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(computed)!;
    expect(scramSha256Verifier(password, Buffer.from(salt, 'base64'))).toBe(computed);
    // Ours, with a salt of our own, sent as the setup sends it: kept as sent, and the driver signs in with the text.
    const ours = scramSha256Verifier(password);
    await master.query(`ALTER ROLE "${probe}" PASSWORD ${postgresLiteral(ours)}`);
    expect(await storedVerifier(probe)).toBe(ours);
    await (await signIn(probe, password)).end();
  });

  test('an upgrade from a table an earlier release made (ids of 22, owned by the master user): the setup widens the ids, and the app user then keeps a signed id\'s session', async () => {
    const database = `setup_${suffix()}`;
    const own = `app_${suffix()}`;
    await master.createDatabase(database);
    // The earlier release's app signed in as the master user and made the table itself.
    await master.query(`CREATE TABLE sessions (id varchar(22) PRIMARY KEY, version bigint NOT NULL, data text NOT NULL, expires_at bigint NOT NULL)`, [], database);
    await master.query(`INSERT INTO sessions VALUES ('${'a'.repeat(22)}', 1, '{}', 99)`, [], database);
    await setup({ database, user: own });
    expect(await inspect(`SELECT character_maximum_length AS width FROM information_schema.columns WHERE table_name = 'sessions' AND column_name = 'id'`, [], database))
      .toEqual([{ width: SESSION_ID_WIDTH }]);
    expect(await inspect(`SELECT id FROM sessions`, [], database)).toEqual([{ id: 'a'.repeat(22) }]);
    await expectStoreWorks({ engine: 'postgres', primary: { host: cluster.primary.host, port: cluster.primary.port }, replicas: [], database, user: own, password: PASSWORD, tls: false });
  });
});

describe('MySQL dialect (MariaDB on 127.0.0.1:3306), as a master made like RDS\'s', () => {
  const database = `setup_${suffix()}`;
  const user = `app_${suffix()}`;
  let root: mysql.Connection;
  let master: MariadbMaster;
  let app: mysql.Connection;
  const asMaster = (): ServerConnection => ({ engine: 'mysql', host: '127.0.0.1', port: 3306, user: master.user, password: master.password });
  const setup = () => runSetup(asMaster(), { database, user }, PASSWORD);
  const state = async () => ({
    table: (await root.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE \`${database}\`.sessions`))[0],
    grants: (await root.query<mysql.RowDataPacket[]>(`SHOW GRANTS FOR ?@'%'`, [user]))[0],
    account: (await root.query<mysql.RowDataPacket[]>(`SELECT * FROM mysql.user WHERE User = ?`, [user]))[0],
  });
  const dropped: string[] = [];

  beforeAll(async () => {
    root = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    master = await MariadbMaster.create(root);
    // As on RDS, the master makes the schema (RDS makes the first one for it).
    const asMasterConnection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: master.user, password: master.password });
    await asMasterConnection.query(`CREATE DATABASE \`${database}\``);
    await asMasterConnection.query(`CREATE TABLE \`${database}\`.other (secret text)`);
    await asMasterConnection.end();
    await setup();
    app = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password: PASSWORD, database });
  });

  afterAll(async () => {
    await app?.end();
    for (const schema of [database, ...dropped]) {
      await root.query(`DROP DATABASE IF EXISTS \`${schema}\``);
    }
    await root.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    await master?.drop();
    await root.end();
  });

  test('the master has the privileges RDS gives, WITH GRANT OPTION, and not SUPER: it may not grant SUPER, nor set a global variable', async () => {
    const [grants] = await root.query<mysql.RowDataPacket[]>(`SHOW GRANTS FOR ?@'%'`, [master.user]);
    const all = String(Object.values(grants[0])[0]);
    expect(all).toMatch(/^GRANT .*CREATE USER.* ON \*\.\* TO .* WITH GRANT OPTION$/);
    expect(all).not.toMatch(/SUPER|ALL PRIVILEGES/);
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: master.user, password: master.password });
    try {
      await expect(connection.query(`GRANT SUPER ON *.* TO ?@'%'`, [user])).rejects.toThrow(/Access denied/);
      await expect(connection.query('SET GLOBAL general_log = OFF')).rejects.toThrow(/Access denied/);
    } finally {
      await connection.end();
    }
  });

  test('creates the sessions table: ascii binary ids, InnoDB, utf8mb4, the expiry index', async () => {
    const ddl = String((await state()).table[0]['Create Table']);
    expect(ddl).toContain(`\`id\` varchar(${SESSION_ID_WIDTH}) CHARACTER SET ascii COLLATE ascii_bin NOT NULL`);
    expect(ddl).toMatch(/PRIMARY KEY \(`id`\)/);
    expect(ddl).toMatch(/KEY `sessions_expires_at` \(`expires_at`\)/);
    expect(ddl).toMatch(/ENGINE=InnoDB DEFAULT CHARSET=utf8mb4/);
  });

  test('the application user signs in with the secret\'s password and reads, writes and deletes sessions', async () => {
    await app.query(`INSERT INTO sessions (id, version, data, expires_at) VALUES ('s1', 1, '{}', 10)`);
    await app.query(`UPDATE sessions SET version = version + 1 WHERE id = 's1' AND version = 1`);
    const [rows] = await app.query<mysql.RowDataPacket[]>(`SELECT version FROM sessions WHERE id = 's1'`);
    expect(rows.map((r) => Number(r.version))).toEqual([2]);
    await app.query(`DELETE FROM sessions WHERE expires_at <= 100`);
    await expect(mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password: 'wrong', database })).rejects.toThrow(/Access denied/);
  });

  test('the application user can create no table and read no other table, here or in another schema', async () => {
    await expect(app.query('CREATE TABLE mine (x int)')).rejects.toThrow(/CREATE command denied/);
    await expect(app.query('SELECT * FROM other')).rejects.toThrow(/SELECT command denied/);
    await expect(app.query('SELECT * FROM mysql.user')).rejects.toThrow(/SELECT command denied/);
    await expect(app.query('DROP TABLE sessions')).rejects.toThrow(/DROP command denied/);
    const grants = (await state()).grants.map((g) => Object.values(g)[0]);
    expect(grants).toEqual([
      expect.stringMatching(new RegExp(`^GRANT USAGE ON \\*\\.\\* TO \`${user}\`@\`%\` IDENTIFIED BY PASSWORD`)),
      `GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.\`sessions\` TO \`${user}\`@\`%\``,
    ]);
  });

  test('what the sample app must tolerate: its own CREATE TABLE IF NOT EXISTS fails for this user even when the table exists', async () => {
    await expect(app.query('CREATE TABLE IF NOT EXISTS sessions (id varchar(22) PRIMARY KEY)')).rejects.toThrow(/CREATE command denied/);
  });

  test('the sample app\'s store, signed in as the application user, opens on the table the setup made and keeps a session', async () => {
    await expectStoreWorks({ engine: 'mysql', primary: { host: '127.0.0.1', port: 3306 }, replicas: [], database, user, password: PASSWORD, tls: false });
  });

  test('running it again (a retried Create, an Update) changes nothing', async () => {
    await app.query(`INSERT INTO sessions (id, version, data, expires_at) VALUES ('kept', 1, '{}', 99)`);
    const before = await state();
    await setup();
    expect(await state()).toEqual(before);
    const [rows] = await app.query<mysql.RowDataPacket[]>(`SELECT id FROM sessions WHERE id = 'kept'`);
    expect(rows.map((r) => r.id)).toEqual(['kept']);
  });

  test('an upgrade from a table an earlier release made (ids of 22): the setup widens the ids, and the app user then keeps a signed id\'s session', async () => {
    const schema = `setup_${suffix()}`;
    const own = `app_${suffix()}`;
    dropped.push(schema);
    await root.query(`CREATE DATABASE \`${schema}\``);
    await root.query(`CREATE TABLE \`${schema}\`.sessions (id varchar(22) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY, version bigint NOT NULL, data text NOT NULL, expires_at bigint NOT NULL)`);
    await root.query(`INSERT INTO \`${schema}\`.sessions VALUES (?, 1, '{}', 99)`, ['a'.repeat(22)]);
    try {
      await runSetup(asMaster(), { database: schema, user: own }, PASSWORD);
      const [columns] = await root.query<mysql.RowDataPacket[]>(
        `SELECT CHARACTER_MAXIMUM_LENGTH AS width, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'sessions' AND COLUMN_NAME = 'id'`, [schema]);
      expect(columns.map((c) => ({ ...c }))).toEqual([{ width: SESSION_ID_WIDTH, collation: 'ascii_bin' }]);
      const [rows] = await root.query<mysql.RowDataPacket[]>(`SELECT id FROM \`${schema}\`.sessions`);
      expect(rows.map((r) => r.id)).toEqual(['a'.repeat(22)]);
      await expectStoreWorks({ engine: 'mysql', primary: { host: '127.0.0.1', port: 3306 }, replicas: [], database: schema, user: own, password: PASSWORD, tls: false });
    } finally {
      await root.query(`DROP USER IF EXISTS ?@'%'`, [own]);
    }
  });

  test('a failed CREATE USER reaches the function\'s log without the password (mysql2 keeps the filled-in statement on its errors)', async () => {
    // A master that may make tables but not users: the setup fails at CREATE USER, whose text holds the password.
    const limited = `limited_${suffix()}`;
    const own = `app_${suffix()}`;
    await root.query("CREATE USER ?@'%' IDENTIFIED BY 'limited-pw'", [limited]);
    await root.query(`GRANT ALL ON \`${database}\`.* TO ?@'%'`, [limited]);
    try {
      const error = await runSetup({ ...asMaster(), user: limited, password: 'limited-pw' }, { database, user: own }, PASSWORD).then(() => undefined, (e: Error) => e);
      expect(error?.message).toMatch(/CREATE USER privilege/);
      expect(asLambdaLogsIt(error!)).not.toContain(SECRET);
    } finally {
      await root.query(`DROP USER IF EXISTS ?@'%'`, [limited]);
    }
  });
});

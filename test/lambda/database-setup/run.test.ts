/**
 * The setup's SQL against the real local servers: PostgreSQL on
 * 127.0.0.1:5432 (trust authentication, as `postgres`) and MariaDB on
 * 127.0.0.1:3306 (`root`, no password). Each test works in a database and
 * with a user of its own, and drops both.
 */
import { randomBytes } from 'crypto';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { SESSION_ID_WIDTH } from '../../../lib/contract/sessions-table';
import { runSetup } from '../../../lambda/database-setup/run';
import { DatabaseStore, DatabaseStoreOptions } from '../../../sample-app/src/sessions/database/store';
import { newSessionData } from '../../../sample-app/src/sessions/session';
import { SessionIds } from '../../../sample-app/src/sessions/session-id';
import { mysqlStatements, postgresLiteral, postgresStatements } from '../../../lambda/database-setup/sql';

const suffix = () => randomBytes(4).toString('hex');
const PASSWORD = `pw-${randomBytes(12).toString('base64url')}'quote`;

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

describe('the setup SQL', () => {
  test('refuses names it would have to quote', () => {
    expect(() => postgresStatements({ database: 'sessions', user: 'a"b' }, 'x')).toThrow(/user: must start with a letter/);
    expect(() => mysqlStatements({ database: 'x`y', user: 'app' }, 'x')).toThrow(/database: must start with a letter/);
  });

  test('quotes a PostgreSQL literal by doubling single quotes, and refuses NUL', () => {
    expect(postgresLiteral("it's")).toBe("'it''s'");
    expect(() => postgresLiteral('a\0b')).toThrow(/NUL/);
  });

  test('MySQL passes the user and the password as parameters, never in the text', () => {
    const statements = mysqlStatements({ database: 'sessions', user: 'sessions_app' }, 'secret');
    expect(statements.map((s) => s.sql).join('\n')).not.toMatch(/secret|sessions_app/);
  });
});

describe('PostgreSQL (127.0.0.1:5432)', () => {
  const database = `setup_${suffix()}`;
  const user = `app_${suffix()}`;
  const admin = (db = 'postgres') => new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: db });
  const asAdmin = async (sql: string, db = database) => {
    const client = admin(db);
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };
  const setup = () => runSetup({ engine: 'postgres', host: '127.0.0.1', port: 5432, user: 'postgres', password: '' }, { database, user }, PASSWORD);
  /** Everything the setup may change, but the salted password verifier. */
  const state = async () => ({
    columns: await asAdmin(`SELECT column_name, data_type, character_maximum_length, is_nullable FROM information_schema.columns WHERE table_name = 'sessions' ORDER BY column_name`),
    indexes: await asAdmin(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'sessions' ORDER BY indexname`),
    grants: await asAdmin(`SELECT table_name, privilege_type FROM information_schema.role_table_grants WHERE grantee = '${user}' ORDER BY 1, 2`),
    role: await asAdmin(`SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolinherit FROM pg_roles WHERE rolname = '${user}'`),
    schema: await asAdmin(`SELECT has_schema_privilege('${user}', 'public', 'CREATE') AS can_create, has_schema_privilege('${user}', 'public', 'USAGE') AS can_use`),
  });
  let app: pg.Client;

  beforeAll(async () => {
    await asAdmin(`CREATE DATABASE ${database}`, 'postgres');
    await asAdmin('CREATE TABLE other (secret text)');
    await setup();
    app = new pg.Client({ host: '127.0.0.1', port: 5432, user, password: PASSWORD, database });
    await app.connect();
  });

  afterAll(async () => {
    await app?.end();
    await asAdmin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, 'postgres');
    await asAdmin(`DROP ROLE IF EXISTS ${user}`, 'postgres');
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

  test('the application user reads, writes and deletes sessions, as the sample app does', async () => {
    await app.query(`INSERT INTO sessions (id, version, data, expires_at) VALUES ('s1', 1, '{}', 10)
      ON CONFLICT (id) DO UPDATE SET version = sessions.version + 1 WHERE sessions.expires_at <= 0`);
    await app.query(`UPDATE sessions SET version = version + 1, data = '{"n":1}' WHERE id = 's1' AND version = 1`);
    expect((await app.query(`SELECT version, data FROM sessions WHERE id = 's1'`)).rows).toEqual([{ version: '2', data: '{"n":1}' }]);
    await app.query(`DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at <= 100 ORDER BY expires_at LIMIT 10)`);
    await app.query(`SELECT pg_advisory_xact_lock(hashtext('sessions migration'))`);
  });

  test('the application user can create no table, read no other table, and is a plain login role with a SCRAM password', async () => {
    await expect(app.query('CREATE TABLE mine (x int)')).rejects.toThrow(/permission denied for schema public/);
    await expect(app.query('SELECT * FROM other')).rejects.toThrow(/permission denied for table other/);
    await expect(app.query('DROP TABLE sessions')).rejects.toThrow(/must be owner of table sessions/);
    const { role, schema } = await state();
    expect(role).toEqual([{ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false, rolinherit: true }]);
    expect(schema).toEqual([{ can_create: false, can_use: true }]);
    const [{ rolpassword }] = await asAdmin(`SELECT rolpassword FROM pg_authid WHERE rolname = '${user}'`);
    expect(rolpassword).toMatch(/^SCRAM-SHA-256\$/);
  });

  test('what the sample app must tolerate: its own CREATE TABLE IF NOT EXISTS and CREATE INDEX IF NOT EXISTS fail for this user even when both exist', async () => {
    await expect(app.query('CREATE TABLE IF NOT EXISTS sessions (id varchar(22) PRIMARY KEY)')).rejects.toThrow(/permission denied for schema public/);
    await expect(app.query('CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at)')).rejects.toThrow(/must be owner of table sessions/);
  });

  test('the sample app\'s store, signed in as the application user, opens on the table the setup made and keeps a session', async () => {
    await expectStoreWorks({ engine: 'postgres', primary: { host: '127.0.0.1', port: 5432 }, replicas: [], database, user, password: PASSWORD, tls: false });
  });

  test('running it again (a retried Create, an Update) changes nothing', async () => {
    const before = await state();
    await app.query(`INSERT INTO sessions (id, version, data, expires_at) VALUES ('kept', 1, '{}', 99) ON CONFLICT DO NOTHING`);
    await setup();
    expect(await state()).toEqual(before);
    expect((await app.query(`SELECT id FROM sessions WHERE id = 'kept'`)).rows).toEqual([{ id: 'kept' }]);
  });
});

describe('an upgrade from a table an earlier release made (ids of 22, owned by the master user)', () => {
  test('PostgreSQL: the setup widens the ids, and the app user then keeps a signed id\'s session without changing the table', async () => {
    const database = `setup_${suffix()}`;
    const user = `app_${suffix()}`;
    const admin = async (sql: string, db = database) => {
      const client = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: db });
      await client.connect();
      try {
        return (await client.query(sql)).rows;
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE DATABASE ${database}`, 'postgres');
    try {
      await admin(`CREATE TABLE sessions (id varchar(22) PRIMARY KEY, version bigint NOT NULL, data text NOT NULL, expires_at bigint NOT NULL)`);
      await admin(`INSERT INTO sessions VALUES ('${'a'.repeat(22)}', 1, '{}', 99)`);
      await runSetup({ engine: 'postgres', host: '127.0.0.1', port: 5432, user: 'postgres', password: '' }, { database, user }, PASSWORD);
      expect(await admin(`SELECT character_maximum_length AS width FROM information_schema.columns WHERE table_name = 'sessions' AND column_name = 'id'`))
        .toEqual([{ width: SESSION_ID_WIDTH }]);
      expect(await admin(`SELECT id FROM sessions`)).toEqual([{ id: 'a'.repeat(22) }]);
      await expectStoreWorks({ engine: 'postgres', primary: { host: '127.0.0.1', port: 5432 }, replicas: [], database, user, password: PASSWORD, tls: false });
    } finally {
      await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`, 'postgres');
      await admin(`DROP ROLE IF EXISTS ${user}`, 'postgres');
    }
  });

  test('MySQL: the same', async () => {
    const database = `setup_${suffix()}`;
    const user = `app_${suffix()}`;
    const root = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    try {
      await root.query(`CREATE DATABASE \`${database}\``);
      await root.query(`CREATE TABLE \`${database}\`.sessions (id varchar(22) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY, version bigint NOT NULL, data text NOT NULL, expires_at bigint NOT NULL)`);
      await root.query(`INSERT INTO \`${database}\`.sessions VALUES (?, 1, '{}', 99)`, ['a'.repeat(22)]);
      await runSetup({ engine: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: '' }, { database, user }, PASSWORD);
      const [columns] = await root.query<mysql.RowDataPacket[]>(
        `SELECT CHARACTER_MAXIMUM_LENGTH AS width, COLLATION_NAME AS collation FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'sessions' AND COLUMN_NAME = 'id'`, [database]);
      expect(columns.map((c) => ({ ...c }))).toEqual([{ width: SESSION_ID_WIDTH, collation: 'ascii_bin' }]);
      const [rows] = await root.query<mysql.RowDataPacket[]>(`SELECT id FROM \`${database}\`.sessions`);
      expect(rows.map((r) => r.id)).toEqual(['a'.repeat(22)]);
      await expectStoreWorks({ engine: 'mysql', primary: { host: '127.0.0.1', port: 3306 }, replicas: [], database, user, password: PASSWORD, tls: false });
    } finally {
      await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await root.query(`DROP USER IF EXISTS ?@'%'`, [user]);
      await root.end();
    }
  });
});

describe('MySQL dialect (MariaDB on 127.0.0.1:3306)', () => {
  const database = `setup_${suffix()}`;
  const user = `app_${suffix()}`;
  let root: mysql.Connection;
  let app: mysql.Connection;
  const setup = () => runSetup({ engine: 'mysql', host: '127.0.0.1', port: 3306, user: 'root', password: '' }, { database, user }, PASSWORD);
  const state = async () => ({
    table: (await root.query<mysql.RowDataPacket[]>(`SHOW CREATE TABLE \`${database}\`.sessions`))[0],
    grants: (await root.query<mysql.RowDataPacket[]>(`SHOW GRANTS FOR ?@'%'`, [user]))[0],
    account: (await root.query<mysql.RowDataPacket[]>(`SELECT * FROM mysql.user WHERE User = ?`, [user]))[0],
  });

  beforeAll(async () => {
    root = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    await root.query(`CREATE DATABASE \`${database}\``);
    await root.query(`CREATE TABLE \`${database}\`.other (secret text)`);
    await setup();
    app = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user, password: PASSWORD, database });
  });

  afterAll(async () => {
    await app?.end();
    await root.query(`DROP DATABASE IF EXISTS \`${database}\``);
    await root.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    await root.end();
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
});

/**
 * The database store's MySQL dialect against the MariaDB on 127.0.0.1:3306,
 * in a database of its own, with Redis on 6379 for the write-through cache.
 */
import { randomBytes } from 'crypto';
import mysql from 'mysql2/promise';
import { ScratchDatabase } from '../../local/mariadb';
import { ID_KEY } from '../../local/secrets';
import { DatabaseStore, DatabaseStoreOptions } from '../../sample-app/src/sessions/database/store';
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { SessionIds } from '../../sample-app/src/sessions/session-id';
import { SessionConflictError } from '../../sample-app/src/sessions/store';
import { describeStoreContract } from './store-contract';

/** A cache key prefix of this run's own, so runs never see each other's entries. */
const prefix = () => `test-db-${randomBytes(4).toString('hex')}:`;
const LOCAL_CACHE = { host: '127.0.0.1', port: 6379, tls: false };

describe('MySQL dialect against MariaDB', () => {
  let scratch: ScratchDatabase;
  let database: string;
  let admin: mysql.Connection;
  beforeAll(async () => {
    scratch = await ScratchDatabase.create('session_test');
    ({ name: database, admin } = scratch);
  });
  afterAll(() => scratch?.drop());

  const options = (over: Partial<DatabaseStoreOptions> = {}): DatabaseStoreOptions => ({
    engine: 'mysql',
    primary: { host: '127.0.0.1', port: 3306 },
    // The same server stands in for a replica: the dialect's replica reads run for real.
    replicas: [{ host: '127.0.0.1', port: 3306 }],
    database,
    user: 'root',
    tls: false,
    sweepIntervalSeconds: 0,
    ...over,
  });

  describeStoreContract('mysql', () => DatabaseStore.open(options()));
  describeStoreContract('mysql with the write-through cache', () => DatabaseStore.open(options({ cache: { ...LOCAL_CACHE, keyPrefix: prefix() } })));

  test('a table of a release before signed ids is widened at start, and keeps its sessions', async () => {
    const legacy = `${database}_legacy`;
    await admin.query(`CREATE DATABASE ${legacy}`);
    try {
      await admin.query(`CREATE TABLE ${legacy}.sessions (id varchar(22) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY, version bigint NOT NULL,
        data text NOT NULL, expires_at bigint NOT NULL, KEY sessions_expires_at (expires_at)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
      const old = newSessionId();
      await admin.query(`INSERT INTO ${legacy}.sessions VALUES (?, 1, ?, ?)`, [old, JSON.stringify(newSessionData(1)), Date.now() + 60_000]);
      const store = await DatabaseStore.open(options({ database: legacy, replicas: [] }));
      try {
        const [[{ width }]] = await admin.query<mysql.RowDataPacket[]>(
          "SELECT CHARACTER_MAXIMUM_LENGTH AS width FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'sessions' AND COLUMN_NAME = 'id'", [legacy]);
        expect(Number(width)).toBe(64);
        const signed = new SessionIds([ID_KEY]).issue();
        expect(await store.save(signed, newSessionData(2), 0, 60)).toBe(1);
        expect(await store.load(signed)).toEqual({ version: 1, data: newSessionData(2) });
        expect(await store.load(old)).toEqual({ version: 1, data: newSessionData(1) });
      } finally {
        await store.close();
      }
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${legacy}`);
    }
  });

  test('hostile ids are stored and found verbatim; the table stays', async () => {
    const store = await DatabaseStore.open(options());
    try {
      for (const id of ["' OR '1'='1", "x';DROP TABLE t;--", '\\\'; --']) {
        expect(await store.load(id)).toBeUndefined();
        expect(await store.save(id, newSessionData(1), 0, 60)).toBe(1);
        expect((await store.load(id))!.version).toBe(1);
      }
      const [tables] = await admin.query<mysql.RowDataPacket[]>(`SHOW TABLES FROM ${database}`);
      expect(tables).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  test('an expired row not yet swept counts as absent: a new session of that id starts one version on', async () => {
    const store = await DatabaseStore.open(options());
    try {
      const id = newSessionId();
      await store.save(id, { ...newSessionData(1), counter: 3 }, 0, 1);
      await new Promise((r) => setTimeout(r, 1100));
      expect(await store.load(id)).toBeUndefined();
      expect(await store.save(id, newSessionData(2), 0, 60)).toBe(2);
      await expect(store.save(id, newSessionData(3), 0, 60)).rejects.toThrow(SessionConflictError);
      expect(await store.load(id)).toEqual({ version: 2, data: newSessionData(2) });
    } finally {
      await store.close();
    }
  });

  test('expired rows are swept in batches', async () => {
    const store = await DatabaseStore.open(options({ sweepBatchSize: 4 }));
    try {
      const ids = Array.from({ length: 10 }, () => newSessionId());
      await Promise.all(ids.map((id) => store.save(id, newSessionData(1), 0, 1)));
      await new Promise((r) => setTimeout(r, 1100));
      expect(await store.sweep()).toBeGreaterThanOrEqual(10);
      const [left] = await admin.query<mysql.RowDataPacket[]>(`SELECT id FROM ${database}.sessions WHERE id IN (?)`, [ids]);
      expect(left).toHaveLength(0);
    } finally {
      await store.close();
    }
  });
});

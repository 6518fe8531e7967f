import mysql from 'mysql2/promise';
import { createSessionsTable, widenSessionIds } from '../../../../lib/contract/sessions-table';
import { ConnectionSettings, DatabaseEndpoint, Dialect, ID_WIDTH, PRIMARY, Row, TABLE, serverOptions } from './dialect';

/** The MySQL dialect, for MySQL and MariaDB: a pool for the primary and one per replica (mysql2). */
export class MySql implements Dialect {
  private readonly primary: mysql.Pool;
  private readonly replicas: mysql.Pool[];
  private readonly timeoutMs: number;

  constructor(settings: ConnectionSettings) {
    const pool = (endpoint: DatabaseEndpoint) => mysql.createPool({
      ...serverOptions(settings, endpoint),
      connectionLimit: settings.poolSize,
      connectTimeout: settings.timeoutMs,
      // Requests wait for a connection, but a bounded number: beyond it they fail (503) at once.
      waitForConnections: true,
      queueLimit: 1000,
      enableKeepAlive: true,
      // Affected rows count rows changed, not rows found: an upsert that changed nothing reports 0.
      flags: ['-FOUND_ROWS'],
    });
    this.timeoutMs = settings.timeoutMs;
    this.primary = pool(settings.primary);
    this.replicas = settings.replicas.map(pool);
  }

  /** As the PostgreSQL dialect's: makes the table only where nothing set it up, widens an id column too narrow for signed ids, and otherwise changes nothing. */
  public async migrate(): Promise<void> {
    const [columns] = await this.primary.query<mysql.RowDataPacket[]>(
      `SELECT CHARACTER_MAXIMUM_LENGTH AS width FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'id'`, [TABLE]);
    if (columns.length === 0) {
      // One statement: MySQL takes a metadata lock, so instances that start together do not race.
      for (const statement of createSessionsTable('mysql', TABLE)) {
        await this.primary.query(statement);
      }
    } else if (Number(columns[0].width) < ID_WIDTH) {
      await this.primary.query(widenSessionIds('mysql', TABLE));
    }
  }

  public async select(replica: number, id: string, now: number): Promise<Row | undefined> {
    const pool = replica === PRIMARY ? this.primary : this.replicas[replica];
    const [rows] = await pool.query<mysql.RowDataPacket[]>(
      { sql: `SELECT version, data, expires_at FROM ${TABLE} WHERE id = ? AND expires_at > ?`, timeout: this.timeoutMs }, [id, now]);
    const row = rows[0];
    return row ? { version: Number(row.version), json: String(row.data), expiresAt: Number(row.expires_at) } : undefined;
  }

  public async insert(id: string, json: string, expiresAt: number, now: number): Promise<number | undefined> {
    // One statement, no explicit transaction: a SELECT ... FOR UPDATE of an absent row takes gap locks,
    // and concurrent inserts of different ids then deadlock. MySQL applies these assignments left to
    // right, so each test of expires_at reads the old value until the last one changes it; an expired
    // row is replaced one version on, and LAST_INSERT_ID(expr) hands that version back.
    const [result] = await this.primary.query<mysql.ResultSetHeader>({
      sql: `INSERT INTO ${TABLE} (id, version, data, expires_at) VALUES (?, 1, ?, ?)
        ON DUPLICATE KEY UPDATE
          data = IF(expires_at <= ?, ?, data),
          version = LAST_INSERT_ID(IF(expires_at <= ?, version + 1, version)),
          expires_at = IF(expires_at <= ?, ?, expires_at)`,
      timeout: this.timeoutMs,
    }, [id, json, expiresAt, now, json, now, now, expiresAt]);
    switch (result.affectedRows) {
      case 1:
        return 1;
      case 2:
        return Number(result.insertId);
      default:
        return undefined;
    }
  }

  public async update(id: string, json: string, expected: number, expiresAt: number, now: number): Promise<boolean> {
    const [result] = await this.primary.query<mysql.ResultSetHeader>(
      { sql: `UPDATE ${TABLE} SET version = version + 1, data = ?, expires_at = ? WHERE id = ? AND version = ? AND expires_at > ?`, timeout: this.timeoutMs },
      [json, expiresAt, id, expected, now]);
    return result.affectedRows === 1;
  }

  public async remove(id: string): Promise<void> {
    await this.primary.query({ sql: `DELETE FROM ${TABLE} WHERE id = ?`, timeout: this.timeoutMs }, [id]);
  }

  public async touch(id: string, expiresAt: number, now: number): Promise<void> {
    await this.primary.query({ sql: `UPDATE ${TABLE} SET expires_at = ? WHERE id = ? AND expires_at > ?`, timeout: this.timeoutMs }, [expiresAt, id, now]);
  }

  public async sweep(now: number, limit: number): Promise<number> {
    const [result] = await this.primary.query<mysql.ResultSetHeader>(
      { sql: `DELETE FROM ${TABLE} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`, timeout: this.timeoutMs }, [now, limit]);
    return result.affectedRows;
  }

  public async close(): Promise<void> {
    await Promise.all([this.primary, ...this.replicas].map((p) => p.end().catch(() => undefined)));
  }
}

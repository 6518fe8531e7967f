import pg from 'pg';
import { createSessionsTable, widenSessionIds } from '../../../../lib/contract/sessions-table';
import { ConnectionSettings, DatabaseEndpoint, Dialect, ID_WIDTH, PRIMARY, Row, TABLE, serverOptions } from './dialect';

/** The PostgreSQL dialect: a pool for the primary and one per replica (node-postgres). */
export class Postgres implements Dialect {
  private readonly primary: pg.Pool;
  private readonly replicas: pg.Pool[];

  constructor(settings: ConnectionSettings) {
    const pool = (endpoint: DatabaseEndpoint) => {
      const p = new pg.Pool({
        ...serverOptions(settings, endpoint),
        max: settings.poolSize,
        connectionTimeoutMillis: settings.timeoutMs,
        query_timeout: settings.timeoutMs,
        // The server gives up too: a statement whose client has given up (waiting on a lock, say) must not run later.
        statement_timeout: settings.timeoutMs,
        idleTimeoutMillis: 30_000,
      });
      // An idle client whose server went away emits here; without a listener the process would exit.
      p.on('error', () => undefined);
      return p;
    };
    this.primary = pool(settings.primary);
    this.replicas = settings.replicas.map(pool);
  }

  /**
   * Makes the sessions table where nothing set it up (the lab, a local
   * database), and widens an id column too narrow for signed ids (ID_WIDTH).
   * On AWS the setup made the table and the app's user may not change it, so
   * an existing table of the right width is left alone: no DDL at all.
   */
  public async migrate(): Promise<void> {
    const client = await this.primary.connect();
    try {
      await client.query('BEGIN');
      // Instances that start together would race on CREATE TABLE IF NOT EXISTS; one at a time.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${TABLE} migration`]);
      const width = await client.query<{ width: number }>(
        `SELECT character_maximum_length AS width FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id'`, [TABLE]);
      if (width.rows.length === 0) {
        for (const statement of createSessionsTable('postgres', TABLE)) {
          await client.query(statement);
        }
      } else if (Number(width.rows[0].width) < ID_WIDTH) {
        await client.query(widenSessionIds('postgres', TABLE));
      }
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  public async select(replica: number, id: string, now: number): Promise<Row | undefined> {
    const pool = replica === PRIMARY ? this.primary : this.replicas[replica];
    const result = await pool.query<{ version: string; data: string; expires_at: string }>(
      `SELECT version, data, expires_at FROM ${TABLE} WHERE id = $1 AND expires_at > $2`, [id, now]);
    const row = result.rows[0];
    return row ? { version: Number(row.version), json: row.data, expiresAt: Number(row.expires_at) } : undefined;
  }

  public async insert(id: string, json: string, expiresAt: number, now: number): Promise<number | undefined> {
    // A row that expired but was not swept yet counts as absent; its version carries on, so no cache or
    // process can mistake the new session for the old one.
    const result = await this.primary.query<{ version: string }>(
      `INSERT INTO ${TABLE} (id, version, data, expires_at) VALUES ($1, 1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET version = ${TABLE}.version + 1, data = EXCLUDED.data, expires_at = EXCLUDED.expires_at
       WHERE ${TABLE}.expires_at <= $4
       RETURNING version`, [id, json, expiresAt, now]);
    return result.rows[0] ? Number(result.rows[0].version) : undefined;
  }

  public async update(id: string, json: string, expected: number, expiresAt: number, now: number): Promise<boolean> {
    const result = await this.primary.query(
      `UPDATE ${TABLE} SET version = version + 1, data = $1, expires_at = $2 WHERE id = $3 AND version = $4 AND expires_at > $5`,
      [json, expiresAt, id, expected, now]);
    return result.rowCount === 1;
  }

  public async remove(id: string): Promise<void> {
    await this.primary.query(`DELETE FROM ${TABLE} WHERE id = $1`, [id]);
  }

  public async touch(id: string, expiresAt: number, now: number): Promise<void> {
    await this.primary.query(`UPDATE ${TABLE} SET expires_at = $1 WHERE id = $2 AND expires_at > $3`, [expiresAt, id, now]);
  }

  public async sweep(now: number, limit: number): Promise<number> {
    const result = await this.primary.query(
      // The outer test again: a row that a new session replaced after the subquery picked it is re-checked
      // at its new version (and kept), where the id match alone would delete it.
      `DELETE FROM ${TABLE} WHERE id IN (SELECT id FROM ${TABLE} WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2) AND expires_at <= $1`, [now, limit]);
    return result.rowCount ?? 0;
  }

  public async close(): Promise<void> {
    await Promise.all([this.primary, ...this.replicas].map((p) => p.end().catch(() => undefined)));
  }
}

/** What the database store asks of an engine's SQL, and what both engines share. */

/** One database server: the primary (or the proxy in front of it) or a read replica. */
export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
}

/** A session row as read. */
export interface Row {
  readonly version: number;
  readonly json: string;
  /** When it expires, in ms since the epoch (as the database holds it). */
  readonly expiresAt?: number;
}

/**
 * The SQL of one engine. Every statement takes parameters; no value is ever
 * written into SQL text. Expiry is an integer of milliseconds since the
 * epoch, so both engines compare it the same way, without time zones.
 */
export interface Dialect {
  migrate(): Promise<void>;
  /** The row if it expires after `now` (0: whatever its expiry), from a replica or {@link PRIMARY}. */
  select(replica: number, id: string, now: number): Promise<Row | undefined>;
  /** Inserts version 1, or replaces an expired row (one version on); undefined when a live row exists. */
  insert(id: string, json: string, expiresAt: number, now: number): Promise<number | undefined>;
  /** Whether the live row at `expected` became `expected + 1`. */
  update(id: string, json: string, expected: number, expiresAt: number, now: number): Promise<boolean>;
  remove(id: string): Promise<void>;
  touch(id: string, expiresAt: number, now: number): Promise<void>;
  /** Deletes up to `limit` expired rows; returns how many. */
  sweep(now: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

/** The sessions table and its id column's width, as the contract defines them (tables of 22 are widened at start). */
export { SESSIONS_TABLE as TABLE, SESSION_ID_WIDTH as ID_WIDTH } from '../../../../lib/contract/sessions-table';

/** The replica index that names the primary in {@link Dialect.select}. */
export const PRIMARY = -1;

/** How a dialect connects: the store's options, with TLS settings and the defaults filled in. */
export interface ConnectionSettings {
  readonly primary: DatabaseEndpoint;
  readonly replicas: readonly DatabaseEndpoint[];
  readonly database: string;
  readonly user: string;
  readonly password?: string;
  readonly ssl?: { rejectUnauthorized: boolean; ca?: string };
  readonly poolSize: number;
  readonly timeoutMs: number;
}


/** What both drivers take alike to reach one server. */
export function serverOptions(settings: ConnectionSettings, endpoint: DatabaseEndpoint) {
  const { database, user, password, ssl } = settings;
  return { host: endpoint.host, port: endpoint.port, database, user, password, ssl };
}

/** Errors that mean "cannot reach or use the server", as opposed to a bug in a statement. */
export function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) {
    return false;
  }
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Node's socket errors, PostgreSQL's class 08 (connection) and 57P (shutdown), MySQL's lost-connection family;
    // and a server that is read-only (PostgreSQL's 25006, MySQL's --read-only): the writer endpoint reached a
    // replica, as while a failover is under way.
    if (/^(E[A-Z]+|08...|57P0\d|25006|PROTOCOL_CONNECTION_LOST|ER_CON_COUNT_ERROR|ER_SERVER_SHUTDOWN|ER_OPTION_PREVENTS_STATEMENT|ER_READ_ONLY_MODE|ETIMEDOUT)$/.test(code)) {
      return true;
    }
  }
  // The last: mysql2's pool when that many requests already wait for a connection (an overloaded primary).
  return /timeout|terminat|connect|closed|ECONNREFUSED|queue limit/i.test(e.message);
}


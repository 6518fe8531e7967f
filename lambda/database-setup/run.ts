/**
 * Runs the setup's SQL against a real server: PostgreSQL with pg, MySQL with
 * mysql2, as the master user, over the connection options given (TLS with
 * the RDS bundle in Lambda; plain on loopback in the tests).
 */
import * as tls from 'tls';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { SetupNames, mysqlStatements, postgresStatements } from './sql';

/** Where and as whom the setup signs in. */
export interface ServerConnection {
  readonly engine: 'postgres' | 'mysql';
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** TLS options; none on loopback. */
  readonly tls?: tls.ConnectionOptions;
  /** How long to wait for the connection. @default 10 s */
  readonly connectTimeoutMs?: number;
}

/** How long to wait for the connection when the caller names no limit. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The sign-in both drivers name alike: where, as whom, and which database (PostgreSQL) or schema (MySQL). */
function signIn(server: ServerConnection, database: string) {
  return { host: server.host, port: server.port, user: server.user, password: server.password, database };
}

/** TLS that verifies the server's certificate against `ca` and its name against `host`. */
export function verifiedTls(host: string, ca: string): tls.ConnectionOptions {
  return { ca, servername: host, rejectUnauthorized: true, minVersion: 'TLSv1.2' };
}

/** Creates or updates the table and the application user (`names.user`, signing in with `appPassword`). */
export async function runSetup(server: ServerConnection, names: SetupNames, appPassword: string): Promise<void> {
  if (server.engine === 'postgres') {
    await runPostgres(server, names, appPassword);
  } else {
    await runMysql(server, names, appPassword);
  }
}

async function runPostgres(server: ServerConnection, names: SetupNames, appPassword: string): Promise<void> {
  const client = new pg.Client({
    ...signIn(server, names.database),
    ssl: server.tls,
    connectionTimeoutMillis: server.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  try {
    await client.query('BEGIN');
    for (const statement of postgresStatements(names, appPassword)) {
      await client.query(statement.sql);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
}

async function runMysql(server: ServerConnection, names: SetupNames, appPassword: string): Promise<void> {
  const connection = await mysql.createConnection({
    ...signIn(server, names.database),
    ssl: server.tls as mysql.SslOptions | undefined,
    connectTimeout: server.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
  });
  try {
    // MySQL commits DDL and account changes one by one: each statement is idempotent on its own.
    for (const statement of mysqlStatements(names, appPassword)) {
      await connection.query(statement.sql, statement.params as unknown[] | undefined);
    }
  } finally {
    await connection.end();
  }
}

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
      await connection.query(statement.sql, statement.params as unknown[] | undefined).catch((e: unknown) => {
        throw withoutStatement(e, appPassword);
      });
    }
  } finally {
    await connection.end();
  }
}

/**
 * The error of a failed MySQL statement, told without the statement. mysql2
 * fills in the parameters on the client and keeps the resulting text, the
 * password of CREATE USER and ALTER USER among it, as the error's `sql`
 * field; the Lambda runtime logs a function's error with every enumerable
 * field (toFormatted in https://github.com/aws/aws-lambda-nodejs-runtime-interface-client,
 * src/utils/error.ts), so that field would put the password in the
 * function's log group. The server's own logs are safe without this: MySQL
 * rewrites the password of CREATE USER ... IDENTIFIED BY and ALTER USER ...
 * IDENTIFIED BY in the general query, slow query and binary logs
 * (https://dev.mysql.com/doc/refman/8.4/en/password-logging.html), the
 * error log holds no statements, and RDS's audit plugin masks what follows
 * IDENTIFIED BY in those statements (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.MySQL.Options.AuditPlugin.html,
 * log_statement_ex in https://github.com/aws/audit-plugin-for-mysql). So the
 * password goes to MySQL as text, which PostgreSQL's path (a SCRAM verifier)
 * avoids only because PostgreSQL logs a failed statement as it came.
 */
function withoutStatement(error: unknown, password: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  // A server message may quote part of the statement (a syntax error's "near '...'").
  const told = new Error(`MySQL: ${message.split(password).join('*****')}`);
  return typeof code === 'string' ? Object.assign(told, { code }) : told;
}

/**
 * The setup's SQL, per engine: the sessions table (the columns and index the
 * sample app uses) and an application user that may read and write that
 * table and nothing else. Every statement is idempotent, so a retried Create
 * or an Update runs them all again and ends in the same state.
 */
import { SQL_NAME } from '../../lib/contract/database-setup';
import { SESSIONS_TABLE, createSessionsTable, widenSessionIds } from '../../lib/contract/sessions-table';
import { scramSha256Verifier } from './scram';

/** What the setup creates, and where. */
export interface SetupNames {
  /** The database (PostgreSQL) or schema (MySQL) of the table. */
  readonly database: string;
  /** The application user. */
  readonly user: string;
  /** The table. @default 'sessions' */
  readonly table?: string;
}

/** One statement and its parameters (MySQL's `?`; PostgreSQL takes none in DDL). */
export interface Statement {
  readonly sql: string;
  readonly params?: readonly unknown[];
}

/** Fails for a name the setup would have to quote beyond double quotes or backticks. */
function checkedNames(names: SetupNames): Required<SetupNames> {
  const all = { table: SESSIONS_TABLE, ...names };
  for (const [what, name] of Object.entries(all)) {
    if (!SQL_NAME.test(name)) {
      throw new Error(`${what}: must start with a letter and hold only letters, digits and underscores (1 to 63), got ${JSON.stringify(name)}`);
    }
  }
  return all;
}

/** A PostgreSQL string literal: DDL takes no parameters, so values are quoted here (standard_conforming_strings is on since 9.1). */
export function postgresLiteral(value: string): string {
  if (value.includes('\0')) {
    throw new Error('a PostgreSQL literal must not contain a NUL character');
  }
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * PostgreSQL, run as the master user in the sessions database, in one
 * transaction. The RDS master is no superuser: it has LOGIN, CREATEROLE and
 * CREATEDB, is a member of rds_superuser, and owns the database RDS created
 * for it (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html,
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html),
 * so every statement here is one its owner or a CREATEROLE role may run.
 * The role is a plain login role: CREATE ROLE gives it NOSUPERUSER,
 * NOCREATEDB, NOCREATEROLE and NOREPLICATION by default, and ALTER ROLE names
 * none of them, since naming SUPERUSER or REPLICATION at all, even to turn
 * it off, is refused to anyone but a superuser
 * (https://www.postgresql.org/docs/current/sql-alterrole.html). Its password
 * is set on every run (a retry that failed after creating it still ends
 * with the secret's password), sent as its SCRAM verifier, never as text: a
 * failed statement is logged with its text (log_min_error_statement), and
 * the postgresql log goes to CloudWatch Logs.
 *
 * From PostgreSQL 16 a CREATEROLE role may alter only roles it holds ADMIN
 * OPTION on (https://www.postgresql.org/docs/16/sql-alterrole.html), and a
 * role it creates is granted back to it WITH ADMIN TRUE
 * (https://www.postgresql.org/docs/16/role-attributes.html): the role a
 * former run of this setup made, as this master, stays alterable. A role of
 * the same name that someone else made is refused ("permission denied to
 * alter role"), and no statement the master may send can grant itself the
 * option; on 15 (the tests' server) CREATEROLE alone suffices.
 */
export function postgresStatements(names: SetupNames, password: string): Statement[] {
  const { database, user, table } = checkedNames(names);
  const role = `"${user}"`;
  return [
    // Two setups at once (a retry while the first still runs) wait for each other.
    { sql: `SELECT pg_advisory_xact_lock(hashtext('cdk-session-tier database setup'))` },
    ...createSessionsTable('postgres', table).map((sql) => ({ sql })),
    // A table an earlier release made (its app signed in as the master user) has ids too narrow for signed ones.
    { sql: widenSessionIds('postgres', table) },
    { sql: `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${postgresLiteral(user)}) THEN CREATE ROLE ${role}; END IF; END $$` },
    { sql: `ALTER ROLE ${role} WITH LOGIN PASSWORD ${postgresLiteral(scramSha256Verifier(password))}` },
    // Before PostgreSQL 15 every role may create tables in public; from 15 on this changes nothing.
    { sql: 'REVOKE CREATE ON SCHEMA public FROM PUBLIC' },
    { sql: `GRANT CONNECT ON DATABASE "${database}" TO ${role}` },
    { sql: `GRANT USAGE ON SCHEMA public TO ${role}` },
    { sql: `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "${table}" TO ${role}` },
  ];
}

/**
 * MySQL (and MariaDB), run as the master user with the schema selected. The
 * user signs in from any host of the VPC (the security groups decide who
 * reaches the server) with the server's default plugin (caching_sha2_password
 * on MySQL 8.4), and gets the four statements on the table alone.
 */
export function mysqlStatements(names: SetupNames, password: string): Statement[] {
  const { database, user, table } = checkedNames(names);
  return [
    ...createSessionsTable('mysql', table).map((sql) => ({ sql })),
    { sql: widenSessionIds('mysql', table) },
    { sql: "CREATE USER IF NOT EXISTS ?@'%' IDENTIFIED BY ?", params: [user, password] },
    // CREATE USER IF NOT EXISTS leaves an existing user's password as it was.
    { sql: "ALTER USER ?@'%' IDENTIFIED BY ?", params: [user, password] },
    { sql: `GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.\`${table}\` TO ?@'%'`, params: [user] },
  ];
}

/**
 * The table the `database` strategy keeps sessions in, one definition for
 * everything that creates it: the one-time setup on AWS (lambda/database-setup,
 * as the master user) and the sample app itself where nothing set it up (the
 * lab, a local database), and that widens a table an earlier release made
 * with ids too narrow for signed ones. Ids are compared byte for byte (ASCII, binary
 * collation in MySQL); expiry is an integer of milliseconds since the epoch.
 */

/** The table's name, in both engines. */
export const SESSIONS_TABLE = 'sessions';

/** Width of the id column: the 43 characters of a signed id, with room to spare (old ids are 22). */
export const SESSION_ID_WIDTH = 64;

/** The statements that create the table and its expiry index if they are missing, for `engine`. */
export function createSessionsTable(engine: 'postgres' | 'mysql', table: string = SESSIONS_TABLE): string[] {
  if (engine === 'postgres') {
    return [
      `CREATE TABLE IF NOT EXISTS "${table}" (
  id varchar(${SESSION_ID_WIDTH}) PRIMARY KEY,
  version bigint NOT NULL,
  data text NOT NULL,
  expires_at bigint NOT NULL
)`,
      `CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at)`,
    ];
  }
  return [
    `CREATE TABLE IF NOT EXISTS \`${table}\` (
  id varchar(${SESSION_ID_WIDTH}) CHARACTER SET ascii COLLATE ascii_bin PRIMARY KEY,
  version bigint NOT NULL,
  data text NOT NULL,
  expires_at bigint NOT NULL,
  KEY ${table}_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  ];
}

/**
 * The statement that widens the id column of an existing table to
 * {@link SESSION_ID_WIDTH} (tables of an earlier release hold 22). Only the
 * table's owner may run it: on AWS the setup does, as the master user, since
 * the app's own user may not change the table. It changes only the catalog
 * (PostgreSQL: no rewrite for a wider varchar; InnoDB: both widths keep a
 * one-byte length, so in place), and again on a table already that wide.
 */
export function widenSessionIds(engine: 'postgres' | 'mysql', table: string = SESSIONS_TABLE): string {
  return engine === 'postgres'
    ? `ALTER TABLE "${table}" ALTER COLUMN id TYPE varchar(${SESSION_ID_WIDTH})`
    : `ALTER TABLE \`${table}\` MODIFY id varchar(${SESSION_ID_WIDTH}) CHARACTER SET ascii COLLATE ascii_bin NOT NULL`;
}

/** The engines the `database` strategy runs on. */
export enum DatabaseEngine {
  /** PostgreSQL. */
  POSTGRES = 'postgres',
  /** MySQL (the app's MySQL dialect also speaks to MariaDB). */
  MYSQL = 'mysql',
}

/** The most read replicas RDS allows for one PostgreSQL or MySQL instance. */
export const MAX_READ_REPLICAS = 15;

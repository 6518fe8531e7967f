/** MariaDB for the tests and the lab: a database of its own on the machine's server. */
import { randomBytes } from 'crypto';
import mysql from 'mysql2/promise';

/** A database of its own on the MariaDB at 127.0.0.1:3306 (root, no password), and a connection to administer it. */
export class ScratchDatabase {
  /** Creates `<prefix>_<random>`. */
  public static async create(prefix: string): Promise<ScratchDatabase> {
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    const db = new ScratchDatabase(`${prefix}_${randomBytes(4).toString('hex')}`, admin);
    await admin.query(`CREATE DATABASE ${db.name}`);
    return db;
  }

  private constructor(public readonly name: string, public readonly admin: mysql.Connection) {}

  /** Drops it and closes the connection. */
  public async drop(): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.name}`);
    await this.admin.end();
  }
}

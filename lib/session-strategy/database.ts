import { Tokenization } from 'aws-cdk-lib/core';
import { APP_ENV } from '../contract/app-env';
import { RDS_CA_BUNDLE_URL } from '../contract/database-setup';
import { INSTANCE_PATHS } from '../private/user-data';
import type { ISessionDatabase } from '../session-database';
import { ISessionStrategyTarget, SessionStoreKind, SessionStores, SessionStrategy, SessionStrategyBinding } from './strategy';
import { addStoreEnvironment, checkSameVpc, connectCache, requireStore, sessionsOf, signIdsWithStoreKey } from './wiring';

/** The certificate authorities the `database` strategy trusts: AL2023's system store plus the RDS bundle. */
const DB_CA_FILE = `${INSTANCE_PATHS.configDir}/db-ca.pem`;
/** AL2023's system trust store (Mozilla's, with Amazon Root CA 1 to 4): RDS Proxy presents ACM certificates that chain to them. */
const SYSTEM_TRUST_STORE = '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem';

/**
 * Sessions in RDS: writes to the writer (proxy or primary), reads from the
 * replicas, optionally a write-through cache; ids signed with the database's
 * key, so an id a replica does not know yet is read from the primary.
 */
export class DatabaseStrategy extends SessionStrategy {
  public readonly name = 'database';
  public readonly survivesInstanceLoss = true;

  constructor(stores: SessionStores) {
    super({ database: stores.database, cache: stores.cache });
  }

  /** A database given without a cache runs without one; a strategy given nothing gets both. */
  public get missingStores(): SessionStoreKind[] {
    if (this.stores.database) {
      return [];
    }
    return this.stores.cache ? [SessionStoreKind.DATABASE] : [SessionStoreKind.DATABASE, SessionStoreKind.CACHE];
  }

  public withStores(stores: SessionStores): SessionStrategy {
    const missing = this.missingStores;
    const database = missing.includes(SessionStoreKind.DATABASE) ? stores.database : undefined;
    const cache = missing.includes(SessionStoreKind.CACHE) ? stores.cache : undefined;
    return database || cache
      ? new DatabaseStrategy({ database: this.stores.database ?? database, cache: this.stores.cache ?? cache })
      : this;
  }

  public bind(fleet: ISessionStrategyTarget): SessionStrategyBinding {
    const db: ISessionDatabase = requireStore(fleet, this.stores.database, 'SessionStrategy.database()', 'database',
      'SessionStrategy.database(db) with a SessionDatabase or SessionDatabase.fromSessionDatabaseAttributes(...)');
    if (this.stores.cache) {
      checkSameVpc(fleet, this.stores.cache, 'SessionStrategy.database()', 'cache');
    }
    db.allowFrom(fleet, sessionsOf(fleet));
    if (db.readyForClients) {
      // The application user exists only once the setup has run.
      fleet.addBootDependency(db.readyForClients);
    }
    fleet.addSecretEnvironment(APP_ENV.DB_USER, db.credentials, 'username');
    fleet.addSecretEnvironment(APP_ENV.DB_PASSWORD, db.credentials, 'password');
    // Signed ids: one a replica does not know yet is read from the primary, a forged one from nowhere.
    const sessionIdKey = signIdsWithStoreKey(fleet, db);
    fleet.addBootCommands(
      // One file for every server the app verifies: the RDS bundle for the instances, the system store
      // for RDS Proxy (ACM certificates). Node, PHP and Java take one CA file that replaces their defaults.
      `curl -fsS --retry 5 --max-time 30 -o ${INSTANCE_PATHS.configDir}/rds-ca.pem ${RDS_CA_BUNDLE_URL}`,
      `cat ${SYSTEM_TRUST_STORE} ${INSTANCE_PATHS.configDir}/rds-ca.pem > ${DB_CA_FILE}`,
      `chmod 0644 ${DB_CA_FILE}`,
    );
    const endpoint = (e: { hostname: string; port: number }) => `${e.hostname}:${Tokenization.stringifyNumber(e.port)}`;
    addStoreEnvironment(fleet, {
      strategy: 'database',
      database: {
        engine: db.engine,
        host: db.writerEndpoint.hostname,
        port: Tokenization.stringifyNumber(db.writerEndpoint.port),
        name: db.databaseName,
        replicas: db.replicaEndpoints.map(endpoint),
        tls: true,
        caFile: DB_CA_FILE,
      },
      cache: this.stores.cache ? connectCache(fleet, this.stores.cache) : undefined,
    });
    return { sessionIdKey };
  }
}

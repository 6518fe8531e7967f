/**
 * What the strategies share when they bind a fleet: the store's settings in
 * the environment, the cache's door and token, the checks that a store was
 * given and is in the fleet's VPC, the store's session-id key, and the keys a
 * strategy creates once for every fleet it binds.
 */
import { Stack, Token, Tokenization } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { APP_ENV, RedisSettings, StoreSettings, storeEnvironment } from '../contract/app-env';
import { SessionTierValidationError } from '../errors';
import type { ISessionCache } from '../redis-session-cache';
import type { ISessionStore } from '../session-store';
import { ISessionStrategyTarget } from './strategy';

/** Writes a store's settings (but its secrets) into the fleet's environment. */
export function addStoreEnvironment(fleet: ISessionStrategyTarget, store: StoreSettings): void {
  for (const [name, value] of Object.entries(storeEnvironment(store))) {
    fleet.addEnvironment(name, value);
  }
}

/** The rules a strategy opens say whose they are. */
export function sessionsOf(fleet: ISessionStrategyTarget): string {
  return `${fleet.color} fleet sessions`;
}

/** Lets the fleet into the cache and to its AUTH token; where the app finds it. */
export function connectCache(fleet: ISessionStrategyTarget, cache: ISessionCache): RedisSettings {
  cache.connections.allowDefaultPortFrom(fleet, sessionsOf(fleet));
  if (cache.authTokenSecret) {
    fleet.addSecretEnvironment(APP_ENV.REDIS_AUTH_TOKEN, cache.authTokenSecret);
  }
  return { host: cache.primaryEndpoint, port: Tokenization.stringifyNumber(cache.port), tls: cache.transitEncryption };
}

/**
 * The store a strategy keeps sessions in, as the fleet can use it: fails when
 * the strategy was given none, or one in another VPC than the fleet ({@link checkSameVpc}).
 * @param factory how the user wrote the strategy, e.g. `SessionStrategy.redis()`
 * @param what what it lacks, as `SessionTier` names it
 * @param give how to give it
 */
export function requireStore<T extends ISessionStore>(fleet: ISessionStrategyTarget, store: T | undefined, factory: string, what: string, give: string): T {
  if (store === undefined) {
    throw new SessionTierValidationError(
      `strategy: ${factory} needs its ${what}, got none; pass it (${give}), or use SessionTier, which creates one`, fleet);
  }
  checkSameVpc(fleet, store, factory, what);
  return store;
}

/**
 * Gives the fleet the store's session-id key, shared by every fleet on the
 * store, so an id one fleet signed verifies on all of them. A store imported
 * without its key gives none: the ids stay unsigned (and unverified), which
 * still keeps sessions across fleets, where a key of each strategy's own would not.
 */
export function signIdsWithStoreKey(fleet: ISessionStrategyTarget, store: ISessionStore): secretsmanager.ISecret | undefined {
  const key = store.sessionIdKey;
  if (key) {
    fleet.addSecretEnvironment(APP_ENV.ID_KEYS, key);
  }
  return key;
}

/**
 * Fails when the store is in another VPC than the fleet, where both VPCs are
 * known (an imported store may not say). A security group rule names a group
 * of its own VPC, or of a peered VPC in the same Region only
 * (https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html),
 * and an EFS file system has mount targets in one VPC at a time
 * (https://docs.aws.amazon.com/efs/latest/ug/manage-fs-access-create-delete-mount-targets.html): CloudFormation
 * refuses the rules, or the fleet never reaches the store.
 * @param what the store as the strategy names it, e.g. `cache`
 */
export function checkSameVpc(fleet: ISessionStrategyTarget, store: ISessionStore, factory: string, what: string): void {
  const storeVpc = store.vpc;
  if (storeVpc === undefined || fleet.vpc === undefined || !differentVpcs(fleet, fleet.vpc, storeVpc)) {
    return;
  }
  throw new SessionTierValidationError(
    `strategy: ${factory}'s ${what} is in another VPC than the fleet, got the fleet in ${vpcName(fleet.vpc)} and the ${what} in ${vpcName(storeVpc)}; ` +
    `create the ${what} in the fleet's VPC (its vpc prop), or the fleet in the ${what}'s`, fleet);
}

/**
 * Whether two VPCs are known to differ: two VPC ids known at synth that
 * differ, or two deploy-time ids that resolve to different references. A
 * known id and a deploy-time one may be the same VPC: not known.
 */
function differentVpcs(scope: IConstruct, a: ec2.IVpc, b: ec2.IVpc): boolean {
  if (a === b) {
    return false;
  }
  const tokens = [Token.isUnresolved(a.vpcId), Token.isUnresolved(b.vpcId)];
  if (tokens[0] !== tokens[1]) {
    return false;
  }
  const stack = Stack.of(scope);
  return JSON.stringify(stack.resolve(a.vpcId)) !== JSON.stringify(stack.resolve(b.vpcId));
}

/** A VPC as the user knows it: its construct path, and its id when known at synth. */
function vpcName(vpc: ec2.IVpc): string {
  return Token.isUnresolved(vpc.vpcId) ? vpc.node.path : `${vpc.node.path} (${vpc.vpcId})`;
}

/**
 * A key a strategy creates when it binds its first fleet and gives every
 * fleet it binds after, so all of them share it. It is created beside that
 * first fleet (in the fleet's parent, named after it: `BlueCookieSecret`), not
 * inside it: it belongs to the strategy's fleets, not to one of them.
 */
export class KeyOfFirstFleet {
  private key?: secretsmanager.ISecret;

  /**
   * @param suffix the key's id after the first fleet's, e.g. `CookieSecret`
   * @param create makes the key
   */
  constructor(
    private readonly suffix: string,
    private readonly create: (scope: Construct, id: string) => secretsmanager.ISecret,
  ) {}

  /** The key, created beside `fleet` if no fleet has been bound before. */
  public for(fleet: ISessionStrategyTarget): secretsmanager.ISecret {
    this.key ??= this.create((fleet.node.scope ?? fleet) as Construct, `${fleet.node.id}${this.suffix}`);
    return this.key;
  }
}

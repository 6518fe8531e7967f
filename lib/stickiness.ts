import { Duration, Token } from 'aws-cdk-lib/core';
import { MAX_STICKINESS_SECONDS } from './contract/app-env';
import { SessionTierValidationError } from './errors';

/** The kinds of stickiness an Application Load Balancer target group supports. */
export enum StickinessType {
  /** The load balancer issues its own cookie (`AWSALB`). */
  LOAD_BALANCER_COOKIE = 'lb_cookie',
  /** The load balancer follows a cookie the application sets (and issues `AWSALBAPP-*`). */
  APPLICATION_COOKIE = 'app_cookie',
  /** Every request may go to any healthy target. */
  NONE = 'none',
}

/** Cookie name prefixes the load balancer reserves for its own cookies. */
const RESERVED_COOKIE_PREFIXES = ['AWSALB', 'AWSALBAPP', 'AWSALBTG'];

/** An RFC 6265 cookie name: an RFC 2616 token (visible ASCII without separators). */
const COOKIE_NAME_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * How the load balancer keeps a user on one instance of a fleet.
 *
 * Created by the static factories, which validate, so an invalid value never
 * exists: `Stickiness.loadBalancerCookie(Duration.hours(12))`,
 * `Stickiness.applicationCookie('sid', Duration.hours(1))`, `Stickiness.none()`.
 */
export class Stickiness {
  /**
   * The load balancer issues the `AWSALB` cookie and routes a user's requests
   * to the same target until it expires.
   *
   * @param duration how long the cookie pins a user: whole seconds from 1 s to 7 days
   */
  public static loadBalancerCookie(duration: Duration): Stickiness {
    return new Stickiness(StickinessType.LOAD_BALANCER_COOKIE, checkDuration('stickiness', duration, 'Stickiness.loadBalancerCookie'));
  }

  /**
   * The load balancer follows the application's own cookie: a user stays on a
   * target for as long as the application keeps that cookie, up to `duration`.
   * Not supported with weighted blue/green routing (see `BlueGreenRouting`).
   *
   * @param cookieName the application's cookie: an RFC 6265 token, not starting with `AWSALB`, `AWSALBAPP` or `AWSALBTG`
   * @param duration how long the load balancer's own `AWSALBAPP` cookie pins a user: whole seconds from 1 s to 7 days
   */
  public static applicationCookie(cookieName: string, duration: Duration): Stickiness {
    checkCookieName(cookieName);
    return new Stickiness(StickinessType.APPLICATION_COOKIE, checkDuration('stickiness', duration, 'Stickiness.applicationCookie'), cookieName);
  }

  /** No stickiness: every request may go to any healthy target. */
  public static none(): Stickiness {
    return new Stickiness(StickinessType.NONE);
  }

  private constructor(
    /** Which mechanism keeps users on a target. */
    public readonly type: StickinessType,
    /** How long a user stays pinned; undefined for `none`. */
    public readonly duration?: Duration,
    /** The application's cookie for `APPLICATION_COOKIE`; undefined otherwise. */
    public readonly cookieName?: string,
  ) {}

  /** Whether the load balancer pins users at all. */
  public get enabled(): boolean {
    return this.type !== StickinessType.NONE;
  }

  /**
   * The target group attributes that express this stickiness, as
   * `AWS::ElasticLoadBalancingV2::TargetGroup` `TargetGroupAttributes` keys and values.
   */
  public targetGroupAttributes(): Record<string, string> {
    switch (this.type) {
      case StickinessType.NONE:
        return { 'stickiness.enabled': 'false' };
      case StickinessType.LOAD_BALANCER_COOKIE:
        return {
          'stickiness.enabled': 'true',
          'stickiness.type': 'lb_cookie',
          'stickiness.lb_cookie.duration_seconds': String(this.duration!.toSeconds()),
        };
      case StickinessType.APPLICATION_COOKIE:
        return {
          'stickiness.enabled': 'true',
          'stickiness.type': 'app_cookie',
          'stickiness.app_cookie.cookie_name': this.cookieName!,
          'stickiness.app_cookie.duration_seconds': String(this.duration!.toSeconds()),
        };
    }
  }

  /** A short description for messages and docs, e.g. `lb cookie for 1 day`. */
  public toString(): string {
    switch (this.type) {
      case StickinessType.NONE:
        return 'no stickiness';
      case StickinessType.LOAD_BALANCER_COOKIE:
        return `lb cookie for ${this.duration!.toHumanString()}`;
      case StickinessType.APPLICATION_COOKIE:
        return `app cookie ${this.cookieName} for ${this.duration!.toHumanString()}`;
    }
  }
}

/**
 * Checks that a stickiness duration is whole seconds from 1 s to 7 days.
 * @param prop the prop named in the error
 * @param factory the call suggested in the error, e.g. `Stickiness.loadBalancerCookie`
 */
function checkDuration(prop: string, duration: Duration, factory: string): Duration {
  if (Token.isUnresolved(duration.toSeconds({ integral: false }))) {
    return duration;
  }
  const seconds = duration.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_STICKINESS_SECONDS) {
    throw new SessionTierValidationError(
      `${prop}: duration must be whole seconds from 1 s to 7 days (${MAX_STICKINESS_SECONDS} s), got ${duration.toHumanString()}; ` +
      `use ${factory}(Duration.days(7)) or less`,
    );
  }
  return duration;
}

function checkCookieName(cookieName: string): void {
  if (Token.isUnresolved(cookieName)) {
    return;
  }
  if (!COOKIE_NAME_TOKEN.test(cookieName)) {
    throw new SessionTierValidationError(
      `stickiness: cookie name must be an RFC 6265 token (letters, digits and !#$%&'*+-.^_\`|~, no spaces, separators or control characters), got ${JSON.stringify(cookieName)}; ` +
      "use the name of the application's session cookie, e.g. 'sid'",
    );
  }
  const reserved = RESERVED_COOKIE_PREFIXES.find((prefix) => cookieName.toUpperCase().startsWith(prefix));
  if (reserved) {
    throw new SessionTierValidationError(
      `stickiness: cookie name must not start with ${RESERVED_COOKIE_PREFIXES.join(', ')} (reserved by the load balancer), got ${JSON.stringify(cookieName)}; ` +
      "use the application's own session cookie, e.g. 'sid'",
    );
  }
}

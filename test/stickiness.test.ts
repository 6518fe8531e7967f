import { Duration } from 'aws-cdk-lib/core';
import { Stickiness, StickinessType } from '../lib';

describe('Stickiness.loadBalancerCookie', () => {
  test.each([
    [Duration.seconds(1), '1'],
    [Duration.hours(12), '43200'],
    [Duration.days(7), '604800'],
  ])('renders the lb_cookie attributes for %s', (duration, seconds) => {
    expect(Stickiness.loadBalancerCookie(duration).targetGroupAttributes()).toEqual({
      'stickiness.enabled': 'true',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': seconds,
    });
  });

  test.each([
    [Duration.seconds(0), '0 seconds'],
    [Duration.days(8), '8 days'],
    [Duration.seconds(604801), '7 days 1 second'],
    [Duration.millis(1500), '1 second 500 millis'],
  ])('fails when the duration is %s', (duration, shown) => {
    expect(() => Stickiness.loadBalancerCookie(duration)).toThrow(
      `stickiness: duration must be whole seconds from 1 s to 7 days (604800 s), got ${shown}; use Stickiness.loadBalancerCookie(Duration.days(7)) or less`,
    );
  });
});

describe('Stickiness.applicationCookie', () => {
  test('renders the app_cookie attributes with the cookie name', () => {
    const stickiness = Stickiness.applicationCookie('sid', Duration.hours(1));
    expect(stickiness.type).toBe(StickinessType.APPLICATION_COOKIE);
    expect(stickiness.targetGroupAttributes()).toEqual({
      'stickiness.enabled': 'true',
      'stickiness.type': 'app_cookie',
      'stickiness.app_cookie.cookie_name': 'sid',
      'stickiness.app_cookie.duration_seconds': '3600',
    });
  });

  test.each(['sid', 'SESSION_ID', 'my.session-1', "a!#$%&'*+-.^_`|~z"])('accepts the RFC 6265 token %s', (name) => {
    expect(Stickiness.applicationCookie(name, Duration.days(1)).cookieName).toBe(name);
  });

  test.each(['', 'has space', 'semi;colon', 'quote"d', 'eq=ual', 'tab\t', 'ünïcode', '(paren)'])('fails when the cookie name is %j', (name) => {
    expect(() => Stickiness.applicationCookie(name, Duration.days(1))).toThrow(/stickiness: cookie name must be an RFC 6265 token/);
  });

  test.each(['AWSALB', 'AWSALBAPP-0', 'AWSALBTG-x', 'awsalbcors'])('fails when the cookie name %s is reserved by the load balancer', (name) => {
    expect(() => Stickiness.applicationCookie(name, Duration.days(1))).toThrow(
      `stickiness: cookie name must not start with AWSALB, AWSALBAPP, AWSALBTG (reserved by the load balancer), got "${name}"`,
    );
  });

  test('fails when the duration is over 7 days', () => {
    expect(() => Stickiness.applicationCookie('sid', Duration.days(8))).toThrow(/got 8 days; use Stickiness.applicationCookie\(Duration.days\(7\)\) or less/);
  });
});

describe('Stickiness.none', () => {
  test('renders stickiness disabled and nothing else', () => {
    const none = Stickiness.none();
    expect(none.enabled).toBe(false);
    expect(none.duration).toBeUndefined();
    expect(none.targetGroupAttributes()).toEqual({ 'stickiness.enabled': 'false' });
  });
});

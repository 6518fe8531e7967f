import { Duration } from 'aws-cdk-lib/core';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Node } from 'constructs';
import { SessionTierValidationError } from '../lib/errors';
import { FleetColor } from '../lib/contract/app-env';
import { AppFleetOptions } from '../lib/app-fleet';
import { SessionTierProps } from '../lib/session-tier';
import { ShiftPlan } from '../lib/shift-plan';
import { DatabaseEngine, MAX_READ_REPLICAS } from '../lib/session-database/engine';
import { SessionStrategy } from '../lib/session-strategy';
import { Stickiness } from '../lib/stickiness';

/** The context keys of the demo app, with their defaults. */
export const DEMO_CONTEXT_DEFAULTS = {
  blueStrategy: 'memory',
  greenStrategy: 'cookie',
  blueVersion: 'v1',
  greenVersion: 'v2',
  stickiness: 'lb:1d',
  groupStickiness: '1d',
  targetColor: 'blue',
  shiftPlan: 'all-at-once',
  instanceType: 't4g.small',
  minInstances: '2',
  maxInstances: '4',
  certificateArn: '',
  readReplicas: '1',
  databaseEngine: 'postgres',
  databaseProxy: 'false',
} as const;

type DemoContextKey = keyof typeof DEMO_CONTEXT_DEFAULTS;

const DURATION = /^(\d+)(s|m|h|d)$/;
const DURATION_HELP = 'a whole number with s, m, h or d, from 1s to 7d (e.g. 45s, 30m, 12h, 7d)';

/**
 * The region to build for: `-c region=...`, else the CLI's default region, else us-east-1.
 * The load balancer's access-log bucket policy depends on it.
 */
export function demoRegion(node: Node): string {
  const region = String(node.tryGetContext('region') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) {
    throw new SessionTierValidationError(`-c region=${region}: region must be an AWS region name like us-east-1 or eu-west-2, got ${JSON.stringify(region)}`);
  }
  return region;
}

/** Reads the demo app's context and turns it into `SessionTier` props; reports every bad key at once. */
export function tierPropsFromContext(node: Node): SessionTierProps {
  const problems: string[] = [];
  const value = (key: DemoContextKey): string => {
    const raw = node.tryGetContext(key);
    return raw === undefined || raw === null ? DEMO_CONTEXT_DEFAULTS[key] : String(raw).trim();
  };
  // Each parser records a problem naming the key and returns undefined; the rest still get checked.
  const attempt = <T>(key: DemoContextKey, parse: (text: string) => T): T | undefined => {
    try {
      return parse(value(key));
    } catch (e) {
      problems.push(`-c ${key}=${value(key)}: ${(e as Error).message}`);
      return undefined;
    }
  };

  const blueStrategy = attempt('blueStrategy', (s) => SessionStrategy.fromName(s, 'blueStrategy'));
  const greenStrategy = attempt('greenStrategy', (s) => (s === 'none' ? undefined : SessionStrategy.fromName(s, 'greenStrategy')));
  const stickiness = attempt('stickiness', parseStickiness);
  const groupStickiness = attempt('groupStickiness', (s) =>
    (s === 'none' ? Stickiness.none() : Stickiness.loadBalancerCookie(parseDuration('groupStickiness', s))));
  const targetColor = attempt('targetColor', (s) => {
    // The context keeps the colors' names; the props take the enum.
    const color = Object.values(FleetColor).find((c) => c === s);
    if (color === undefined) {
      throw new SessionTierValidationError(`targetColor: must be blue or green, got ${JSON.stringify(s)}`);
    }
    return color;
  });
  const shiftPlan = attempt('shiftPlan', (s) => ShiftPlan.fromString(s));
  const minInstances = attempt('minInstances', (s) => parseInteger('minInstances', s, 1, 100));
  const maxInstances = attempt('maxInstances', (s) => parseInteger('maxInstances', s, 2, 100));
  const instanceType = attempt('instanceType', (s) => {
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(s)) {
      throw new SessionTierValidationError(`instanceType: must be an EC2 instance type like t4g.small or m7i.large, got ${JSON.stringify(s)}`);
    }
    return new ec2.InstanceType(s);
  });
  const certificateArn = attempt('certificateArn', (s) => {
    if (s !== '' && !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/.test(s)) {
      throw new SessionTierValidationError(`certificateArn: must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or empty for HTTP, got ${JSON.stringify(s)}`);
    }
    return s === '' ? undefined : s;
  });
  const readReplicas = attempt('readReplicas', (s) => {
    if (!/^\d+$/.test(s) || Number(s) > MAX_READ_REPLICAS) {
      throw new SessionTierValidationError(`readReplicas: must be a whole number from 0 to ${MAX_READ_REPLICAS} (the RDS limit of read replicas per instance), got ${JSON.stringify(s)}`);
    }
    return Number(s);
  });
  const databaseEngine = attempt('databaseEngine', (s) => {
    if (s !== DatabaseEngine.POSTGRES && s !== DatabaseEngine.MYSQL) {
      throw new SessionTierValidationError(`databaseEngine: must be postgres or mysql, got ${JSON.stringify(s)}`);
    }
    return s as DatabaseEngine;
  });
  const databaseProxy = attempt('databaseProxy', (s) => {
    if (s !== 'true' && s !== 'false') {
      throw new SessionTierValidationError(`databaseProxy: must be true or false, got ${JSON.stringify(s)}`);
    }
    return s === 'true';
  });
  if (value('greenStrategy') === 'none' && targetColor === 'green') {
    problems.push('-c targetColor=green: there is no green fleet (greenStrategy=none); target blue or choose a green strategy');
  }
  for (const removed of ['blueWeight', 'greenWeight']) {
    if (node.tryGetContext(removed) !== undefined) {
      problems.push(`-c ${removed}=${node.tryGetContext(removed)}: the weights are no longer set by hand; use -c targetColor=blue|green and -c shiftPlan=... and the traffic shifter moves them`);
    }
  }
  if (problems.length > 0) {
    throw new SessionTierValidationError(problems);
  }

  const common = { stickiness, instanceType, minCapacity: minInstances, maxCapacity: maxInstances };
  const blue: AppFleetOptions = { ...common, strategy: blueStrategy, version: value('blueVersion') };
  const green: AppFleetOptions | undefined = greenStrategy
    ? { ...common, strategy: greenStrategy, version: value('greenVersion') }
    : undefined;
  return {
    blue,
    green,
    targetColor,
    shiftPlan: green ? shiftPlan : undefined,
    groupStickiness: green ? groupStickiness : undefined,
    certificateArn,
    // The demo is meant to be destroyed: no deletion protection on the load balancer or the
    // database (a final snapshot is still taken), which the constructs keep on by default.
    loadBalancerDeletionProtection: false,
    // Read by the tier only when a fleet uses the database strategy.
    databaseProps: { readReplicas, engine: databaseEngine, proxy: databaseProxy, deletionProtection: false },
  };
}

/** `none`, `lb:<duration>` or `app:<cookie>:<duration>`. */
function parseStickiness(text: string): Stickiness {
  if (text === 'none') {
    return Stickiness.none();
  }
  const lb = /^lb:([^:]+)$/.exec(text);
  if (lb) {
    return Stickiness.loadBalancerCookie(parseDuration('stickiness', lb[1]));
  }
  const app = /^app:([^:]+):([^:]+)$/.exec(text);
  if (app) {
    return Stickiness.applicationCookie(app[1], parseDuration('stickiness', app[2]));
  }
  throw new SessionTierValidationError(`stickiness: must be none, lb:<duration> or app:<cookie>:<duration>, got ${JSON.stringify(text)}; e.g. lb:12h or app:sid:1d`);
}

/** `45s`, `30m`, `12h`, `7d`: the range is checked by `Stickiness`. */
function parseDuration(key: string, text: string): Duration {
  const match = DURATION.exec(text);
  if (!match) {
    throw new SessionTierValidationError(`${key}: duration must be ${DURATION_HELP}, got ${JSON.stringify(text)}`);
  }
  const amount = Number(match[1]);
  switch (match[2]) {
    case 's': return Duration.seconds(amount);
    case 'm': return Duration.minutes(amount);
    case 'h': return Duration.hours(amount);
    default: return Duration.days(amount);
  }
}

function parseInteger(key: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new SessionTierValidationError(`${key}: must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

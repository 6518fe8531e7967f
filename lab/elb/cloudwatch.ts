/**
 * The lab's CloudWatch for the session-continuity gate: what the real app
 * processes emit in Embedded Metric Format (the sample app's `SessionsLost`
 * and `SessionsLoaded`, dimension `Color`), received as the CloudWatch agent
 * receives it, summed per period, and the dashboard's alarm evaluated on it
 * with the expression and thresholds the stack deploys
 * (lib/contract/session-continuity.ts): the gate a release reads through
 * DescribeAlarms is the one the apps' own counts raise.
 *
 * CloudWatch's side, each rule where it is modelled:
 * - EMF: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 * - metric math (IF, FILL, arithmetic, comparisons giving 1 or 0):
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 * - an alarm on a metric math expression:
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html
 * - evaluation periods, datapoints to alarm and missing data:
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html
 */
import { once } from 'events';
import { AddressInfo, Server, createServer } from 'net';
import { StateValue } from '@aws-sdk/client-cloudwatch';
import { APP_METRICS_NAMESPACE } from '../../lib/contract/app-env';
import {
  SESSIONS_LOADED_METRIC, SESSIONS_LOST_METRIC, SESSION_CONTINUITY_DEFAULTS, continuityExpression,
} from '../../lib/contract/session-continuity';

/** One EMF document's values for the `[Color]` dimension set, as CloudWatch extracts them. */
interface Datapoint {
  readonly at: number;
  readonly color: string;
  readonly values: Readonly<Record<string, number>>;
}

/**
 * The CloudWatch agent's EMF listener (`AWS_EMF_ENVIRONMENT=Agent`,
 * `AWS_EMF_AGENT_ENDPOINT=tcp://...`): newline-delimited JSON documents. Each
 * metric a document declares under a dimension set becomes a datapoint of
 * that metric with those dimensions' values, at the document's
 * `_aws.Timestamp`; a metric given as a list contributes each value.
 */
export class EmfCollector {
  public static async start(): Promise<EmfCollector> {
    const collector = new EmfCollector();
    collector.server.listen(0, '127.0.0.1');
    await once(collector.server, 'listening');
    return collector;
  }

  /** Documents received, and those that were not EMF (counted, as the agent logs and drops them). */
  public documents = 0;
  public rejected = 0;
  private readonly points: Datapoint[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((socket) => {
      let buffered = '';
      socket.on('data', (d) => {
        buffered += d;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        lines.filter((l) => l.trim() !== '').forEach((l) => this.take(l));
      });
      socket.on('error', () => undefined);
    });
  }

  /** What the apps' AWS_EMF_* variables point at. */
  public get endpoint(): string {
    return `tcp://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The sum of a metric of the app's namespace for a color over [from, to): undefined when no datapoint fell in it (missing). */
  public sum(metric: string, color: string, from: number, to: number): number | undefined {
    const inWindow = this.points.filter((p) => p.color === color && p.at >= from && p.at < to && p.values[metric] !== undefined);
    return inWindow.length === 0 ? undefined : inWindow.reduce((a, p) => a + p.values[metric], 0);
  }

  public async stop(): Promise<void> {
    this.server.close();
  }

  private take(line: string): void {
    let doc: Record<string, unknown> & { _aws?: { Timestamp?: number; CloudWatchMetrics?: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
    try {
      doc = JSON.parse(line);
    } catch {
      this.rejected++;
      return;
    }
    const meta = doc._aws;
    if (!meta || typeof meta.Timestamp !== 'number' || !Array.isArray(meta.CloudWatchMetrics)) {
      this.rejected++;
      return;
    }
    this.documents++;
    for (const directive of meta.CloudWatchMetrics.filter((d) => d.Namespace === APP_METRICS_NAMESPACE)) {
      // The alarm reads the metric with the dimension Color alone: the set [Color].
      if (!directive.Dimensions.some((set) => set.length === 1 && set[0] === 'Color') || typeof doc.Color !== 'string') {
        continue;
      }
      const values: Record<string, number> = {};
      for (const { Name } of directive.Metrics) {
        const v = doc[Name];
        const list = Array.isArray(v) ? v : [v];
        if (list.every((x) => typeof x === 'number')) {
          values[Name] = (list as number[]).reduce((a, b) => a + b, 0);
        }
      }
      this.points.push({ at: meta.Timestamp, color: doc.Color, values });
    }
  }
}

/** A value of a metric math expression for one period: a number, or no datapoint. */
type MathValue = number | undefined;

/**
 * Evaluates a metric math expression for one period, given each metric id's
 * value there (undefined: no datapoint). The functions and operators of the
 * expressions the library deploys: IF(c, a, b) (a when c is not 0), FILL(m, v)
 * (v where m has no datapoint), + - * /, unary minus, parentheses, and the
 * comparisons (1 when true, 0 when false). An operand without a datapoint
 * gives none. Anything else is refused by name, so a new function in the
 * deployed expression fails the lab rather than being read wrong.
 */
export function evaluateMetricMath(expression: string, ids: Readonly<Record<string, MathValue>>): MathValue {
  const tokens = expression.match(/\s*(>=|<=|==|!=|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?|[-+*/(),<>])/g)?.map((t) => t.trim()) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, '')) {
    throw new Error(`metric math: cannot read ${JSON.stringify(expression)}`);
  }
  let i = 0;
  const peek = () => tokens[i];
  const take = (want?: string) => {
    const t = tokens[i++];
    if (want !== undefined && t !== want) {
      throw new Error(`metric math: expected ${want} at token ${i} of ${JSON.stringify(expression)}, got ${t}`);
    }
    return t;
  };
  const both = (a: MathValue, b: MathValue, f: (x: number, y: number) => number): MathValue => (a === undefined || b === undefined ? undefined : f(a, b));
  const comparisons: Record<string, (x: number, y: number) => boolean> = {
    '>=': (x, y) => x >= y, '<=': (x, y) => x <= y, '>': (x, y) => x > y, '<': (x, y) => x < y, '==': (x, y) => x === y, '!=': (x, y) => x !== y,
  };
  const expr = (): MathValue => {
    const left = additive();
    const op = peek();
    if (op !== undefined && comparisons[op]) {
      take();
      return both(left, additive(), (x, y) => (comparisons[op](x, y) ? 1 : 0));
    }
    return left;
  };
  const additive = (): MathValue => {
    let v = term();
    while (peek() === '+' || peek() === '-') {
      const op = take();
      const r = term();
      v = both(v, r, (x, y) => (op === '+' ? x + y : x - y));
    }
    return v;
  };
  const term = (): MathValue => {
    let v = factor();
    while (peek() === '*' || peek() === '/') {
      const op = take();
      const r = factor();
      // A division by 0 gives no datapoint.
      v = both(v, r, (x, y) => (op === '*' ? x * y : x / y));
      v = v !== undefined && Number.isFinite(v) ? v : undefined;
    }
    return v;
  };
  const factor = (): MathValue => {
    const t = take();
    if (t === '(') {
      const v = expr();
      take(')');
      return v;
    }
    if (t === '-') {
      const v = factor();
      return v === undefined ? undefined : -v;
    }
    if (/^\d/.test(t)) {
      return Number(t);
    }
    if (peek() === '(') {
      take('(');
      const args: MathValue[] = [expr()];
      while (peek() === ',') {
        take(',');
        args.push(expr());
      }
      take(')');
      if (t === 'IF' && args.length === 3) {
        return args[0] === undefined ? undefined : args[0] !== 0 ? args[1] : args[2];
      }
      if (t === 'FILL' && args.length === 2) {
        return args[0] ?? args[1];
      }
      throw new Error(`metric math: the lab evaluates IF(c, a, b) and FILL(m, v), not ${t} with ${args.length} arguments`);
    }
    if (!(t in ids)) {
      throw new Error(`metric math: ${JSON.stringify(expression)} names ${t}, which is not one of its metrics (${Object.keys(ids).join(', ')})`);
    }
    return ids[t];
  };
  const value = expr();
  if (i !== tokens.length) {
    throw new Error(`metric math: unexpected ${tokens[i]} in ${JSON.stringify(expression)}`);
  }
  return value;
}

/** The session-continuity alarm's settings, as the dashboard deploys them (lib/session-dashboard/fleet-part.ts). */
export interface ContinuityAlarmSettings {
  /** The period, in ms: the dashboard's 60 s, scaled down for the lab. */
  readonly periodMs: number;
  /** @default SESSION_CONTINUITY_DEFAULTS.lostPercent */
  readonly lostPercent?: number;
  /** @default SESSION_CONTINUITY_DEFAULTS.minimumLost */
  readonly minimumLost?: number;
}

/** The lab's period for the alarm: the dashboard's minute scaled down 30 times, as the lab's health checks are. */
export const LAB_CONTINUITY_PERIOD_MS = (SESSION_CONTINUITY_DEFAULTS.periodSeconds * 1000) / 30;

/** An alarm's state as DescribeAlarms reports it, with its reason. */
export interface AlarmReading {
  readonly state: StateValue;
  readonly reason: string;
  /** The datapoint evaluated, when there was one. */
  readonly value?: number;
}

/**
 * A color's session-continuity alarm as CloudWatch evaluates the one the
 * dashboard deploys: the metric math {@link continuityExpression} over the
 * color's `SessionsLost` (id `lost`) and `SessionsLoaded` (id `loaded`),
 * Sum over one period; `GreaterThanThreshold` the lost percentage,
 * 1 evaluation period, 1 datapoint to alarm, missing data `notBreaching`
 * (partAlarm in lib/session-dashboard/blocks.ts).
 *
 * - A new alarm is INSUFFICIENT_DATA until its first evaluation ("the
 *   initial state of a new alarm"); CloudWatch evaluates an alarm at each
 *   period, over the last complete one: here, once a period has ended since
 *   the alarm was created.
 * - A period in which neither metric has a datapoint gives the expression no
 *   datapoint (FILL fills a series' gaps; with no series at all there is
 *   nothing to fill), and `notBreaching` treats it as within the threshold:
 *   OK. A color whose processes all died publishes nothing: its alarm goes OK,
 *   and the health gate is what stops that release.
 */
export class ContinuityAlarm {
  private readonly expression: string;
  private readonly threshold: number;

  constructor(private readonly collector: EmfCollector, public readonly color: string, private readonly settings: ContinuityAlarmSettings,
    private readonly createdAt = Date.now()) {
    this.expression = continuityExpression(settings.minimumLost ?? SESSION_CONTINUITY_DEFAULTS.minimumLost);
    this.threshold = settings.lostPercent ?? SESSION_CONTINUITY_DEFAULTS.lostPercent;
  }

  /** The alarm's state at `now`. */
  public read(now = Date.now()): AlarmReading {
    const p = this.settings.periodMs;
    const end = Math.floor(now / p) * p;
    const start = end - p;
    if (start < this.createdAt) {
      return { state: StateValue.INSUFFICIENT_DATA, reason: 'Unchecked: Initial alarm creation' };
    }
    const ids = {
      lost: this.collector.sum(SESSIONS_LOST_METRIC, this.color, start, end),
      loaded: this.collector.sum(SESSIONS_LOADED_METRIC, this.color, start, end),
    };
    const when = new Date(start).toISOString();
    if (ids.lost === undefined && ids.loaded === undefined) {
      return { state: StateValue.OK, reason: `Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching] (${when})` };
    }
    const value = evaluateMetricMath(this.expression, ids);
    if (value === undefined) {
      return { state: StateValue.OK, reason: `Threshold Crossed: 1 missing datapoint was treated as [NonBreaching] (${when})` };
    }
    const breaching = value > this.threshold;
    return {
      state: breaching ? StateValue.ALARM : StateValue.OK,
      reason: `Threshold Crossed: 1 datapoint [${value.toFixed(1)} (${when})] was ${breaching ? '' : 'not '}greater than the threshold (${this.threshold.toFixed(1)}) ` +
        `(lost ${ids.lost ?? 'none'}, loaded ${ids.loaded ?? 'none'})`,
      value,
    };
  }
}

/** How many values of each distribution one window keeps (EMF takes at most 100 per metric and document). */
const SAMPLES = 100;

/** A bounded sample of a window's values (reservoir sampling: every value has the same chance to be kept). */
class Sample {
  private values: number[] = [];
  private seen = 0;

  public add(value: number): void {
    this.seen++;
    if (this.values.length < SAMPLES) {
      this.values.push(value);
    } else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < SAMPLES) {
        this.values[i] = value;
      }
    }
  }

  /** The window's values, and a fresh window. */
  public take(): number[] {
    const values = this.values;
    this.values = [];
    this.seen = 0;
    return values;
  }

  /** The given percentile of the values in the current window, or 0 with none. */
  public percentile(p: number): number {
    if (this.values.length === 0) {
      return 0;
    }
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }
}

/** The counters, as totals since start (`/metrics`) or as the last window's deltas (EMF). */
export interface Counters {
  readonly created: number;
  readonly loaded: number;
  readonly saved: number;
  readonly conflicted: number;
  readonly destroyed: number;
  readonly rejected: number;
  /** Sessions this fleet issued, still within their lifetime, that it could not find (see SessionsLost in the README). */
  readonly lost: number;
  /** Sessions that came back after their expiry (a sealed cookie's, or an entry the store still held). */
  readonly expired: number;
  readonly storeErrors: number;
}

/** One window of metrics, as the EMF emitter publishes it. */
export interface MetricsWindow {
  readonly counters: Counters;
  /** Serialized session sizes in bytes, sampled. */
  readonly sessionBytes: number[];
  /** Session ages in seconds at each request, sampled. */
  readonly sessionAgeSeconds: number[];
  /** Store call latencies in milliseconds, sampled. */
  readonly storeLatencyMs: number[];
}

/** What the app counts and samples; `/metrics` serves it, the EMF emitter publishes it per window. */
export class Metrics {
  public created = 0;
  public loaded = 0;
  public saved = 0;
  public conflicted = 0;
  public destroyed = 0;
  public rejected = 0;
  public lost = 0;
  public expired = 0;
  public storeErrors = 0;

  private readonly sizes = new Sample();
  private readonly ages = new Sample();
  private readonly latencies = new Sample();
  private published: Counters = this.counters();

  /** A session was saved at this size. */
  public recordSize(bytes: number): void {
    this.sizes.add(bytes);
  }

  /** A request used a session of this age. */
  public recordAge(seconds: number): void {
    this.ages.add(seconds);
  }

  /** A store call took this long. */
  public recordStoreLatency(ms: number): void {
    this.latencies.add(ms);
  }

  /** The counters as `/metrics` serves them, with the current window's store latency. */
  public toJSON(): Record<string, number> {
    return {
      sessions_created: this.created,
      sessions_loaded: this.loaded,
      sessions_saved: this.saved,
      sessions_conflicted: this.conflicted,
      sessions_destroyed: this.destroyed,
      sessions_rejected: this.rejected,
      sessions_lost: this.lost,
      sessions_expired: this.expired,
      store_errors: this.storeErrors,
      store_latency_p50_ms: round(this.latencies.percentile(50)),
      store_latency_p99_ms: round(this.latencies.percentile(99)),
    };
  }

  /** The window since the last call: counter deltas and the sampled values; starts a new window. */
  public takeWindow(): MetricsWindow {
    const now = this.counters();
    const before = this.published;
    this.published = now;
    const delta = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof Counters]])) as unknown as Counters;
    return { counters: delta, sessionBytes: this.sizes.take(), sessionAgeSeconds: this.ages.take(), storeLatencyMs: this.latencies.take() };
  }

  private counters(): Counters {
    return {
      created: this.created, loaded: this.loaded, saved: this.saved, conflicted: this.conflicted,
      destroyed: this.destroyed, rejected: this.rejected, lost: this.lost, expired: this.expired, storeErrors: this.storeErrors,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

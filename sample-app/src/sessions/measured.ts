import { Metrics } from '../metrics';
import { SessionData } from './session';
import { LoadOptions, SessionConflictError, SessionStore, StoredSession } from './store';

/**
 * Wraps a store to time every call and count its failures (a conflict is an
 * answer, not a failure). Every strategy's store is wrapped, so the metrics
 * mean the same for each.
 */
export class MeasuredStore implements SessionStore {
  constructor(private readonly store: SessionStore, private readonly metrics: Metrics) {}

  public load(id: string, options?: LoadOptions): Promise<StoredSession | undefined> {
    return this.time(() => this.store.load(id, options));
  }

  public save(id: string, data: SessionData, expectedVersion: number, ttlSeconds: number): Promise<number> {
    return this.time(() => this.store.save(id, data, expectedVersion, ttlSeconds));
  }

  public destroy(id: string): Promise<void> {
    return this.time(() => this.store.destroy(id));
  }

  public touch(id: string, ttlSeconds: number): Promise<void> {
    return this.time(() => this.store.touch(id, ttlSeconds));
  }

  public holdsExpired(id: string): Promise<boolean> {
    return this.time(() => this.store.holdsExpired(id));
  }

  public close(): Promise<void> {
    return this.store.close();
  }

  private async time<T>(call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof SessionConflictError)) {
        this.metrics.storeErrors++;
      }
      throw e;
    } finally {
      this.metrics.recordStoreLatency(performance.now() - started);
    }
  }
}

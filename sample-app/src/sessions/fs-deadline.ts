import { StoreUnavailableError } from './store';

/** Options of a filesystem call run under {@link FsDeadline.run}. */
export interface FsCallOptions<T> {
  /** Releases what the call returns if it returns after its deadline (close a handle, remove a lock file). */
  readonly dispose?: (late: T) => unknown;
  /** Clean-up that must be tried even while the directory hangs (removing the request's own lock). @default false */
  readonly cleanup?: boolean;
}

/**
 * A deadline on the file store's filesystem calls. On a hung NFS mount (EFS
 * unreachable) a call does not fail, it blocks: in one of the libuv
 * threadpool's threads (4 unless `UV_THREADPOOL_SIZE` says otherwise), which
 * it holds until the mount answers. Without a deadline the request would
 * wait as long; and once every thread is held, every other filesystem call
 * of the process queues behind them.
 *
 * So each call that has not returned after `timeoutMs` fails its request
 * with a 503 (the call itself goes on in its thread; what it returns late is
 * disposed of), and while `maxStuck` calls are past their deadline, new
 * calls fail at once instead of queueing behind them: the requests of a hung
 * directory answer 503 at once, no backlog of stale writes piles up to run
 * when it answers again, and service resumes by itself once the stuck calls
 * return.
 */
export class FsDeadline {
  /** Calls past their deadline that have not returned. */
  private stuck = 0;

  /**
   * `timeoutMs`: the longest a call may take. `maxStuck`: how many calls past
   * their deadline make new ones fail at once; half the threadpool, so a few
   * blocked files (or a few slow calls) leave the other sessions served.
   */
  constructor(
    private readonly what: string,
    private readonly timeoutMs: number,
    private readonly maxStuck = Math.max(1, Math.floor((Number(process.env.UV_THREADPOOL_SIZE) || 4) / 2)),
  ) {}

  /** Runs `call()` under the deadline; it is not started while too many calls are stuck (unless it is clean-up). */
  public run<T>(call: () => Promise<T>, options: FsCallOptions<T> = {}): Promise<T> {
    if (this.stuck >= this.maxStuck && !options.cleanup) {
      return Promise.reject(new StoreUnavailableError(
        `${this.what}: ${this.stuck} filesystem calls have not returned after ${this.timeoutMs} ms; the directory is not answering`));
    }
    return new Promise<T>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.stuck++;
        reject(new StoreUnavailableError(`${this.what}: a filesystem call took more than ${this.timeoutMs} ms; the directory is not answering`));
      }, this.timeoutMs);
      call().then((value) => {
        clearTimeout(timer);
        if (!late) {
          resolve(value);
          return;
        }
        this.stuck--;
        void Promise.resolve().then(() => options.dispose?.(value)).catch(() => undefined);
      }, (e: unknown) => {
        clearTimeout(timer);
        if (late) {
          this.stuck--;
        } else {
          reject(e);
        }
      });
    });
  }
}

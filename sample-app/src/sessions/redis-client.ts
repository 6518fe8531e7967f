import { DisconnectsClientError, ErrorReply, RedisClientOptions, defineScript } from '@redis/client';

/** Where and how to reach Redis (ElastiCache on AWS, a local server elsewhere). */
export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  /** TLS, as ElastiCache with encryption in transit requires. */
  readonly tls: boolean;
  /** The AUTH token, when the server requires one. */
  readonly password?: string;
}

/**
 * node-redis options both Redis-backed stores share. While Redis is
 * unreachable, commands fail at once (no offline queue) rather than queue
 * requests behind an outage; the client reconnects by itself, forever,
 * backing off to one attempt every 2 s. Commands of one tick leave in one
 * write (node-redis pipelines by itself).
 */
export function redisClientOptions(endpoint: RedisEndpoint) {
  const common = {
    host: endpoint.host,
    port: endpoint.port,
    connectTimeout: 2000,
    reconnectStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
  };
  return {
    socket: endpoint.tls ? { ...common, tls: true as const, servername: endpoint.host } : common,
    password: endpoint.password,
    disableOfflineQueue: true,
    // No CLIENT SETINFO on each connect: nothing to wait for but the TCP handshake (and AUTH with a password).
    disableClientInfo: true,
  } satisfies RedisClientOptions;
}

/**
 * A Lua script of the session stores: KEYS[1] a session's hash, ARGV[1] a
 * version, ARGV[2] the JSON, ARGV[3] the TTL in seconds; it answers a number.
 * node-redis sends it by its SHA-1 and falls back to the whole script once
 * after a server restart.
 */
export function sessionScript(lua: string) {
  return defineScript({
    SCRIPT: lua,
    NUMBER_OF_KEYS: 1,
    parseCommand(parser, key: string, version: number, json: string, ttlSeconds: number) {
      parser.pushKey(key);
      parser.push(String(version), json, String(ttlSeconds));
    },
    transformReply: (reply: unknown) => reply as number,
  });
}

/** The part of a node-redis client that {@link CommandDeadline} restarts. */
interface Restartable {
  readonly isOpen: boolean;
  destroy(): void;
  connect(): Promise<unknown>;
}

/** What a command that met a replica fails with. */
const READONLY = 'the server answered READONLY: the connection reached a replica (a failover); it was dropped and the endpoint is reconnecting';

/** Checks per deadline: a command is cut off after the deadline to a quarter more. */
const CHECKS = 4;

/**
 * A deadline on a client's commands without a timer per command: node-redis's
 * own per-command `timeout` arms an `AbortSignal.timeout` for each command,
 * which costs more CPU than the rest of the store's work on a command.
 *
 * Four times per `timeoutMs`, the deadline checks whether a command issued
 * `timeoutMs` ago or earlier is still without an answer; if one is, the
 * connection is taken for hung (a stopped server, a failover that black-holes
 * the old node): the client is destroyed, which rejects every command waiting
 * on it at once (the redis store answers their requests with 503s, the
 * database store reads the database instead), and connects anew; the next
 * commands probe the new connection. A command is so cut off after
 * `timeoutMs` to a quarter more. Two counters a command, no allocation.
 *
 * A `READONLY` answer means the connection reaches a replica: after a
 * failover (ElastiCache Multi-AZ) the old primary is demoted and answers
 * writes so on the connections still open to it, while the endpoint's name
 * has moved to the new primary. node-redis keeps such a connection, so the
 * deadline makes a new one (resolving the name again) and fails the command.
 *
 * It owns the client's connection: it connects the client (which then
 * retries by itself until Redis answers; register its 'error' listener
 * first) and closes it.
 */
export class CommandDeadline {
  private issued = 0;
  private settled = 0;
  /** `issued` at each of the last {@link CHECKS} checks, oldest at `next`. */
  private readonly marks = new Array<number>(CHECKS).fill(0);
  private next = 0;
  private readonly timer: NodeJS.Timeout;
  /** How many times the connection was dropped: for want of an answer, or because it reached a replica. */
  private restarts = 0;
  /** Why the last restart happened, for the commands it failed. */
  private restartReason = '';

  constructor(private readonly client: Restartable, private readonly timeoutMs: number) {
    this.timer = setInterval(() => this.check(), timeoutMs / CHECKS);
    this.timer.unref();
    client.connect().catch(() => undefined);
  }

  /** Waits for `command`, counted against the deadline. */
  public async run<T>(command: Promise<T>): Promise<T> {
    this.issued++;
    const restarts = this.restarts;
    try {
      return await command;
    } catch (e) {
      if (e instanceof ErrorReply && e.message.startsWith('READONLY')) {
        // Once per connection: the other commands that were on it get the same answer.
        if (this.restarts === restarts) {
          this.restart(READONLY);
        }
        throw new Error(READONLY, { cause: e });
      }
      // destroy() rejects with this: a restart, or the store closing.
      throw e instanceof DisconnectsClientError && this.restarts > restarts ? new Error(this.restartReason, { cause: e }) : e;
    } finally {
      this.settled++;
    }
  }

  /** Stops the checks and closes the connection; commands still waiting fail. */
  public close(): void {
    clearInterval(this.timer);
    if (this.client.isOpen) {
      this.client.destroy();
    }
  }

  /** Drops the connection, failing every command on it with `reason`, and makes a new one. */
  private restart(reason: string): void {
    this.restarts++;
    this.restartReason = reason;
    if (this.client.isOpen) {
      this.client.destroy();
    }
    this.client.connect().catch(() => undefined);
  }

  private check(): void {
    // Fewer answers than commands issued a whole deadline ago: one of those is still waiting.
    if (this.settled < this.marks[this.next] && this.client.isOpen) {
      this.restart(`no answer within ${this.timeoutMs} ms; the connection was dropped and is reconnecting`);
    }
    this.marks[this.next] = this.issued;
    this.next = (this.next + 1) % CHECKS;
  }
}

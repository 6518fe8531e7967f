/** A Redis server of its own on a free loopback port, one that a test or the lab can kill, stop and restart. */
import { ChildProcess, spawn } from 'child_process';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { createClient } from '@redis/client';
import { freePort, waitFor } from './ports';
import { killChild } from './signals';

/**
 * A Redis server of the tests' own: nothing kept on disk, or, with a data
 * directory, every write in an append-only file, so a restart after a kill
 * comes back with the data (as a cache node that fails over does).
 */
export class RedisServer {
  /** Starts one on a free port and waits until it answers PING. */
  public static async start(options: { dataDir?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.dataDir);
    await server.restart();
    return server;
  }

  private child: ChildProcess | undefined;
  /** Where it writes without a data directory: a replica saves the copy it receives from its primary. */
  private scratch: string | undefined;

  private constructor(public readonly port: number, private readonly dataDir?: string) {}

  /** Starts it again on the same port; a no-op while it runs. */
  public async restart(): Promise<void> {
    if (this.child) {
      return;
    }
    this.scratch ??= this.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'redis-'));
    const persistence = this.dataDir ? ['--dir', this.dataDir, '--appendonly', 'yes', '--appendfsync', 'always'] : ['--dir', this.scratch!, '--appendonly', 'no'];
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--repl-diskless-sync-delay', '0', ...persistence], { stdio: 'ignore' });
    await waitFor(`redis-server on port ${this.port}`, async () => (await this.command('PING')) === 'PONG');
  }

  /** Sends one command on a connection of its own. */
  public async command(...args: string[]): Promise<unknown> {
    const client = createClient({ socket: { port: this.port, host: '127.0.0.1', reconnectStrategy: false } });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.sendCommand(args);
    } finally {
      if (client.isOpen) {
        client.destroy();
      }
    }
  }

  /**
   * Makes it a replica of the server on `port` (`REPLICAOF`), or with none
   * a primary again (`REPLICAOF NO ONE`), as a failover promotes one node and
   * demotes the other; a replica answers writes with `READONLY`.
   */
  public async replicaOf(port?: number): Promise<void> {
    await this.command('REPLICAOF', ...(port === undefined ? ['NO', 'ONE'] : ['127.0.0.1', String(port)]));
  }

  /** Waits until `replica` has received everything written here so far (replication is asynchronous). */
  public async replicatedTo(replica: RedisServer, timeoutMs = 10_000): Promise<void> {
    const offset = async (server: RedisServer) => Number(/master_repl_offset:(\d+)/.exec(String(await server.command('INFO', 'replication')))?.[1] ?? -1);
    const target = await offset(this);
    await waitFor(`the replica on ${replica.port} to receive offset ${target}`, async () => (await offset(replica)) >= target, timeoutMs);
  }

  /** Waits until this replica has loaded its primary's data and follows it. */
  public async inSync(timeoutMs = 10_000): Promise<void> {
    await waitFor(`the replica on ${this.port} to sync`, async () => /master_link_status:up/.test(String(await this.command('INFO', 'replication'))), timeoutMs);
  }

  /** Stops it (SIGSTOP): connections stay open and nothing answers, as a hung node or a black-holed network looks. */
  public pause(): void {
    this.child?.kill('SIGSTOP');
  }

  /** Lets a paused server go on (SIGCONT). */
  public resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Kills it at once (SIGKILL), as a failed node would go. */
  public async kill(): Promise<void> {
    await killChild(this.child);
    this.child = undefined;
    if (this.scratch) {
      rmSync(this.scratch, { recursive: true, force: true });
      this.scratch = undefined;
    }
  }
}

/**
 * An endpoint that moves, as a DNS name does when ElastiCache or RDS fails
 * over: a TCP proxy on a free loopback port that sends each new connection
 * to its current target, while the connections already open stay with the
 * server they reached (as a client's open socket does when the name moves).
 */
import { once } from 'events';
import { Server, Socket, connect, createServer } from 'net';
import { freePort } from './ports';

export class TcpProxy {
  /** Starts one on a free port, sending connections to `targetPort` on 127.0.0.1. */
  public static async start(targetPort: number): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), targetPort);
    proxy.server.listen(proxy.port, '127.0.0.1');
    await once(proxy.server, 'listening');
    return proxy;
  }

  private readonly server: Server;
  private readonly open = new Set<Socket>();

  private constructor(public readonly port: number, private target: number) {
    this.server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      this.open.add(client);
      this.open.add(upstream);
      // Either end closing or failing closes the other, as a connection through the network would.
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  /** Where new connections go now. */
  public get targetPort(): number {
    return this.target;
  }

  /** New connections go to `port` from now on; open ones stay where they are. */
  public moveTo(port: number): void {
    this.target = port;
  }

  /** Stops listening and closes every connection through it. */
  public async close(): Promise<void> {
    for (const socket of this.open) {
      socket.destroy();
    }
    this.open.clear();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

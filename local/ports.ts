import { once } from 'events';
import { createServer } from 'net';

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it soon after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Polls `check` until it resolves true, or fails after `timeoutMs` (or once `signal` aborts) naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal?.aborted) {
    if (await check().catch(() => false)) {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(signal?.aborted ? `gave up waiting for ${what}` : `timed out after ${timeoutMs} ms waiting for ${what}`);
}

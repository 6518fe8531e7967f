/**
 * The app as the fleet runs it, in a process of its own: a bad environment
 * stops the start with the reason, and SIGTERM (what systemd sends when an
 * instance leaves the group) lets in-flight requests finish before it exits.
 */
import { request } from 'http';
import { spawnApp } from '../../local/app-process';

test('a bad environment stops the start with exit code 1 and names the variable', async () => {
  await expect(spawnApp({ SESSION_STRATEGY: 'cookie', SESSION_COOKIE_SECRETS: '' })).rejects.toThrow(
    /exited with 1 before it answered:\ninvalid configuration:\n {2}- SESSION_COOKIE_SECRETS: the cookie strategy needs/,
  );
});

test('on SIGTERM it refuses new connections, finishes the request in flight, and exits 0', async () => {
  const app = await spawnApp({ SESSION_STRATEGY: 'memory' });
  const body = JSON.stringify({ item: 'slow tea' });
  const { port } = new URL(app.url);
  // A client that sends its body slowly: the request is in flight when SIGTERM arrives.
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, method: 'POST', path: '/api/cart', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.write(body.slice(0, 5));
    setTimeout(() => {
      app.child.kill('SIGTERM');
      setTimeout(() => req.end(body.slice(5)), 500);
    }, 300);
  });
  await new Promise((r) => setTimeout(r, 600));
  await expect(fetch(`${app.url}/health`)).rejects.toThrow();
  const done = await response;
  expect(done.status).toBe(200);
  expect(JSON.parse(done.body)).toMatchObject({ cart: ['slow tea'], strategy: 'memory' });
  expect(await app.stop()).toBe(0);
});

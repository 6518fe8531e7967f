/**
 * `npm run lab` as a person runs it: it prints the URL, answers through
 * HAProxy, and Ctrl-C (SIGINT to its whole process group, as a terminal sends
 * it) stops everything it started and removes its files.
 */
import { ChildProcess, spawn } from 'child_process';
import { once } from 'events';
import { existsSync } from 'fs';
import { join } from 'path';
import { Client } from '../../local/http-client';

jest.setTimeout(60_000);

/** Whether any process is left in the process group. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

let lab: ChildProcess | undefined;

afterEach(() => {
  // Whatever happened, leave nothing behind.
  if (lab?.pid !== undefined && groupAlive(lab.pid)) {
    process.kill(-lab.pid, 'SIGKILL');
  }
});

test('npm run lab prints the URL, answers through HAProxy, and stops everything on Ctrl-C', async () => {
  lab = spawn('npm', ['run', '--silent', 'lab'], {
    cwd: join(__dirname, '..', '..'),
    // A process group of its own, as a shell gives a foreground job.
    detached: true,
    env: { ...process.env, LAB_INSTANCES: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pgid = lab.pid!;
  let output = '';
  lab.stdout!.on('data', (d) => (output += d));
  lab.stderr!.on('data', (d) => (output += d));
  const exited = once(lab, 'exit');

  const deadline = Date.now() + 45_000;
  while (!/^type /m.test(output)) {
    if (Date.now() > deadline || lab.exitCode !== null) {
      throw new Error(`npm run lab did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /session lab: (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1];
  const dir = /files: (\S+)/.exec(output)![1];

  const user = new Client(url);
  const first = await user.post('/api/counter');
  const second = await user.post('/api/counter');
  expect(first.status).toBe(200);
  expect([first.json.counter, second.json.counter]).toEqual([1, 2]);
  expect(second.json.color).toBe(first.json.color); // AWSALBTG keeps the user on the color of the first visit
  expect(user.jar.get('AWSALBTG')).toBe(first.json.color);
  expect(existsSync(dir)).toBe(true);

  process.kill(-pgid, 'SIGINT');
  const [code, signal] = await exited;
  // npm ends as a shell's job does on Ctrl-C: by the signal, or 0 once the lab is done.
  expect(code === 0 || signal === 'SIGINT').toBe(true);
  // Give what npm ran a moment to finish; then nothing of the lab may be left.
  const gone = Date.now() + 5000;
  while (groupAlive(pgid) && Date.now() < gone) {
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(groupAlive(pgid)).toBe(false);
  expect(output).toContain('stopping the lab...');
  expect(existsSync(dir)).toBe(false);
  await expect(fetch(`${url}/health`)).rejects.toThrow();
});

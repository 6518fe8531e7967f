/**
 * The file store in a real directory: the contract, the files it leaves, and
 * what it does with hostile ids, garbage files, stale locks and expiry.
 */
import { execFileSync } from 'child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { waitFor } from '../../local/ports';
import { FileStore } from '../../sample-app/src/sessions/file';
import { newSessionData, newSessionId } from '../../sample-app/src/sessions/session';
import { StoreUnavailableError } from '../../sample-app/src/sessions/store';
import { describeStoreContract } from './store-contract';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describeStoreContract('file', () => FileStore.open(dir));

describe('the file store', () => {
  let store: FileStore;
  beforeEach(async () => {
    store = await FileStore.open(join(dir, 'sessions'));
  });
  afterEach(() => store.close());

  test('creates its directory private to the app, and keeps one file per session that expires with its mtime', async () => {
    const id = newSessionId();
    const before = Date.now();
    await store.save(id, newSessionData(9), 0, 100);
    expect(statSync(join(dir, 'sessions')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(dir, 'sessions'))).toEqual([`${id}.json`]);
    const file = join(dir, 'sessions', `${id}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ v: 1, d: newSessionData(9) });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(file).mtimeMs).toBeGreaterThanOrEqual(before + 99_000);
    expect(statSync(file).mtimeMs).toBeLessThanOrEqual(Date.now() + 100_000);
  });

  test('refuses an id that is not one of ours before it touches a path', async () => {
    for (const id of ['../../etc/passwd', '..', 'a/b', `${'x'.repeat(21)}/`, '']) {
      await expect(store.load(id)).rejects.toThrow(/refusing a session id that is not ours/);
      await expect(store.save(id, newSessionData(1), 0, 60)).rejects.toThrow(/refusing a session id/);
    }
    expect(readdirSync(join(dir, 'sessions'))).toEqual([]);
  });

  test('a file that is not a session (torn by hand, or not JSON) loads as no session, and a save replaces it', async () => {
    const id = newSessionId();
    const file = join(dir, 'sessions', `${id}.json`);
    writeFileSync(file, '{"v":1,"d":{"createdAt":');
    utimesSync(file, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
    expect(await store.load(id)).toBeUndefined();
    expect(await store.save(id, newSessionData(1), 0, 60)).toBe(1);
    expect(await store.load(id)).toEqual({ data: newSessionData(1), version: 1 });
  });

  test('breaks a lock left by a crashed writer once it is stale, and waits for a fresh one up to its limit', async () => {
    const stale = newSessionId();
    const lock = join(dir, 'sessions', `${stale}.lock`);
    writeFileSync(lock, '4242');
    utimesSync(lock, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(await store.save(stale, newSessionData(1), 0, 60)).toBe(1);

    const quick = await FileStore.open(join(dir, 'sessions'), { lockWaitMs: 200 });
    try {
      const busy = newSessionId();
      writeFileSync(join(dir, 'sessions', `${busy}.lock`), '4242');
      await expect(quick.save(busy, newSessionData(1), 0, 60)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(quick.save(busy, newSessionData(1), 0, 60)).rejects.toThrow(/has been locked for more than 200 ms/);
    } finally {
      await quick.close();
    }
  });

  test('the sweep removes expired sessions and abandoned temporary files, and keeps live ones', async () => {
    const live = newSessionId();
    const expired = newSessionId();
    await store.save(live, newSessionData(1), 0, 60);
    await store.save(expired, newSessionData(1), 0, 60);
    const past = new Date(Date.now() - 1000);
    utimesSync(join(dir, 'sessions', `${expired}.json`), past, past);
    const abandoned = join(dir, 'sessions', `${live}.0123456789ab.tmp`);
    writeFileSync(abandoned, '{}');
    const foreign = join(dir, 'sessions', 'README');
    writeFileSync(foreign, 'not ours');
    expect(await store.sweep()).toBe(1);
    // The temporary file is only a moment old: a writer may still be renaming it.
    expect(readdirSync(join(dir, 'sessions')).sort()).toEqual([`${live}.0123456789ab.tmp`, `${live}.json`, 'README'].sort());
    expect(await store.load(live)).toBeDefined();
  });

  test('of 200 concurrent saves by two stores on one directory, each version is written once and the file is never torn', async () => {
    const other = await FileStore.open(join(dir, 'sessions'));
    try {
      const id = newSessionId();
      await store.save(id, newSessionData(1), 0, 60);
      let done = 0;
      const writer = async (s: FileStore) => {
        for (;;) {
          const loaded = (await s.load(id))!;
          expect(loaded).toBeDefined();
          if (loaded.data.counter >= 200) {
            return;
          }
          try {
            await s.save(id, { ...loaded.data, counter: loaded.data.counter + 1 }, loaded.version, 60);
            done++;
          } catch (e) {
            expect((e as Error).name).toBe('SessionConflictError');
          }
        }
      };
      await Promise.all([writer(store), writer(other), writer(store), writer(other)]);
      expect(done).toBe(200);
      expect(await store.load(id)).toEqual({ data: { ...newSessionData(1), counter: 200 }, version: 201 });
      expect(readdirSync(join(dir, 'sessions'))).toEqual([`${id}.json`]);
    } finally {
      await other.close();
    }
  });

  test('a file that blocks (a FIFO where the session should be, as on a hung NFS mount) fails its request at the call deadline; '
    + 'while two calls are stuck every call fails at once; service comes back by itself when they return', async () => {
    const quick = await FileStore.open(join(dir, 'sessions'), { callTimeoutMs: 200 });
    try {
      const [hung, other] = [newSessionId(), newSessionId()];
      await quick.save(hung, { ...newSessionData(1), counter: 7 }, 0, 60);
      await quick.save(other, newSessionData(1), 0, 60);
      const file = join(dir, 'sessions', `${hung}.json`);
      renameSync(file, `${file}.saved`);
      execFileSync('mkfifo', [file]);
      let started = Date.now();
      const [first, second] = await Promise.all([quick.load(hung), quick.save(hung, newSessionData(1), 1, 60)].map((p) => p.then(() => 'answered', (e: unknown) => e)));
      expect(Date.now() - started).toBeLessThan(200 + 300);
      expect(first).toBeInstanceOf(StoreUnavailableError);
      expect((second as Error).message).toBe('file: a filesystem call took more than 200 ms; the directory is not answering');
      started = Date.now();
      await expect(quick.load(other)).rejects.toThrow('file: 2 filesystem calls have not returned after 200 ms; the directory is not answering');
      // At once, not after a call timeout of its own (200 ms): the bound is that timeout, so a loaded machine cannot fail it.
      expect(Date.now() - started).toBeLessThan(200);

      // The mount answers again: the blocked opens return (a writer opens the FIFO), and the file is back.
      renameSync(file, join(dir, 'fifo'));
      renameSync(`${file}.saved`, file);
      closeSync(openSync(join(dir, 'fifo'), constants.O_WRONLY | constants.O_NONBLOCK));
      rmSync(join(dir, 'fifo'));
      await waitFor('the stuck calls to return', async () => (await quick.load(other)) !== undefined, 5000);
      expect(await quick.load(hung)).toMatchObject({ version: 1, data: { counter: 7 } });
      // The save that was cut off left no lock behind.
      expect(await quick.save(hung, newSessionData(1), 1, 60)).toBe(2);
      expect(readdirSync(join(dir, 'sessions')).sort()).toEqual([`${hung}.json`, `${other}.json`].sort());
    } finally {
      await quick.close();
    }
  });

  test('a directory it cannot use fails the start with the reason', async () => {
    const file = join(dir, 'plain-file');
    writeFileSync(file, '');
    await expect(FileStore.open(join(file, 'sessions'))).rejects.toThrow(`file store: cannot use ${join(file, 'sessions')}: ENOTDIR`);
  });
});

/**
 * Two app processes that share one store, as two instances behind a load
 * balancer without stickiness: one user's requests go to each in turn.
 */
import { randomBytes } from 'crypto';
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AppProcess, spawnApp } from '../../local/app-process';
import { sharedStoreScenarios } from './shared-scenarios';

const dir = mkdtempSync(join(tmpdir(), 'shared-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['redis', { SESSION_REDIS_HOST: '127.0.0.1', SESSION_REDIS_PORT: '6379' }],
  ['file', { SESSION_FILE_DIR: join(dir, `sessions-${randomBytes(3).toString('hex')}`) }],
])('two processes sharing the %s store', (strategy, env) => {
  let apps: AppProcess[];
  beforeAll(async () => {
    apps = await Promise.all([1, 2].map(() => spawnApp({ SESSION_STRATEGY: strategy, ...env })));
  });
  afterAll(async () => {
    const codes = await Promise.all(apps.map((a) => a.stop()));
    expect(codes).toEqual([0, 0]);
  });

  sharedStoreScenarios(strategy, () => apps);
});

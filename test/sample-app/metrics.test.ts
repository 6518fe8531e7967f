/**
 * The app's metrics: the window arithmetic, and the Embedded Metric Format
 * documents the real app sends through aws-embedded-metrics' agent sink to a
 * TCP listener standing in for the CloudWatch agent.
 */
import { once } from 'events';
import { AddressInfo, Server, createServer } from 'net';
import { APP_METRICS_NAMESPACE, SESSIONS_LOST_METRIC } from '../../lib/contract/app-env';
import { Metrics } from '../../sample-app/src/metrics';
import { SessionIds } from '../../sample-app/src/sessions/session-id';
import { spawnApp } from '../../local/app-process';
import { Client } from '../../local/http-client';
import { waitFor } from '../../local/ports';
import { ID_KEY } from '../../local/secrets';

describe('Metrics', () => {
  test('a window holds the counter deltas since the last one, and the sampled values', () => {
    const metrics = new Metrics();
    metrics.created += 3;
    metrics.saved += 5;
    metrics.recordSize(120);
    metrics.recordStoreLatency(2);
    expect(metrics.takeWindow()).toEqual({
      counters: { created: 3, loaded: 0, saved: 5, conflicted: 0, destroyed: 0, rejected: 0, lost: 0, expired: 0, storeErrors: 0 },
      sessionBytes: [120], sessionAgeSeconds: [], storeLatencyMs: [2],
    });
    metrics.saved += 2;
    metrics.storeErrors++;
    metrics.lost++;
    expect(metrics.takeWindow()).toMatchObject({ counters: { created: 0, saved: 2, storeErrors: 1, lost: 1 }, sessionBytes: [] });
    // /metrics keeps the totals.
    expect(metrics.toJSON()).toMatchObject({ sessions_created: 3, sessions_saved: 7, store_errors: 1, sessions_lost: 1 });
  });

  test('a window keeps at most 100 values of a distribution, drawn from all of them', () => {
    const metrics = new Metrics();
    for (let i = 1; i <= 10_000; i++) {
      metrics.recordStoreLatency(i);
    }
    expect(metrics.toJSON().store_latency_p50_ms).toBeGreaterThan(2000);
    expect(metrics.toJSON().store_latency_p50_ms).toBeLessThan(8000);
    const { storeLatencyMs } = metrics.takeWindow();
    expect(storeLatencyMs).toHaveLength(100);
    expect(Math.max(...storeLatencyMs)).toBeGreaterThan(1000);
  });
});

describe('Embedded Metric Format from the running app', () => {
  let agent: Server;
  let received = '';
  beforeAll(async () => {
    agent = createServer((socket) => socket.on('data', (d) => (received += d)));
    agent.listen(0, '127.0.0.1');
    await once(agent, 'listening');
  });
  afterAll(() => new Promise<void>((resolve) => agent.close(() => resolve())));

  test('publishes counters, sizes, ages and store latency with color, strategy and version, and a last window on SIGTERM', async () => {
    const { port } = agent.address() as AddressInfo;
    const app = await spawnApp({
      SESSION_STRATEGY: 'memory', SESSION_APP_COLOR: 'green', SESSION_APP_VERSION: 'v5', SESSION_METRICS_INTERVAL_SECONDS: '1',
      AWS_EMF_ENVIRONMENT: 'Agent', AWS_EMF_AGENT_ENDPOINT: `tcp://127.0.0.1:${port}`, AWS_EMF_LOG_GROUP_NAME: 'session-app', AWS_EMF_LOG_STREAM_NAME: 'i-test',
    });
    const client = new Client(app.url);
    await client.get('/api/session');
    await client.post('/api/counter');
    await client.post('/api/cart', { item: 'tea' });
    const docs = () => received.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
    // The three requests may fall into one window or two: add the windows up.
    const total = (name: string) => docs().reduce((sum, d) => sum + (Array.isArray(d[name]) ? d[name].length : d[name] ?? 0), 0);
    await waitFor('EMF documents with the three saves', async () => total('SessionsSaved') === 3);
    const doc = docs().find((d) => d.SessionsSaved > 0);
    expect(doc._aws.LogGroupName).toBe('session-app');
    expect(doc._aws.LogStreamName).toBe('i-test');
    expect(doc._aws.CloudWatchMetrics).toEqual([{
      Namespace: 'SessionTier/App',
      Dimensions: [['Color'], ['Color', 'Strategy', 'Version']],
      Metrics: expect.arrayContaining([
        { Name: 'SessionsCreated', Unit: 'Count' }, { Name: 'SessionsSaved', Unit: 'Count' }, { Name: 'StoreErrors', Unit: 'Count' },
        { Name: 'WriteConflicts', Unit: 'Count' }, { Name: 'SessionSize', Unit: 'Bytes' }, { Name: 'SessionAge', Unit: 'Seconds' },
        { Name: 'StoreLatency', Unit: 'Milliseconds' },
      ]),
    }]);
    expect(doc).toMatchObject({ Color: 'green', Strategy: 'memory', Version: 'v5' });
    expect([total('SessionsCreated'), total('StoreErrors'), total('SessionSize'), total('SessionAge')]).toEqual([1, 0, 3, 2]);
    // A save for the first request (no cookie yet, nothing to load), a load and a save for each other.
    expect(total('StoreLatency')).toBe(5);

    await client.post('/api/counter');
    const before = docs().length;
    expect(await app.stop()).toBe(0);
    await waitFor('the last window, sent on SIGTERM', async () => docs().slice(before).some((d) => d.SessionsSaved === 1));
  });

  test('publishes SessionsLost per color: an id this fleet signed that its memory no longer holds (as after a restart)', async () => {
    const { port } = agent.address() as AddressInfo;
    const app = await spawnApp({
      SESSION_STRATEGY: 'memory', SESSION_ID_KEYS: ID_KEY, SESSION_APP_COLOR: 'green', SESSION_APP_VERSION: 'v6', SESSION_METRICS_INTERVAL_SECONDS: '1',
      AWS_EMF_ENVIRONMENT: 'Agent', AWS_EMF_AGENT_ENDPOINT: `tcp://127.0.0.1:${port}`, AWS_EMF_LOG_GROUP_NAME: 'session-app', AWS_EMF_LOG_STREAM_NAME: 'i-test',
    });
    try {
      const lostId = new SessionIds([ID_KEY]).issue();
      await new Client(app.url).request('GET', '/api/session', { headers: { cookie: `sid=${lostId}` } });
      await new Client(app.url).get('/api/session');
      const docs = () => received.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)).filter((d) => d.Version === 'v6');
      await waitFor('an EMF document with SessionsLost 1', async () => docs().some((d) => d.SessionsLost === 1));
      const doc = docs().find((d) => d.SessionsLost === 1);
      expect(doc).toMatchObject({ Color: 'green', Strategy: 'memory', Version: 'v6', SessionsExpired: 0 });
      expect(doc._aws.CloudWatchMetrics).toEqual([{
        Namespace: APP_METRICS_NAMESPACE,
        Dimensions: [['Color'], ['Color', 'Strategy', 'Version']],
        Metrics: expect.arrayContaining([{ Name: SESSIONS_LOST_METRIC, Unit: 'Count' }, { Name: 'SessionsExpired', Unit: 'Count' }]),
      }]);
      expect(SESSIONS_LOST_METRIC).toBe('SessionsLost');
      // Two requests without a session in the store; only the one with an id the fleet signed was a loss.
      expect(docs().reduce((sum, d) => sum + d.SessionsLost, 0)).toBe(1);
    } finally {
      await app.stop();
    }
  });
});

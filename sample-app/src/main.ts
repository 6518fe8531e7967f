/**
 * The sample app's entry point: reads the environment once, builds the
 * session strategy, listens, and on SIGTERM or SIGINT stops accepting new
 * requests, lets those in flight finish, and exits.
 */
import { loadConfig } from './config';
import { startPublishing } from './emf';
import { instanceInfo } from './instance-info';
import { Metrics } from './metrics';
import { buildServer } from './server';
import { createSessions } from './sessions';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const metrics = new Metrics();
  const app = buildServer({
    config,
    metrics,
    sessions: await createSessions(config, metrics),
    instance: await instanceInfo(config.instanceMetadata, 2000, config.instanceName),
    logger: process.env.SESSION_APP_LOG !== 'false',
  });
  const stopPublishing = config.metricsIntervalSeconds > 0
    ? startPublishing(metrics, { Color: config.color, Strategy: config.strategy, Version: config.version }, config.metricsIntervalSeconds,
      (err) => app.log.warn({ err }, 'publishing metrics failed'))
    : async () => undefined;
  let closing = false;
  const stop = (signal: string) => {
    if (closing) {
      return;
    }
    closing = true;
    app.log.info({ signal }, 'draining in-flight requests');
    app.close().then(stopPublishing).then(() => process.exit(0), (err) => {
      app.log.error({ err }, 'close failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await app.listen({ host: config.host, port: config.port });
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

import { Unit, createMetricsLogger } from 'aws-embedded-metrics';
import { APP_METRICS_NAMESPACE, SESSIONS_LOST_METRIC } from '../../lib/contract/app-env';
import { Metrics } from './metrics';

/** The dimensions every metric carries. */
export interface MetricDimensions {
  readonly Color: string;
  readonly Strategy: string;
  readonly Version: string;
}

/**
 * Publishes one window of the app's metrics in CloudWatch Embedded Metric
 * Format with aws-embedded-metrics, whose sink and environment come from the
 * `AWS_EMF_*` variables: on EC2 the fleet points it at the CloudWatch agent
 * (`AWS_EMF_ENVIRONMENT=Agent`, TCP 127.0.0.1:25888), which ships it to the
 * fleet's log group, where CloudWatch turns it into metrics.
 *
 * Two dimension sets: `Color` (what the alarms and the dashboard read, stable
 * across releases) and `Color, Strategy, Version` (to tell releases apart).
 */
export async function publishWindow(metrics: Metrics, dimensions: MetricDimensions): Promise<void> {
  const window = metrics.takeWindow();
  const logger = createMetricsLogger();
  logger.setNamespace(APP_METRICS_NAMESPACE);
  logger.setDimensions([{ Color: dimensions.Color }, { ...dimensions }]);
  const c = window.counters;
  logger.putMetric('SessionsCreated', c.created, Unit.Count);
  logger.putMetric('SessionsLoaded', c.loaded, Unit.Count);
  logger.putMetric('SessionsSaved', c.saved, Unit.Count);
  logger.putMetric('SessionsDestroyed', c.destroyed, Unit.Count);
  logger.putMetric('SessionsRejected', c.rejected, Unit.Count);
  logger.putMetric(SESSIONS_LOST_METRIC, c.lost, Unit.Count);
  logger.putMetric('SessionsExpired', c.expired, Unit.Count);
  logger.putMetric('WriteConflicts', c.conflicted, Unit.Count);
  logger.putMetric('StoreErrors', c.storeErrors, Unit.Count);
  window.sessionBytes.forEach((v) => logger.putMetric('SessionSize', v, Unit.Bytes));
  window.sessionAgeSeconds.forEach((v) => logger.putMetric('SessionAge', v, Unit.Seconds));
  window.storeLatencyMs.forEach((v) => logger.putMetric('StoreLatency', v, Unit.Milliseconds));
  await logger.flush();
}

/** Publishes a window every `intervalSeconds` until the returned function is called, which publishes the last one. */
export function startPublishing(metrics: Metrics, dimensions: MetricDimensions, intervalSeconds: number, onError: (e: unknown) => void): () => Promise<void> {
  const publish = () => publishWindow(metrics, dimensions).catch(onError);
  const timer = setInterval(() => void publish(), intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await publish();
  };
}

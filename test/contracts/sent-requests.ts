/**
 * Collects the requests sent through mocked AWS SDK clients and checks each
 * one against AWS's service model the first time it is seen, so a test whose
 * handler sends a request AWS would refuse fails.
 */
import { ModelledService, loadModel, violations } from '../../local/aws-model';

/** A request as it left a handler. */
export interface SentRequest {
  readonly service: ModelledService;
  /** The operation, e.g. `CreateRule`. */
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** The part of an aws-sdk-client-mock stub this module reads. */
export interface MockedClient {
  calls(): readonly { readonly args: readonly unknown[] }[];
}

/** What {@link RequestLog} has checked, by operation: the figures a report quotes. */
export type CheckedCounts = Record<string, number>;

/** The requests of some mocked clients, each checked against its service's model once. */
export class RequestLog {
  /** sinon numbers every call across all spies; a call object is made anew on each read, its id is not. */
  private readonly seen = new Set<number>();
  /** Requests checked so far, by `service:operation`. */
  public readonly counts: CheckedCounts = {};

  constructor(private readonly clients: readonly { readonly service: ModelledService; readonly mock: MockedClient }[]) {}

  /**
   * The requests sent since the last call, in the order sent; throws one
   * Error naming every violation of the service models among them.
   */
  public takeNew(): SentRequest[] {
    const fresh: (SentRequest & { order: number })[] = [];
    for (const { service, mock } of this.clients) {
      for (const call of mock.calls()) {
        const order = (call as unknown as { callId: number }).callId;
        if (this.seen.has(order)) {
          continue;
        }
        this.seen.add(order);
        const command = call.args[0] as { constructor: { name: string }; input: Record<string, unknown> };
        fresh.push({ service, operation: command.constructor.name.replace(/Command$/, ''), input: command.input, order });
      }
    }
    // The ids also put the clients' calls back in the order they were sent.
    fresh.sort((a, b) => a.order - b.order);
    const problems: string[] = [];
    for (const request of fresh) {
      const key = `${request.service}:${request.operation}`;
      this.counts[key] = (this.counts[key] ?? 0) + 1;
      problems.push(...violations(loadModel(request.service), request.operation, request.input).map((v) => `${request.operation} ${v}`));
    }
    if (problems.length > 0) {
      throw new Error(`AWS would refuse ${problems.length === 1 ? 'this request' : 'these requests'}:\n  ${problems.join('\n  ')}`);
    }
    return fresh.map(({ order: _order, ...request }) => request);
  }
}

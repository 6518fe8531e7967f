/**
 * CloudFormation's lifecycle of one custom resource, as the lab drives it: the
 * requests CloudFormation sends across deploys and rollbacks, through the
 * aws-cdk-lib custom-resources provider framework (onEvent, then isComplete
 * polled every `queryInterval` until `totalTimeout`), to two Lambda functions
 * (lab/lambda.ts).
 *
 * CloudFormation's side:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-create.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-delete.html
 * The provider framework's side: node_modules/aws-cdk-lib/custom-resources/README.md
 * ("Asynchronous Providers: isComplete", "When there are errors", "Important
 * cases to handle") and its runtime (custom-resources/lib/provider-framework/runtime/framework.js,
 * cfn-response.js; the waiter's retry policy in util.js).
 */
import { randomUUID } from 'crypto';
import { isDeepStrictEqual } from 'util';
import { setTimeout as sleep } from 'timers/promises';
import { LambdaFunction } from './lambda';

/** The provider framework's physical id for a create that failed: the Delete that follows is answered without calling the handler (cfn-response.js). */
const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';

/** The waiter's polling, scaled down for the lab: `queryInterval` and `totalTimeout` of `cr.Provider`. */
export interface ProviderSettings {
  readonly queryIntervalMs: number;
  readonly totalTimeoutMs: number;
}

/** A request CloudFormation sends to a custom resource's service token. */
export interface CloudFormationRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly RequestId: string;
  readonly ResponseURL: string;
  readonly ResourceType: string;
  readonly LogicalResourceId: string;
  readonly StackId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Record<string, unknown>;
  readonly OldResourceProperties?: Record<string, unknown>;
}

/** What the provider answers CloudFormation (the response object cfn-response.js PUTs to the ResponseURL). */
export interface ProviderResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, unknown>;
}

/** One request CloudFormation sent and how it ended. */
export interface RequestRecord {
  /** Why CloudFormation sent it: the deploy itself, the rollback after a failure, or the cleanup after a replacement. */
  readonly phase: 'deploy' | 'rollback' | 'cleanup';
  readonly request: CloudFormationRequest;
  readonly response: ProviderResponse;
  /** isComplete calls the waiter made. */
  readonly polls: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * The provider framework: onEvent once, then (for an asynchronous provider)
 * isComplete at once and again every `queryInterval`, at most
 * `totalTimeout / queryInterval` more times (the waiter state machine's
 * retry policy: MaxAttempts, IntervalSeconds, BackoffRate 1), after which it
 * answers FAILED "Operation timed out". A handler error answers FAILED; a
 * failed Create answers with {@link CREATE_FAILED_MARKER} as its physical id.
 */
export class Provider {
  /** The waiter's polling: deployed with the stack, so a deploy may change it (the construct sizes it to the plan). */
  public settings: ProviderSettings;

  constructor(private readonly onEvent: LambdaFunction, private readonly isComplete: LambdaFunction, settings: ProviderSettings) {
    this.settings = settings;
  }

  /** Handles one request as the framework does; resolves with its answer to CloudFormation and the polls it made. */
  public async handle(request: CloudFormationRequest): Promise<{ response: ProviderResponse; polls: number }> {
    if (request.RequestType === 'Delete' && request.PhysicalResourceId === CREATE_FAILED_MARKER) {
      // "If a Create event fails, the resource provider framework will automatically ignore the subsequent Delete operation".
      return { response: { Status: 'SUCCESS', PhysicalResourceId: CREATE_FAILED_MARKER }, polls: 0 };
    }
    let event: Record<string, unknown> & { PhysicalResourceId?: string } = { ...request };
    let polls = 0;
    try {
      const result = (await this.onEvent.invoke(event)) as Record<string, unknown> | null;
      // createResponseEvent: the handler's PhysicalResourceId, else the RequestId on Create and the current one otherwise.
      const physical = (result?.PhysicalResourceId as string | undefined)
        || (request.RequestType === 'Create' ? request.RequestId : request.PhysicalResourceId!);
      if (request.RequestType === 'Delete' && physical !== request.PhysicalResourceId) {
        throw new Error(`DELETE: cannot change the physical resource ID from "${request.PhysicalResourceId}" to "${physical}" during deletion`);
      }
      event = { ...request, ...result, PhysicalResourceId: physical };
      const maxAttempts = this.settings.totalTimeoutMs / this.settings.queryIntervalMs;
      // calculateRetryPolicy: "Cannot determine retry count since totalTimeout=... is not integrally dividable by queryInterval=...".
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
        throw new RangeError(`totalTimeout (${this.settings.totalTimeoutMs} ms) must be a whole number of queryIntervals (${this.settings.queryIntervalMs} ms)`);
      }
      for (let attempt = 0; ; attempt++) {
        polls++;
        const done = (await this.isComplete.invoke(event)) as { IsComplete?: boolean; Data?: Record<string, unknown> };
        if (done.IsComplete) {
          return { response: { Status: 'SUCCESS', PhysicalResourceId: physical, Data: { ...event.Data as object, ...done.Data } }, polls };
        }
        if (done.Data && Object.keys(done.Data).length > 0) {
          throw new Error('"Data" is not allowed if "IsComplete" is "False"');
        }
        if (attempt >= maxAttempts) {
          return { response: { Status: 'FAILED', Reason: 'Operation timed out', PhysicalResourceId: physical }, polls };
        }
        await sleep(this.settings.queryIntervalMs);
      }
    } catch (e) {
      const physical = event.PhysicalResourceId ?? (request.RequestType === 'Create' ? CREATE_FAILED_MARKER : undefined);
      return { response: { Status: 'FAILED', Reason: (e as Error).message, PhysicalResourceId: physical ?? 'AWSCDK::CustomResourceProviderFramework::MISSING_PHYSICAL_ID' }, polls };
    }
  }
}

/** A stack's state after an operation, as CloudFormation names it. */
export type StackStatus =
  | 'CREATE_COMPLETE' | 'ROLLBACK_COMPLETE' | 'ROLLBACK_FAILED'
  | 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_COMPLETE' | 'DELETE_FAILED';

/** What one stack operation did to the custom resource. */
export interface StackOperation {
  readonly status: StackStatus;
  /** The requests CloudFormation sent, in order. */
  readonly requests: readonly RequestRecord[];
  /** Why the deploy failed, when it did: the first FAILED answer's reason. */
  readonly reason?: string;
}

/**
 * One custom resource in one stack, and the requests CloudFormation sends it
 * as the stack is created, updated (rolled back on failure) and deleted.
 */
export class CustomResourceStack {
  /** The physical id CloudFormation holds for the resource; undefined while it does not exist. */
  public physicalResourceId?: string;
  /** The properties of the last successful deploy. */
  public properties?: Record<string, unknown>;
  /** The attributes (`Fn::GetAtt`) of the last successful deploy. */
  public data?: Record<string, unknown>;
  /** Every request sent so far. */
  public readonly history: RequestRecord[] = [];
  private readonly stackId = `arn:aws:cloudformation:eu-west-1:123456789012:stack/lab/${randomUUID()}`;

  constructor(
    public readonly provider: Provider,
    private readonly serviceToken: string,
    private readonly logicalId = 'TrafficShift',
    private readonly resourceType = 'Custom::BlueGreenTrafficShift',
  ) {}

  /** Creates the resource; on failure the stack rolls back, which deletes what the failed create left (the Delete CloudFormation sends). */
  public async create(properties: Record<string, unknown>): Promise<StackOperation> {
    const props = this.withToken(properties);
    const created = await this.send('deploy', { RequestType: 'Create', ResourceProperties: props });
    if (created.response.Status === 'SUCCESS') {
      this.set(created.response, props);
      return { status: 'CREATE_COMPLETE', requests: [created] };
    }
    // On rollback CloudFormation deletes the resource by the physical id the failed create answered with.
    const deleted = await this.send('rollback', { RequestType: 'Delete', PhysicalResourceId: created.response.PhysicalResourceId, ResourceProperties: props });
    return { status: deleted.response.Status === 'SUCCESS' ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED', requests: [created, deleted], reason: created.response.Reason };
  }

  /**
   * Updates the resource's properties. Unchanged properties send nothing
   * (CloudFormation sends Update "when the template developer makes changes
   * to the properties"). A new physical id in the answer is a replacement:
   * after success, the cleanup deletes the old one with its old properties.
   * A failure rolls back: an Update with the old properties as the new ones
   * and the failed ones as the old ("with ResourceProperties and
   * OldResourceProperties reversed"). `otherResourceFails` makes the stack
   * fail after this resource updated, which rolls it back the same way.
   */
  public async update(properties: Record<string, unknown>, options: { otherResourceFails?: boolean } = {}): Promise<StackOperation> {
    if (!this.physicalResourceId || !this.properties) {
      throw new Error('update: the resource does not exist; create it first');
    }
    const props = this.withToken(properties);
    const old = { physical: this.physicalResourceId, props: this.properties };
    if (isDeepStrictEqual(props, old.props) && !options.otherResourceFails) {
      return { status: 'UPDATE_COMPLETE', requests: [] };
    }
    const updated = await this.send('deploy', { RequestType: 'Update', PhysicalResourceId: old.physical, ResourceProperties: props, OldResourceProperties: old.props });
    if (updated.response.Status === 'SUCCESS' && !options.otherResourceFails) {
      this.set(updated.response, props);
      const requests = [updated];
      if (updated.response.PhysicalResourceId !== old.physical) {
        // The cleanup phase; a failed delete there is reported, and the update still succeeds (the old resource is abandoned).
        requests.push(await this.send('cleanup', { RequestType: 'Delete', PhysicalResourceId: old.physical, ResourceProperties: old.props }));
      }
      return { status: 'UPDATE_COMPLETE', requests };
    }
    const rolledBack = await this.send('rollback', {
      RequestType: 'Update',
      PhysicalResourceId: old.physical,
      ResourceProperties: old.props,
      OldResourceProperties: props,
    });
    const requests = [updated, rolledBack];
    if (rolledBack.response.Status !== 'SUCCESS') {
      return { status: 'UPDATE_ROLLBACK_FAILED', requests, reason: updated.response.Reason ?? 'another resource failed' };
    }
    this.set(rolledBack.response, old.props);
    if (updated.response.Status === 'SUCCESS' && updated.response.PhysicalResourceId !== old.physical) {
      // The replacement made by the update that the stack then rolled back: deleted in the rollback's cleanup.
      requests.push(await this.send('cleanup', { RequestType: 'Delete', PhysicalResourceId: updated.response.PhysicalResourceId, ResourceProperties: props }));
    }
    return { status: 'UPDATE_ROLLBACK_COMPLETE', requests, reason: updated.response.Reason ?? 'another resource failed' };
  }

  /** Deletes the resource (the stack deleted, or the resource removed from it). */
  public async delete(): Promise<StackOperation> {
    if (!this.physicalResourceId || !this.properties) {
      throw new Error('delete: the resource does not exist');
    }
    const deleted = await this.send('deploy', { RequestType: 'Delete', PhysicalResourceId: this.physicalResourceId, ResourceProperties: this.properties });
    if (deleted.response.Status !== 'SUCCESS') {
      return { status: 'DELETE_FAILED', requests: [deleted], reason: deleted.response.Reason };
    }
    this.physicalResourceId = undefined;
    this.properties = undefined;
    this.data = undefined;
    return { status: 'DELETE_COMPLETE', requests: [deleted] };
  }

  private withToken(properties: Record<string, unknown>): Record<string, unknown> {
    // CloudFormation passes the ServiceToken among the resource properties.
    return { ServiceToken: this.serviceToken, ...properties };
  }

  private set(response: ProviderResponse, props: Record<string, unknown>): void {
    this.physicalResourceId = response.PhysicalResourceId;
    this.properties = props;
    this.data = response.Data;
  }

  private async send(phase: RequestRecord['phase'], fields: Pick<CloudFormationRequest, 'RequestType' | 'PhysicalResourceId' | 'ResourceProperties' | 'OldResourceProperties'>): Promise<RequestRecord> {
    const requestId = randomUUID();
    const request: CloudFormationRequest = {
      ...fields,
      RequestId: requestId,
      ResponseURL: `https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/lab/${requestId}`,
      ResourceType: this.resourceType,
      LogicalResourceId: this.logicalId,
      StackId: this.stackId,
    };
    const startedAt = Date.now();
    const { response, polls } = await this.provider.handle(request);
    const record = { phase, request, response, polls, startedAt, endedAt: Date.now() };
    this.history.push(record);
    return record;
  }
}

/**
 * The release's hook: a Lambda function of the team's, called synchronously
 * at each stage with what the release is doing (`HookRequest`), answering
 * `{ "hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS", "reason"?: "..." }`
 * as Amazon ECS's lifecycle hooks do
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html).
 * A function that errors, times out or answers anything else fails the stage:
 * a gate the shifter cannot read fails rather than passes unseen.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { HOOK_ANSWER_SECONDS, HookRequest, HookStatus } from '../../lib/contract/traffic-shift';

const lambda = new LambdaClient({});


/** The hook's answer, read. */
export interface HookAnswer {
  readonly status: HookStatus;
  /** What the hook said, or what was wrong with its answer. */
  readonly reason?: string;
}

/** Calls the hook once and reads its answer. */
export async function callHook(functionArn: string, request: HookRequest): Promise<HookAnswer> {
  let response;
  try {
    // RequestResponse: the answer comes back in this call (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
    response = await lambda.send(new InvokeCommand({
      FunctionName: functionArn,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(request)),
    }), { abortSignal: AbortSignal.timeout(HOOK_ANSWER_SECONDS * 1000 + 5000) });
  } catch (e) {
    return { status: HookStatus.FAILED, reason: `the hook could not be called: ${(e as Error).name}: ${(e as Error).message}` };
  }
  const payload = response.Payload ? new TextDecoder().decode(response.Payload) : '';
  if (response.FunctionError) {
    // The payload then holds the function's error, as { errorType, errorMessage }.
    return { status: HookStatus.FAILED, reason: `the hook failed (${response.FunctionError}): ${payload.slice(0, 500)}` };
  }
  return readAnswer(payload);
}

/** Reads a hook's answer; anything but the documented shape fails the stage. */
export function readAnswer(payload: string): HookAnswer {
  let answer: unknown;
  try {
    answer = JSON.parse(payload);
  } catch {
    return { status: HookStatus.FAILED, reason: `the hook answered something that is not JSON: ${JSON.stringify(payload.slice(0, 200))}` };
  }
  const { hookStatus, reason } = (typeof answer === 'object' && answer !== null ? answer : {}) as { hookStatus?: unknown; reason?: unknown };
  if (!Object.values(HookStatus).includes(hookStatus as HookStatus)) {
    return {
      status: HookStatus.FAILED,
      reason: `the hook answered ${JSON.stringify(payload.slice(0, 200))}; it must answer { "hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS" }`,
    };
  }
  return { status: hookStatus as HookStatus, reason: typeof reason === 'string' ? reason.slice(0, 500) : undefined };
}

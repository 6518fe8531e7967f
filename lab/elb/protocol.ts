/**
 * The wire protocols of the two services the traffic shifter calls, as the
 * SDK clients speak them, read and written from AWS's own service models
 * (local/aws-model.ts): ELBv2's awsQuery (a form-encoded POST, an XML answer
 * in the service's namespace, AWS's XML error), and CloudWatch's AWS JSON 1.0
 * with awsQueryCompatible errors, which @aws-sdk/client-cloudwatch 3.1164 sends.
 */
import { randomUUID } from 'crypto';
import { ServiceModel, ShapeRef } from '../../local/aws-model';

/** An error AWS answers with: its code (the model's `error.code`, e.g. `RuleNotFound`), which the SDK maps to its exception (`RuleNotFoundException`). */
export class ApiError extends Error {
  constructor(public readonly code: string, message: string, public readonly status = 400, public readonly senderFault = true) {
    super(message);
  }
}

/**
 * An awsQuery request's parameters as the operation's input structure: lists
 * from `Name.member.N`, structures from `Name.Member`, numbers and booleans
 * from their text. A value that does not read as its type is kept as text,
 * so that validation names it.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
export function parseQueryInput(model: ServiceModel, operation: string, params: URLSearchParams): Record<string, unknown> {
  const input = model.operations[operation]?.input;
  if (!input) {
    return {};
  }
  return (readParam(model, { shape: input.shape }, params, '') as Record<string, unknown> | undefined) ?? {};
}

function readParam(model: ServiceModel, ref: ShapeRef, params: URLSearchParams, key: string): unknown {
  const shape = model.shapes[ref.shape];
  const at = (name: string) => (key ? `${key}.${name}` : name);
  switch (shape.type) {
    case 'structure': {
      const out: Record<string, unknown> = {};
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        const value = readParam(model, member, params, at(member.locationName ?? name));
        if (value !== undefined) {
          out[name] = value;
        }
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    case 'list': {
      const items: unknown[] = [];
      const prefix = shape.flattened ? key : at(shape.member!.locationName ?? 'member');
      for (let i = 1; ; i++) {
        const item = readParam(model, shape.member!, params, `${prefix}.${i}`);
        if (item === undefined) {
          break;
        }
        items.push(item);
      }
      // An empty list is sent as the bare name with no value.
      return items.length > 0 ? items : params.has(key) ? [] : undefined;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      const prefix = shape.flattened ? key : at('entry');
      for (let i = 1; params.has(`${prefix}.${i}.key`); i++) {
        out[params.get(`${prefix}.${i}.key`)!] = readParam(model, shape.value!, params, `${prefix}.${i}.value`);
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    default: {
      const raw = params.get(key);
      if (raw === null) {
        return undefined;
      }
      if (['integer', 'long', 'double', 'float'].includes(shape.type)) {
        return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
      }
      if (shape.type === 'boolean') {
        return raw === 'true' ? true : raw === 'false' ? false : raw;
      }
      return raw;
    }
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One member as XML, by its shape: lists in `<member>` elements, timestamps in ISO 8601, booleans as `true`/`false`. */
function toXml(model: ServiceModel, ref: ShapeRef, value: unknown, name: string): string {
  if (value === undefined || value === null) {
    return '';
  }
  const shape = model.shapes[ref.shape];
  switch (shape.type) {
    case 'structure': {
      const fields = value as Record<string, unknown>;
      const inner = Object.entries(shape.members ?? {}).map(([member, m]) => toXml(model, m, fields[member], m.locationName ?? member)).join('');
      return `<${name}>${inner}</${name}>`;
    }
    case 'list': {
      const items = (value as unknown[]).map((item) => toXml(model, shape.member!, item, shape.flattened ? name : shape.member!.locationName ?? 'member')).join('');
      return shape.flattened ? items : `<${name}>${items}</${name}>`;
    }
    case 'timestamp':
      return `<${name}>${new Date(value as Date | number | string).toISOString()}</${name}>`;
    default:
      return `<${name}>${escapeXml(String(value))}</${name}>`;
  }
}

/** An awsQuery answer: `<{Op}Response xmlns=...><{Op}Result>...</{Op}Result><ResponseMetadata>...</ResponseMetadata></{Op}Response>`. */
export function queryResponse(model: ServiceModel, operation: string, output: Record<string, unknown>): string {
  const out = model.operations[operation].output;
  const result = out ? toXml(model, { shape: out.shape }, output, out.resultWrapper ?? `${operation}Result`) : '';
  return `<${operation}Response xmlns="${model.metadata.xmlNamespace}">${result}`
    + `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`;
}

/** AWS's XML error of the query protocol, which the SDK reads `Code` from. */
export function queryError(model: ServiceModel, error: ApiError): string {
  return `<ErrorResponse xmlns="${model.metadata.xmlNamespace}"><Error><Type>${error.senderFault ? 'Sender' : 'Receiver'}</Type>`
    + `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

/**
 * An AWS JSON 1.0 answer: timestamps as epoch seconds (the protocol's
 * default format), everything else as it is.
 * https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
 */
export function jsonResponse(output: Record<string, unknown>): string {
  return JSON.stringify(output, function (this: Record<string, unknown>, key, value) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : value;
  });
}

/**
 * The error of a service that speaks AWS JSON with awsQueryCompatible: the
 * `x-amzn-query-error` header carries the query protocol's code (the SDK
 * names the exception after it), the body its JSON form.
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#aws-protocols-awsquerycompatible-trait
 */
export function jsonError(error: ApiError): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'x-amzn-query-error': `${error.code};${error.senderFault ? 'Sender' : 'Receiver'}` },
    body: JSON.stringify({ __type: error.code, message: error.message }),
  };
}

/**
 * Checks a request against AWS's own service model of its operation: the
 * botocore JSON models AWS publishes, as Debian's python3-botocore installs
 * them. Mocked clients accept anything; this says what AWS would refuse.
 */
import { existsSync, readFileSync } from 'node:fs';

const BOTOCORE_DATA = '/usr/lib/python3/dist-packages/botocore/data';

/** The models the handlers' requests are checked against, by the service their clients talk to. */
export const MODEL_FILES = {
  elbv2: `${BOTOCORE_DATA}/elbv2/2015-12-01/service-2.json`,
  cloudwatch: `${BOTOCORE_DATA}/cloudwatch/2010-08-01/service-2.json`,
  secretsmanager: `${BOTOCORE_DATA}/secretsmanager/2017-10-17/service-2.json`,
  lambda: `${BOTOCORE_DATA}/lambda/2015-03-31/service-2.json`,
} as const;

/** A service the validator has a model for. */
export type ModelledService = keyof typeof MODEL_FILES;

/** A reference from a structure, list or map to another shape, and the name it has on the wire, when not its own. */
export interface ShapeRef {
  readonly shape: string;
  readonly locationName?: string;
}

/** One shape of a botocore model (the fields the validator and the lab's endpoint read). */
export interface Shape {
  readonly type: string;
  readonly members?: Readonly<Record<string, ShapeRef>>;
  readonly required?: readonly string[];
  readonly member?: ShapeRef;
  readonly key?: ShapeRef;
  readonly value?: ShapeRef;
  /** A list or map written without its wrapper element (awsQuery). */
  readonly flattened?: boolean;
  /** An error shape: the code AWS answers with. */
  readonly error?: { readonly code?: string; readonly httpStatusCode?: number; readonly senderFault?: boolean };
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
}

/** A botocore service model (the fields the validator reads). */
export interface ServiceModel {
  readonly metadata: {
    readonly endpointPrefix: string;
    readonly signingName?: string;
    readonly apiVersion: string;
    readonly protocol: string;
    readonly xmlNamespace?: string;
    readonly targetPrefix?: string;
  };
  readonly operations: Readonly<Record<string, {
    readonly input?: { readonly shape: string };
    readonly output?: { readonly shape: string; readonly resultWrapper?: string };
  }>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

const models = new Map<string, ServiceModel>();

/** Reads a service model; fails with the install command when Debian's package is missing. */
export function loadModel(service: ModelledService, file: string = MODEL_FILES[service]): ServiceModel {
  const cached = models.get(file);
  if (cached) {
    return cached;
  }
  if (!existsSync(file)) {
    throw new Error(`AWS service model for ${service} not found at ${file}; install Debian's package: apt-get install python3-botocore`);
  }
  const model = JSON.parse(readFileSync(file, 'utf8')) as ServiceModel;
  models.set(file, model);
  return model;
}

const patterns = new Map<string, RegExp>();

/** A model pattern as a JavaScript regex: the models write Java regexes; `\p{L}` and the like need the `u` flag. */
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    patterns.set(pattern, re);
  }
  return re;
}

/**
 * Every way `input` breaks the model of `operation`: unknown or missing
 * members, wrong types, string lengths and patterns, numeric ranges, enums,
 * list and map sizes, nested structures. Each entry names the member path and
 * the rule, e.g. `Tags[0].Value: "a,b" does not match ^([\p{L}...]*)$`.
 */
export function violations(model: ServiceModel, operation: string, input: unknown): string[] {
  const op = model.operations[operation];
  if (!op) {
    return [`${operation}: no such operation in the ${model.metadata.endpointPrefix} ${model.metadata.apiVersion} model`];
  }
  const found: string[] = [];
  if (op.input) {
    walk(model, op.input.shape, input ?? {}, '', found);
  }
  return found;
}

function walk(model: ServiceModel, shapeName: string, value: unknown, path: string, found: string[]): void {
  const shape = model.shapes[shapeName];
  const at = path || '(input)';
  const show = JSON.stringify(value);
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        found.push(`${at}: must be a structure (${shapeName}), got ${show}`);
        return;
      }
      const fields = value as Record<string, unknown>;
      for (const name of shape.required ?? []) {
        if (fields[name] === undefined) {
          found.push(`${join(path, name)}: is required by ${shapeName}, got nothing`);
        }
      }
      for (const [name, member] of Object.entries(fields)) {
        if (member === undefined) {
          continue; // the SDK leaves undefined members out of the request
        }
        const spec = shape.members?.[name];
        if (!spec) {
          found.push(`${join(path, name)}: is not a member of ${shapeName}`);
          continue;
        }
        walk(model, spec.shape, member, join(path, name), found);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        found.push(`${at}: must be a list (${shapeName}), got ${show}`);
        return;
      }
      sized(shape, value.length, 'items', at, found);
      value.forEach((item, i) => walk(model, shape.member!.shape, item, `${path}[${i}]`, found));
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        found.push(`${at}: must be a map (${shapeName}), got ${show}`);
        return;
      }
      const entries = Object.entries(value as Record<string, unknown>);
      sized(shape, entries.length, 'entries', at, found);
      for (const [key, item] of entries) {
        walk(model, shape.key!.shape, key, `${path}{key ${JSON.stringify(key)}}`, found);
        walk(model, shape.value!.shape, item, `${path}[${JSON.stringify(key)}]`, found);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') {
        found.push(`${at}: must be a string (${shapeName}), got ${show}`);
        return;
      }
      sized(shape, value.length, 'characters', at, found);
      if (shape.pattern !== undefined && !compiled(shape.pattern).test(value)) {
        found.push(`${at}: ${show} does not match ${shape.pattern}`);
      }
      if (shape.enum && !shape.enum.includes(value)) {
        found.push(`${at}: ${show} is not one of ${shape.enum.join(', ')}`);
      }
      return;
    }
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        found.push(`${at}: must be a whole number (${shapeName}), got ${show}`);
        return;
      }
      ranged(shape, value, at, found);
      return;
    case 'double':
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        found.push(`${at}: must be a number (${shapeName}), got ${show}`);
        return;
      }
      ranged(shape, value, at, found);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') {
        found.push(`${at}: must be true or false (${shapeName}), got ${show}`);
      }
      return;
    case 'timestamp':
      if (!(value instanceof Date) && typeof value !== 'number' && typeof value !== 'string') {
        found.push(`${at}: must be a timestamp (${shapeName}), got ${show}`);
      }
      return;
    case 'blob':
      if (!(value instanceof Uint8Array) && typeof value !== 'string') {
        found.push(`${at}: must be bytes (${shapeName}), got ${show}`);
      }
      return;
    default:
      found.push(`${at}: shape type ${shape.type} (${shapeName}) is not known to the validator`);
  }
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function sized(shape: Shape, size: number, unit: string, at: string, found: string[]): void {
  if (shape.min !== undefined && size < shape.min) {
    found.push(`${at}: has ${size} ${unit}, fewer than the minimum ${shape.min}`);
  }
  if (shape.max !== undefined && size > shape.max) {
    found.push(`${at}: has ${size} ${unit}, more than the maximum ${shape.max}`);
  }
}

function ranged(shape: Shape, value: number, at: string, found: string[]): void {
  if (shape.min !== undefined && value < shape.min) {
    found.push(`${at}: ${value} is below the minimum ${shape.min}`);
  }
  if (shape.max !== undefined && value > shape.max) {
    found.push(`${at}: ${value} is above the maximum ${shape.max}`);
  }
}

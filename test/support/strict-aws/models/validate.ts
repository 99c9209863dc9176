/**
 * One decoded input against the operation's input shape: the constraints a
 * Smithy service enforces after deserializing
 * (https://smithy.io/2.0/spec/constraint-traits.html#constraint-trait-enforcement):
 * required members, length (string in Unicode scalar values, blob in bytes,
 * list and map in entries), range, pattern (patterns.ts), enum, one member
 * of a union, and each value's type. Messages use AWS's own wording
 * ("1 validation error detected: Value at 'x' failed to satisfy constraint:
 * Member must have length less than or equal to 64").
 */
import { memberPath, type Decoded, type Problem } from './decoded.js';
import { resolve, type ServiceModel, type Shape, type ShapeRef } from './loader.js';
import { compiledPattern } from './patterns.js';

export interface Verdict {
  readonly problems: Problem[];
  /** Patterns met on the way that JavaScript cannot compile, so not checked. */
  readonly skippedPatterns: string[];
}

interface Walk {
  readonly model: ServiceModel;
  readonly verdict: Verdict;
}

function problem(walk: Walk, found: Problem): void {
  walk.verdict.problems.push(found);
}

function isObject(value: Decoded): value is { [member: string]: Decoded } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkSize(walk: Walk, shape: Shape, size: number, path: string, unit: string): void {
  const received = `${unit} ${size}`;
  if (shape.min !== undefined && size < shape.min) {
    problem(walk, {
      kind: 'length',
      path,
      constraint: `Member must have length greater than or equal to ${shape.min}`,
      received,
    });
  }
  if (shape.max !== undefined && size > shape.max) {
    problem(walk, {
      kind: 'length',
      path,
      constraint: `Member must have length less than or equal to ${shape.max}`,
      received,
    });
  }
}

function checkString(walk: Walk, shape: Shape, value: string, path: string, secret: boolean) {
  checkSize(walk, shape, [...value].length, path, 'length');
  if (shape.enum !== undefined && !shape.enum.includes(value)) {
    problem(walk, {
      kind: 'enum',
      path,
      constraint: `Member must satisfy enum value set: [${shape.enum.join(', ')}]`,
      ...(secret || value.length > 64 ? {} : { received: `'${value}'` }),
    });
  }
  if (shape.pattern === undefined) return;
  const { regex, skipped } = compiledPattern(shape.pattern);
  if (regex === undefined) {
    walk.verdict.skippedPatterns.push(`${shape.pattern} (${skipped ?? ''})`);
  } else if (!regex.test(value)) {
    problem(walk, {
      kind: 'pattern',
      path,
      constraint: `Member must satisfy regular expression pattern: ${shape.pattern}`,
      // The value may be a token or a header secret: only its length is shown.
      received: `length ${[...value].length}`,
    });
  }
}

function checkNumber(walk: Walk, shape: Shape, value: number, path: string): void {
  if (shape.min !== undefined && value < shape.min) {
    problem(walk, {
      kind: 'range',
      path,
      constraint: `Member must have value greater than or equal to ${shape.min}`,
      received: String(value),
    });
  }
  if (shape.max !== undefined && value > shape.max) {
    problem(walk, {
      kind: 'range',
      path,
      constraint: `Member must have value less than or equal to ${shape.max}`,
      received: String(value),
    });
  }
}

function checkStructure(
  walk: Walk,
  shape: Shape,
  value: { [member: string]: Decoded },
  path: string,
  secret: boolean,
): void {
  for (const name of shape.required ?? []) {
    if (value[name] === undefined || value[name] === null) {
      problem(walk, {
        kind: 'required',
        path: memberPath(path, name),
        constraint: 'Member must not be null',
      });
    }
  }
  const set = Object.keys(value).filter((name) => value[name] !== null);
  if (shape.union === true && set.length !== 1) {
    problem(walk, {
      kind: 'union',
      path: path === '' ? '(input)' : path,
      constraint: `Exactly one member of the union must be set, not ${set.length}`,
    });
  }
  for (const name of set) {
    const ref = shape.members?.[name];
    const item = value[name];
    if (ref !== undefined && item !== undefined) {
      check(walk, ref, item, memberPath(path, name), secret);
    }
  }
}

/** The JS type each shape type decodes to. */
function typeError(shape: Shape, value: Decoded): string | undefined {
  switch (shape.type) {
    case 'structure':
      return shape.document === true || isObject(value) ? undefined : 'a structure';
    case 'list':
      return Array.isArray(value) ? undefined : 'a list';
    case 'map':
      return isObject(value) ? undefined : 'a map';
    case 'integer':
    case 'long':
      return Number.isInteger(value) ? undefined : 'an integer';
    case 'float':
    case 'double':
      return typeof value === 'number' ? undefined : 'a number';
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'a boolean';
    case 'timestamp':
      return typeof value === 'number' ||
        (typeof value === 'string' && !Number.isNaN(Date.parse(value)))
        ? undefined
        : 'a timestamp';
    default:
      // string, blob (base64 text)
      return typeof value === 'string' ? undefined : 'a string';
  }
}

function check(walk: Walk, ref: ShapeRef, value: Decoded, path: string, secret: boolean): void {
  const shape = resolve(walk.model, ref);
  const hidden = secret || shape.sensitive === true;
  const expected = typeError(shape, value);
  if (expected !== undefined) {
    const received = Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
    problem(walk, { kind: 'type', path, constraint: `Member must be ${expected}`, received });
    return;
  }
  if (isObject(value) && shape.type === 'structure' && shape.document !== true) {
    checkStructure(walk, shape, value, path, hidden);
  } else if (Array.isArray(value)) {
    checkSize(walk, shape, value.length, path, 'items');
    value.forEach((item, i) => {
      if (item !== null) check(walk, shape.member as ShapeRef, item, `${path}[${i}]`, hidden);
    });
  } else if (isObject(value) && shape.type === 'map') {
    const entries = Object.entries(value);
    checkSize(walk, shape, entries.length, path, 'entries');
    for (const [key, item] of entries) {
      check(walk, shape.key as ShapeRef, key, `${path}{${key}}`, hidden);
      if (item !== null) check(walk, shape.value as ShapeRef, item, memberPath(path, key), hidden);
    }
  } else if (typeof value === 'string' && shape.type === 'blob') {
    checkSize(walk, shape, Buffer.from(value, 'base64').length, path, 'bytes');
  } else if (typeof value === 'string' && shape.type === 'string') {
    checkString(walk, shape, value, path, hidden);
  } else if (typeof value === 'number' && shape.type !== 'timestamp') {
    checkNumber(walk, shape, value, path);
  }
}

/** Everything in `input` the operation's input shape does not allow. */
export function validateInput(
  model: ServiceModel,
  inputRef: ShapeRef | undefined,
  input: Decoded,
): Verdict {
  const verdict: Verdict = { problems: [], skippedPatterns: [] };
  if (inputRef !== undefined) check({ model, verdict }, inputRef, input, '', false);
  return verdict;
}

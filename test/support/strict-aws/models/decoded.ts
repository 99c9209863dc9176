/**
 * What the protocol decoders produce: the operation's input as the SDK user
 * wrote it (member names, JS numbers and booleans, arrays, objects), whatever
 * the wire form, so one validator (validate.ts) checks every protocol.
 */
import type { Shape } from './loader.js';

export type Decoded = string | number | boolean | null | Decoded[] | { [member: string]: Decoded };

export type ProblemKind =
  'required' | 'length' | 'range' | 'pattern' | 'enum' | 'type' | 'union' | 'unknown';

/** One way the request breaks the model, with the member's path in the input (`Tags[0].Key`). */
export interface Problem {
  readonly kind: ProblemKind;
  readonly path: string;
  /** In AWS's wording: "Member must have length less than or equal to 64". */
  readonly constraint: string;
  /** What was received, when it is safe to show (never a value of a sensitive shape). */
  readonly received?: string;
}

export function memberPath(parent: string, member: string): string {
  return parent === '' ? member : `${parent}.${member}`;
}

/**
 * A text value (form field, XML element, header, URI label) as the shape's
 * type. A text that is not of the type stays a string, which the validator
 * reports as a type error.
 */
export function fromText(shape: Shape, text: string): Decoded {
  switch (shape.type) {
    case 'integer':
    case 'long':
      return /^-?\d+$/.test(text) ? Number(text) : text;
    case 'float':
    case 'double':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    default:
      // string, timestamp (ISO 8601 or epoch text), blob (base64)
      return text;
  }
}

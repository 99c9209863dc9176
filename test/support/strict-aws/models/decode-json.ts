/**
 * The JSON protocols (awsJson1_0, awsJson1_1) back into the input structure:
 * the body is the input, each member under its name (or its locationName, as
 * botocore's JSONSerializer writes it), timestamps as epoch seconds, blobs as
 * base64 (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#shape-serialization).
 * Only the member names change; the validator checks the values' types.
 */
import { memberPath, type Decoded, type Problem } from './decoded.js';
import { resolve, type ServiceModel, type Shape, type ShapeRef } from './loader.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeValue(
  model: ServiceModel,
  shape: Shape,
  value: unknown,
  path: string,
  problems: Problem[],
): Decoded {
  if (shape.type === 'structure' && shape.document !== true && isObject(value)) {
    const members = Object.entries(shape.members ?? {});
    const out: Record<string, Decoded> = {};
    for (const [key, item] of Object.entries(value)) {
      const found = members.find(([name, ref]) => (ref.locationName ?? name) === key);
      if (found === undefined) {
        problems.push({
          kind: 'unknown',
          path: memberPath(path, key),
          constraint: 'The member is not in the model',
        });
        continue;
      }
      const [name, ref] = found;
      out[name] = decodeValue(model, resolve(model, ref), item, memberPath(path, name), problems);
    }
    return out;
  }
  if (shape.type === 'list' && Array.isArray(value)) {
    const member = resolve(model, shape.member as ShapeRef);
    return value.map((item, i) => decodeValue(model, member, item, `${path}[${i}]`, problems));
  }
  if (shape.type === 'map' && isObject(value)) {
    const valueShape = resolve(model, shape.value as ShapeRef);
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        decodeValue(model, valueShape, item, memberPath(path, key), problems),
      ]),
    );
  }
  // Scalars, documents, and values of the wrong JSON type: as received.
  return value as Decoded;
}

/** The input of a JSON request (its parsed body), and every key the input has no member for. */
export function decodeJson(
  model: ServiceModel,
  input: ShapeRef | undefined,
  body: Readonly<Record<string, unknown>>,
): { input: Decoded; problems: Problem[] } {
  const problems: Problem[] = [];
  if (input === undefined) return { input: {}, problems };
  return { input: decodeValue(model, resolve(model, input), body, '', problems), problems };
}

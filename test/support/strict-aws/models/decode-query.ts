/**
 * The form-encoded protocols back into the input structure, by the
 * serialization rules of
 * awsQuery (https://smithy.io/2.0/aws/protocols/aws-query-protocol.html#query-key-resolution):
 * a member's key is its locationName (xmlName) or its name; a list is
 * `Name.member.N` ("member" replaced by the list member's locationName),
 * `Name.N` when flattened, and an empty list is `Name=`; a map is
 * `Name.entry.N.key` / `.value` (key and value renamed by their locationName);
 * and ec2Query (https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html#query-key-resolution):
 * a member's key is its queryName, else its locationName capitalized, else its
 * name; every list is `Name.N` and an empty list is not sent. The same rules
 * as the installed SDK's QueryShapeSerializer (@aws-sdk/core protocols).
 */
import { fromText, memberPath, type Decoded, type Problem } from './decoded.js';
import { resolve, type ServiceModel, type Shape, type ShapeRef } from './loader.js';

interface QueryContext {
  readonly model: ServiceModel;
  readonly params: Readonly<Record<string, unknown>>;
  readonly ec2: boolean;
  readonly keys: readonly string[];
  readonly used: Set<string>;
}

function wireName(context: QueryContext, shape: Shape, name: string): string {
  if (!context.ec2) return shape.locationName ?? name;
  if (shape.queryName !== undefined) return shape.queryName;
  const location = shape.locationName;
  return location === undefined ? name : location.charAt(0).toUpperCase() + location.slice(1);
}

/** The N of every `prefix.N` or `prefix.N.…` key, ascending. */
function indices(context: QueryContext, prefix: string): number[] {
  const found = new Set<number>();
  for (const key of context.keys) {
    if (!key.startsWith(`${prefix}.`)) continue;
    const segment = key.slice(prefix.length + 1).split('.')[0] ?? '';
    if (/^\d+$/.test(segment)) found.add(Number(segment));
  }
  return [...found].sort((a, b) => a - b);
}

function decodeList(
  context: QueryContext,
  shape: Shape,
  key: string,
  path: string,
): Decoded | undefined {
  if (context.params[key] === '') {
    context.used.add(key);
    return [];
  }
  const member = resolve(context.model, shape.member as ShapeRef);
  const prefix =
    context.ec2 || shape.flattened === true ? key : `${key}.${member.locationName ?? 'member'}`;
  const found = indices(context, prefix);
  if (found.length === 0) return undefined;
  return found.map((n, i) => decodeAt(context, member, `${prefix}.${n}`, `${path}[${i}]`) ?? null);
}

function decodeMap(
  context: QueryContext,
  shape: Shape,
  key: string,
  path: string,
): Decoded | undefined {
  const keyShape = resolve(context.model, shape.key as ShapeRef);
  const valueShape = resolve(context.model, shape.value as ShapeRef);
  const prefix = shape.flattened === true ? key : `${key}.entry`;
  const found = indices(context, prefix);
  if (found.length === 0) return undefined;
  const map: Record<string, Decoded> = {};
  for (const n of found) {
    const entryKey = decodeAt(
      context,
      keyShape,
      `${prefix}.${n}.${keyShape.locationName ?? 'key'}`,
      path,
    );
    const valueKey = `${prefix}.${n}.${valueShape.locationName ?? 'value'}`;
    const name = typeof entryKey === 'string' ? entryKey : `#${n}`;
    map[name] = decodeAt(context, valueShape, valueKey, memberPath(path, name)) ?? null;
  }
  return map;
}

function decodeStructure(
  context: QueryContext,
  shape: Shape,
  key: string,
  path: string,
): Decoded | undefined {
  const out: Record<string, Decoded> = {};
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const member = resolve(context.model, ref);
    const wire = wireName(context, member, name);
    const value = decodeAt(
      context,
      member,
      key === '' ? wire : `${key}.${wire}`,
      memberPath(path, name),
    );
    if (value !== undefined) out[name] = value;
  }
  return Object.keys(out).length === 0 && key !== '' ? undefined : out;
}

function decodeAt(
  context: QueryContext,
  shape: Shape,
  key: string,
  path: string,
): Decoded | undefined {
  if (shape.type === 'structure') return decodeStructure(context, shape, key, path);
  if (shape.type === 'list') return decodeList(context, shape, key, path);
  if (shape.type === 'map') return decodeMap(context, shape, key, path);
  const text = context.params[key];
  if (typeof text !== 'string') return undefined;
  context.used.add(key);
  return fromText(shape, text);
}

/** Form fields that are the protocol's, not the operation's. */
const PROTOCOL_FIELDS = new Set(['Action', 'Version']);

/** The input of a query or EC2 request, and every form field the input has no member for. */
export function decodeQuery(
  model: ServiceModel,
  input: ShapeRef | undefined,
  params: Readonly<Record<string, unknown>>,
  ec2: boolean,
): { input: Decoded; problems: Problem[] } {
  const keys = Object.keys(params);
  const context: QueryContext = { model, params, ec2, keys, used: new Set() };
  const decoded =
    input === undefined ? {} : (decodeStructure(context, resolve(model, input), '', '') ?? {});
  const problems: Problem[] = keys
    .filter((key) => !PROTOCOL_FIELDS.has(key) && !context.used.has(key))
    .map((key) => ({
      kind: 'unknown',
      path: key,
      constraint: 'The parameter is not recognized',
    }));
  return { input: decoded, problems };
}

/**
 * REST-XML (CloudFront, Route 53) back into the input structure, by the
 * binding rules of https://smithy.io/2.0/aws/protocols/aws-restxml-protocol.html
 * and https://smithy.io/2.0/spec/http-bindings.html: a member with
 * `location` "uri" fills the `{Label}` (or greedy `{Label+}`) of the
 * operation's requestUri, "querystring" a query parameter (a list repeats
 * it, a map takes every parameter left), "header" a header (a list is
 * comma-separated). (No operation the tool calls binds a map to the query
 * string or to a header prefix; those bindings are not decoded.) The body is the
 * `payload` member as the root element, or else the other members inside a
 * root element. In the body a member is the element named by its
 * locationName (or its name); a list wraps elements named by its member's
 * locationName (default "member"), or repeats when flattened; a map is
 * `entry` elements of `key` and `value`.
 */
import { fromText, memberPath, type Decoded, type Problem } from './decoded.js';
import { resolve, type Operation, type ServiceModel, type Shape, type ShapeRef } from './loader.js';
import { parseXml, type XmlElement } from './xml.js';

export interface RestRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

interface XmlContext {
  readonly model: ServiceModel;
  readonly problems: Problem[];
}

function unknown(context: XmlContext, path: string, what: string): void {
  context.problems.push({ kind: 'unknown', path, constraint: `${what} is not in the model` });
}

function decodeStructure(context: XmlContext, shape: Shape, element: XmlElement, path: string) {
  const out: Record<string, Decoded> = {};
  const consumed = new Set<string>();
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    if (ref.location !== undefined) continue;
    const member = resolve(context.model, ref);
    const wire = member.locationName ?? name;
    const at = memberPath(path, name);
    if (member.xmlAttribute === true) {
      const text = element.attributes[wire];
      if (text !== undefined) out[name] = fromText(member, text);
      continue;
    }
    consumed.add(wire);
    const matching = element.children.filter((child) => child.name === wire);
    if (member.type === 'list' && member.flattened === true) {
      const item = resolve(context.model, member.member as ShapeRef);
      if (matching.length > 0) {
        out[name] = matching.map((child, i) => decodeElement(context, item, child, `${at}[${i}]`));
      }
    } else if (matching[0] !== undefined) {
      out[name] = decodeElement(context, member, matching[0], at);
    }
  }
  for (const child of element.children.filter((c) => !consumed.has(c.name))) {
    unknown(context, memberPath(path, child.name), `Element <${child.name}>`);
  }
  return out;
}

function decodeElement(
  context: XmlContext,
  shape: Shape,
  element: XmlElement,
  path: string,
): Decoded {
  if (shape.type === 'structure') return decodeStructure(context, shape, element, path);
  if (shape.type === 'list') {
    const item = resolve(context.model, shape.member as ShapeRef);
    const wire = item.locationName ?? 'member';
    const items: Decoded[] = [];
    for (const child of element.children) {
      if (child.name === wire) {
        items.push(decodeElement(context, item, child, `${path}[${items.length}]`));
      } else unknown(context, `${path}[${child.name}]`, `Element <${child.name}>`);
    }
    return items;
  }
  if (shape.type === 'map') {
    const keyShape = resolve(context.model, shape.key as ShapeRef);
    const valueShape = resolve(context.model, shape.value as ShapeRef);
    const map: Record<string, Decoded> = {};
    for (const entry of element.children) {
      const key = entry.children.find((c) => c.name === (keyShape.locationName ?? 'key'));
      const value = entry.children.find((c) => c.name === (valueShape.locationName ?? 'value'));
      const name = key?.text ?? '';
      map[name] =
        value === undefined
          ? null
          : decodeElement(context, valueShape, value, memberPath(path, name));
    }
    return map;
  }
  return fromText(shape, element.text);
}

/** `{Label}` and `{Label+}` of the requestUri's path, and its literal query (`WithTags`, `Operation=Tag`). */
function uriTemplate(requestUri: string): {
  path: RegExp;
  labels: string[];
  literalPairs: string[];
  literalQuery: string[];
} {
  const [template = '', query = ''] = requestUri.split('?');
  const labels: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const label = /^\{([^}+]+)(\+?)\}$/.exec(part);
      if (label === null) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      labels.push(label[1] ?? '');
      return label[2] === '+' ? '(.+)' : '([^/]+)';
    })
    .join('');
  const literalPairs = query === '' ? [] : query.split('&');
  const literalQuery = literalPairs.map((pair) => pair.split('=')[0] ?? '');
  // botocore writes some requestUris with a trailing slash (Route 53's
  // ChangeResourceRecordSets: /2013-04-01/hostedzone/{Id}/rrset/) that the
  // installed SDK does not send (its Smithy model has none): either form matches.
  const path = new RegExp(`^${source.replace(/\/$/, '')}/?$`);
  return { path, labels, literalPairs, literalQuery };
}

/**
 * The operation a REST request calls, by the model's own `http` bindings
 * (method, requestUri path and literal query), the most specific first: a
 * route for Route 53 or any REST service comes from its model, not a table.
 */
export function restOperation(
  model: ServiceModel,
  method: string,
  url: string,
): string | undefined {
  const parsed = new URL(url, 'http://localhost');
  // The SDK writes a valueless flag as `WithTags=`.
  const pairs = [...parsed.searchParams].map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  const matching = Object.entries(model.operations)
    .filter(([, op]) => op.http?.method === method)
    .map(([name, op]) => ({ name, template: uriTemplate(op.http?.requestUri ?? '') }))
    .filter(
      ({ template }) =>
        template.path.test(parsed.pathname) &&
        template.literalPairs.every((pair) => pairs.includes(pair)),
    )
    .sort(
      (a, b) =>
        b.template.literalPairs.length - a.template.literalPairs.length ||
        a.template.labels.length - b.template.labels.length,
    );
  return matching[0]?.name;
}

function header(wire: RestRequest, name: string): string | undefined {
  const value = wire.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function decodeBound(
  context: XmlContext,
  operation: Operation,
  input: Shape,
  wire: RestRequest,
): Record<string, Decoded> {
  const url = new URL(wire.url, 'http://localhost');
  const template = uriTemplate(operation.http?.requestUri ?? '/');
  const captures = template.path.exec(url.pathname)?.slice(1) ?? [];
  const unbound = new Set(
    [...url.searchParams.keys()].filter((k) => !template.literalQuery.includes(k)),
  );
  const out: Record<string, Decoded> = {};
  for (const [name, ref] of Object.entries(input.members ?? {})) {
    const member = resolve(context.model, ref);
    const wireName = member.locationName ?? name;
    let value: Decoded | undefined;
    if (member.location === 'uri') {
      const captured = captures[template.labels.indexOf(wireName)];
      if (captured !== undefined) value = fromText(member, decodeURIComponent(captured));
    } else if (member.location === 'querystring' && member.type !== 'map') {
      unbound.delete(wireName);
      const all = url.searchParams.getAll(wireName);
      const item =
        member.type === 'list' ? resolve(context.model, member.member as ShapeRef) : member;
      if (all.length > 0) {
        value =
          member.type === 'list'
            ? all.map((t) => fromText(item, t))
            : fromText(member, all[0] ?? '');
      }
    } else if (member.location === 'header') {
      const text = header(wire, wireName);
      if (text !== undefined) {
        const item =
          member.type === 'list' ? resolve(context.model, member.member as ShapeRef) : member;
        value =
          member.type === 'list'
            ? text.split(',').map((t) => fromText(item, t.trim()))
            : fromText(member, text);
      }
    }
    if (value !== undefined) out[name] = value;
  }
  for (const key of unbound) unknown(context, key, `Query parameter "${key}"`);
  return out;
}

function decodeBody(context: XmlContext, input: Shape, inputName: string, body: string) {
  if (body.trim() === '') return {};
  if (input.payload !== undefined) {
    const ref = input.members?.[input.payload] as ShapeRef;
    const payload = resolve(context.model, ref);
    if (payload.type !== 'structure') return { [input.payload]: body };
    const root = parseXml(body);
    const expected = payload.locationName ?? input.payload;
    if (root.name !== expected) unknown(context, root.name, `Root element <${root.name}>`);
    return { [input.payload]: decodeElement(context, payload, root, input.payload) };
  }
  const root = parseXml(body);
  const expected = input.locationName ?? inputName;
  if (root.name !== expected) unknown(context, root.name, `Root element <${root.name}>`);
  return decodeStructure(context, input, root, '');
}

/** The input of a REST-XML request, and every part of it the input has no member for. */
export function decodeRestXml(
  model: ServiceModel,
  operation: Operation,
  wire: RestRequest,
): { input: Decoded; problems: Problem[] } {
  const context: XmlContext = { model, problems: [] };
  if (operation.input === undefined) return { input: {}, problems: [] };
  const input = resolve(model, operation.input);
  const decoded = {
    ...decodeBound(context, operation, input, wire),
    ...decodeBody(context, input, operation.input.shape, wire.body),
  };
  return { input: decoded, problems: context.problems };
}

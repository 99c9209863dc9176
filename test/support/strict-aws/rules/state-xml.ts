/**
 * Small helpers shared by the stateful rules: reading values out of moto's
 * query-protocol XML and the flat form map, without a full XML parser.
 */

/** Text of the first `<tag>` element, or undefined. */
export function firstTag(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return match?.[1];
}

/** Texts of every `<tag>` element, in document order. */
export function allTags(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
}

/** Values of a query list parameter: `prefix.1`, `prefix.2`, ... (or `prefix.member.N`). */
export function listParam(params: Readonly<Record<string, unknown>>, prefix: string): string[] {
  const pattern = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(?:member\\.)?(\\d+)$`);
  return Object.entries(params)
    .map(([key, value]) => ({ index: pattern.exec(key)?.[1], value }))
    .filter(
      (e): e is { index: string; value: string } =>
        e.index !== undefined && typeof e.value === 'string',
    )
    .sort((a, b) => Number(a.index) - Number(b.index))
    .map((e) => e.value);
}

export function stringParam(
  params: Readonly<Record<string, unknown>>,
  key: string,
): string | undefined {
  const value = params[key];
  return typeof value === 'string' ? value : undefined;
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function isSuccess(response: { status: number }): boolean {
  return response.status >= 200 && response.status < 300;
}

/** Parses a JSON-protocol body; undefined when it is not a JSON object. */
export function jsonBody(body: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Headers for a body the rule wrote itself: the proxy sets the length. */
export function headersWithoutLength(
  headers: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
  );
}

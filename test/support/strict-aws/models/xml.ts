/**
 * Just enough XML to read a REST-XML request body the SDK wrote: elements,
 * attributes, text with entities and CDATA; declarations, comments and
 * doctypes skipped; namespace prefixes dropped from names.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** The element's own text (its children's not included). */
  text: string;
}

const ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity] ?? whole;
  });
}

function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(/([^\s=]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
    const name = match[1] ?? '';
    if (name === 'xmlns' || name.startsWith('xmlns:')) continue;
    attributes[localName(name)] = decodeEntities(match[3] ?? match[4] ?? '');
  }
  return attributes;
}

/** The document's root element; throws on a body that is not well-formed. */
export function parseXml(source: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const tokens =
    /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<[?!][\s\S]*?>|<\/([^\s>]+)\s*>|<([^\s/>]+)([^>]*?)(\/?)>|([^<]+)/g;
  for (const token of source.matchAll(tokens)) {
    const [, cdata, closing, opening, attributes, selfClosing, text] = token;
    const current = stack.at(-1);
    if (cdata !== undefined || text !== undefined) {
      if (current !== undefined) current.text += cdata ?? decodeEntities(text ?? '');
      else if ((text ?? cdata ?? '').trim() !== '')
        throw new Error('text outside the root element');
    } else if (closing !== undefined) {
      if (current === undefined || current.name !== localName(closing)) {
        throw new Error(`unexpected </${closing}>`);
      }
      stack.pop();
    } else if (opening !== undefined) {
      const element: XmlElement = {
        name: localName(opening),
        attributes: parseAttributes(attributes ?? ''),
        children: [],
        text: '',
      };
      if (current !== undefined) current.children.push(element);
      else if (root === undefined) root = element;
      else throw new Error('a second root element');
      if (selfClosing !== '/') stack.push(element);
    }
  }
  if (root === undefined || stack.length > 0) throw new Error('no complete root element');
  return root;
}

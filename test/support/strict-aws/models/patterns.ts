/**
 * The models' `pattern` constraints as JavaScript regular expressions.
 *
 * Smithy says a pattern is an ECMA 262 regex and "does not implicitly add a
 * leading ^ or trailing $" (https://smithy.io/2.0/spec/constraint-traits.html#pattern-trait),
 * but AWS's services match the whole value: IAM's RoleName pattern is
 * `[\w+=,.@-]+` and its reference says that allows "upper and lowercase
 * alphanumeric characters with no spaces"
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html), and
 * IAM refuses a name with a space (kubecost/docs#36). So every pattern is
 * anchored here. Older models were written for Java's regex: its POSIX classes
 * (`\p{Print}`) are spelled out, its needless escapes (`\_`, `\:`) dropped so
 * the `u` flag (needed for `\p{L}`) accepts them; a pattern that still does
 * not compile is skipped and reported, never guessed.
 */

/** Java's POSIX character classes (java.util.regex.Pattern, US-ASCII only), as class ranges. */
const JAVA_POSIX: Readonly<Record<string, string>> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '\\x21-\\x2F\\x3A-\\x40\\x5B-\\x60\\x7B-\\x7E',
  Graph: '\\x21-\\x7E',
  Print: '\\x20-\\x7E',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\x0B\\f\\r',
};

/** Characters a `u`-mode regex lets one escape outside the letter escapes. */
const SYNTAX = new Set('^$\\.*+?()[]{}|/-');

/** The pattern with Java's POSIX classes spelled out and its needless escapes dropped. */
export function javaToJs(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c !== '\\') {
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      out += c;
      continue;
    }
    const next = pattern[i + 1] ?? '';
    const posix = /^p\{(\w+)\}/.exec(pattern.slice(i + 1));
    const ranges = posix?.[1] === undefined ? undefined : JAVA_POSIX[posix[1]];
    if (posix !== null && ranges !== undefined) {
      out += inClass ? ranges : `[${ranges}]`;
      i += posix[0].length;
    } else if (/[A-Za-z0-9]/.test(next) || SYNTAX.has(next)) {
      out += c + next;
      i++;
    } else {
      // `\_`, `\:`, `\@`: a literal in Java, an error in `u` mode.
      out += next;
      i++;
    }
  }
  return out;
}

export interface CompiledPattern {
  readonly regex: RegExp | undefined;
  /** Why the pattern is not checked, when it could not be compiled. */
  readonly skipped?: string;
}

const compiled = new Map<string, CompiledPattern>();

function compile(pattern: string): CompiledPattern {
  const attempts: [string, string][] = [[javaToJs(pattern), 'u']];
  // Without `u`, `\p{L}` would silently mean "p{L}": only Unicode-free patterns may try it.
  if (!/\\[pPu]\{/.test(pattern)) attempts.push([pattern, '']);
  let reason = '';
  for (const [source, flags] of attempts) {
    try {
      return { regex: new RegExp(`^(?:${source})$`, flags) };
    } catch (error) {
      reason = error instanceof Error ? error.message : String(error);
    }
  }
  return { regex: undefined, skipped: reason };
}

/** The anchored regex of a model pattern (cached), or why it is skipped. */
export function compiledPattern(pattern: string): CompiledPattern {
  let found = compiled.get(pattern);
  if (found === undefined) {
    found = compile(pattern);
    compiled.set(pattern, found);
  }
  return found;
}

import { randomBytes } from 'node:crypto';

/**
 * The token travels in `Authorization: Token <value>`, so it must be an HTTP
 * token68 (RFC 9110 §11.2): letters, digits and - . _ ~ + /, optionally
 * followed by `=` padding. Anything else would be mangled or rejected by
 * clients and proxies before it reached the service.
 */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export const MIN_RECOMMENDED_TOKEN_LENGTH = 20;
export const MAX_TOKEN_LENGTH = 4096;

export class InvalidTokenError extends Error {
  constructor(reason: string) {
    super(
      `Invalid token: ${reason}. Use letters, digits and - . _ ~ + / (an HTTP token68), ` +
        `or let the tool create one with --generate.`,
    );
    this.name = 'InvalidTokenError';
  }
}

/** Validates a token and returns warnings that do not make it unusable. */
export function validateToken(token: string): { warnings: string[] } {
  if (token.length === 0) throw new InvalidTokenError('it is empty');
  if (/\s/.test(token)) throw new InvalidTokenError('it contains whitespace');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(token))
    throw new InvalidTokenError('it contains control characters');
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new InvalidTokenError(
      `it is ${token.length} characters long (at most ${MAX_TOKEN_LENGTH})`,
    );
  }
  const firstBad = [...token].find((ch) => !/[A-Za-z0-9\-._~+/=]/.test(ch));
  if (firstBad !== undefined) {
    // Say which character without echoing the token itself.
    throw new InvalidTokenError(
      `it contains the character ${JSON.stringify(firstBad)} (U+${(firstBad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')})`,
    );
  }
  if (!TOKEN68.test(token)) throw new InvalidTokenError('"=" may only appear at the end');
  const warnings: string[] = [];
  if (token.length < MIN_RECOMMENDED_TOKEN_LENGTH) {
    warnings.push(
      `The token has only ${token.length} characters; at least ${MIN_RECOMMENDED_TOKEN_LENGTH} random characters are recommended (--generate makes 43).`,
    );
  }
  return { warnings };
}

/**
 * 256 random bits, base64url: 43 characters, all token68-safe. Drawn again
 * when it starts with "-", which a shell command line would take for an
 * option when the user later passes it to set-token.
 */
export function generateToken(): string {
  for (;;) {
    const token = randomBytes(32).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}

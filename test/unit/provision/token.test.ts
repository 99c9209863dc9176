import { describe, expect, it } from 'vitest';
import {
  generateToken,
  InvalidTokenError,
  MAX_TOKEN_LENGTH,
  validateToken,
} from '../../../provision/token.js';

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

function rejection(token: string): InvalidTokenError {
  try {
    validateToken(token);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
  throw new Error('validateToken accepted the token');
}

describe('validateToken', () => {
  it('accepts a base64url token without warnings', () => {
    expect(validateToken('abcDEF0123456789-_abcdefghij').warnings).toEqual([]);
  });

  it('accepts every token68 character and trailing "=" padding', () => {
    expect(validateToken('AZaz09-._~+/AZaz09-._~+/==').warnings).toEqual([]);
  });

  it('rejects an empty token', () => {
    expect(() => validateToken('')).toThrow(/empty/);
  });

  it('rejects a token containing whitespace', () => {
    expect(() => validateToken('abcdefghij klmnopqrstu')).toThrow(/whitespace/);
  });

  it('rejects a token containing a control character', () => {
    expect(() => validateToken('abcdefghij\u0001klmnopqrstu')).toThrow(/control characters/);
  });

  it('rejects a DEL character as a control character', () => {
    expect(() => validateToken('abcdefghij\u007fklmnopqrstu')).toThrow(/control characters/);
  });

  it('rejects a non-ASCII character naming it without echoing the token', () => {
    const token = 'secretpartABCDEFGHIJé0123456789';
    const error = rejection(token);
    expect(error.message).toContain('"é"');
    expect(error.message).toContain('U+00E9');
    expect(error.message).not.toContain(token);
    expect(error.message).not.toContain('secretpart');
  });

  it('rejects "=" in the middle of the token', () => {
    expect(() => validateToken('abcdefghij=klmnopqrstu')).toThrow(/"=" may only appear at the end/);
  });

  it('rejects a token longer than the maximum', () => {
    expect(() => validateToken('a'.repeat(MAX_TOKEN_LENGTH + 1))).toThrow(/4097 characters long/);
  });

  it('accepts a token of exactly the maximum length', () => {
    expect(validateToken('a'.repeat(MAX_TOKEN_LENGTH)).warnings).toEqual([]);
  });

  it('warns about a token shorter than 20 characters', () => {
    const { warnings } = validateToken('short-token');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/only 11 characters/);
  });

  it('does not warn about a token of exactly 20 characters', () => {
    expect(validateToken('a'.repeat(20)).warnings).toEqual([]);
  });

  it('throws errors of type InvalidTokenError that point to --generate', () => {
    expect(rejection('').message).toMatch(/--generate/);
  });
});

describe('generateToken', () => {
  it('makes a 43-character token68 token that validates without warnings', () => {
    const token = generateToken();
    expect(token).toHaveLength(43);
    expect(token).toMatch(TOKEN68);
    expect(validateToken(token).warnings).toEqual([]);
  });

  it('never starts with "-", which a command line would read as an option', () => {
    // About 1 in 64 base64url strings starts with "-": 2000 draws all but
    // surely include some.
    const firsts = Array.from({ length: 2000 }, () => generateToken()[0]);
    expect(firsts).not.toContain('-');
  });

  it('makes a different token on every call', () => {
    const tokens = new Set(Array.from({ length: 20 }, () => generateToken()));
    expect(tokens.size).toBe(20);
  });
});

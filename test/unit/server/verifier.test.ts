import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../../server/app.js';

const TOKEN = 'abc-Token_42';

describe('token verifier (fixed-width constant-time comparison)', () => {
  it('accepts exactly the token', () => {
    expect(createTokenVerifier({ token: TOKEN })(TOKEN)).toBe(true);
  });

  it('rejects the token followed by NUL bytes (the zero padding never matches)', () => {
    const verify = createTokenVerifier({ token: TOKEN });
    expect(verify(`${TOKEN}\u0000`)).toBe(false);
    expect(verify(`${TOKEN}${'\u0000'.repeat(300)}`)).toBe(false);
  });

  it('rejects the previous token followed by NUL bytes, and its proper prefixes, before its deadline', () => {
    const verify = createTokenVerifier({
      token: 'a-much-longer-current-token',
      previousToken: TOKEN,
      previousUntil: 1_000,
      now: () => 0,
    });
    expect(verify(TOKEN)).toBe(true);
    expect(verify(`${TOKEN}\u0000`)).toBe(false);
    for (let length = 0; length < TOKEN.length; length++) {
      expect(verify(TOKEN.slice(0, length))).toBe(false);
    }
  });

  it('rejects every proper prefix of the token, the empty string included', () => {
    const verify = createTokenVerifier({ token: TOKEN });
    for (let length = 0; length < TOKEN.length; length++) {
      expect(verify(TOKEN.slice(0, length))).toBe(false);
    }
  });

  it('rejects a non-ASCII candidate whose low bytes spell the token', () => {
    // U+0132 has 0x32 ('2') as its low byte: a Latin-1 copy would match.
    expect(createTokenVerifier({ token: TOKEN })('abc-Token_4\u0132')).toBe(false);
  });

  it('compares tokens longer than the minimum width in full', () => {
    const long = 'x'.repeat(400);
    const verify = createTokenVerifier({ token: long });
    expect(verify(long)).toBe(true);
    expect(verify(`${'x'.repeat(399)}y`)).toBe(false);
    expect(verify('x'.repeat(401))).toBe(false);
  });

  it('accepts a previous token of another length only before its deadline', () => {
    const config = { token: TOKEN, previousToken: 'old', previousUntil: 1_000 };
    expect(createTokenVerifier({ ...config, now: () => 999 })('old')).toBe(true);
    expect(createTokenVerifier({ ...config, now: () => 1_000 })('old')).toBe(false);
    expect(createTokenVerifier({ ...config, now: () => 1_000 })(TOKEN)).toBe(true);
  });

  it('accepts only the current token when a deadline is set without a previous token', () => {
    const verify = createTokenVerifier({ token: TOKEN, previousUntil: 1_000, now: () => 0 });
    expect(verify(TOKEN)).toBe(true);
    expect(verify('')).toBe(false);
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (candidate) => {
        expect(verify(candidate)).toBe(candidate === TOKEN);
      }),
    );
  });

  it('agrees with string equality for any candidate (one token or two)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.string({ minLength: 1, maxLength: 300 }),
        fc.option(fc.string({ minLength: 1, maxLength: 300 }), { nil: undefined }),
        (candidate, token, previousToken) => {
          const verify = createTokenVerifier({
            token,
            previousToken,
            previousUntil: previousToken === undefined ? undefined : 2,
            now: () => 1,
          });
          expect(verify(candidate)).toBe(candidate === token || candidate === previousToken);
          expect(verify(token)).toBe(true);
        },
      ),
    );
  });
});

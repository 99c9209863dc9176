import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../../server/app.js';

const TOKEN = 'Pr0perty-token_value';
const app = createApp({ token: TOKEN, log: () => {} });

// Characters a header value may carry (Latin-1, no CR/LF/NUL).
const headerChar = fc
  .oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.integer({ min: 0x80, max: 0xff }),
    fc.constant(0x09),
  )
  .map((code) => String.fromCharCode(code));
const anyValue = fc.string({ unit: headerChar, maxLength: 200 });
// Values built around the right token, so near misses are frequent.
const nearMiss = fc
  .tuple(
    fc.constantFrom('Token', 'token', 'TOKEN', 'Bearer', 'Basic', '', 'Tok', 'Tokens'),
    fc.constantFrom(' ', '  ', '', '\t', '\u00a0', ','),
    fc.constantFrom(
      TOKEN,
      TOKEN.toLowerCase(),
      TOKEN.slice(1),
      `${TOKEN}=`,
      `${TOKEN} `,
      ` ${TOKEN}`,
    ),
    anyValue.map((s) => s.slice(0, 3)),
  )
  .map(([scheme, sep, token, tail]) => `${scheme}${sep}${token}${tail}`);

/** The value as the Headers API stores it (leading/trailing HTTP whitespace removed). */
const normalize = (value: string) => value.replace(/^[\t ]+|[\t ]+$/g, '');

describe('Authorization header property', () => {
  it('never answers 5xx and never 200 unless the header carries exactly the token', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyValue, nearMiss), async (value) => {
        const res = await app.request('/', { headers: { Authorization: value } });
        expect(res.status).toBeLessThan(500);
        if (res.status === 200) {
          const normalized = normalize(value);
          expect(normalized.slice(0, 6).toLowerCase()).toBe('token ');
          expect(normalized.slice(6).trimStart()).toBe(TOKEN);
        } else {
          expect([400, 401]).toContain(res.status);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig, parseInstant } from '../../../server/config.js';

const NO_TOKEN =
  'ICLINIC_PASS is not set or empty: refusing to start, since no request could ever be authenticated. ' +
  'Set ICLINIC_PASS to the API token.';

const NO_DEADLINE =
  'ICLINIC_PASS_PREVIOUS is set but ICLINIC_PASS_PREVIOUS_UNTIL is missing or not an ISO-8601 instant ' +
  '(e.g. 2026-01-31T12:00:00Z); the previous token will not be accepted';

describe('parseConfig', () => {
  it('refuses to start when ICLINIC_PASS is missing, saying how to fix it', () => {
    expect(parseConfig({})).toEqual({ ok: false, error: NO_TOKEN });
  });

  it('refuses to start when ICLINIC_PASS is empty, with the same message as when it is missing', () => {
    expect(parseConfig({ ICLINIC_PASS: '' })).toEqual({ ok: false, error: NO_TOKEN });
  });

  it('refuses a token with characters no Authorization header can carry, naming the allowed ones and not echoing it', () => {
    expect(parseConfig({ ICLINIC_PASS: 'has space' })).toEqual({
      ok: false,
      error:
        'ICLINIC_PASS contains characters a client cannot send in "Authorization: Token <value>"; ' +
        'use only letters, digits and . _ ~ + / - (optionally followed by =). Refusing to start.',
    });
  });

  it('accepts a token68 value with trailing = padding', () => {
    const result = parseConfig({ ICLINIC_PASS: 'abc+/_.~-123==' });
    expect(result.ok).toBe(true);
  });

  it('defaults PORT to 8080', () => {
    const result = parseConfig({ ICLINIC_PASS: 'abc' });
    expect(result.ok && result.config.port).toBe(8080);
  });

  it('reads PORT', () => {
    const result = parseConfig({ ICLINIC_PASS: 'abc', PORT: '3000' });
    expect(result.ok && result.config.port).toBe(3000);
  });

  it('treats an empty PORT as unset and listens on 8080', () => {
    const result = parseConfig({ ICLINIC_PASS: 'abc', PORT: '' });
    expect(result.ok && result.config.port).toBe(8080);
  });

  it('accepts both ends of the PORT range, 1 and 65535', () => {
    expect(parseConfig({ ICLINIC_PASS: 'abc', PORT: '1' })).toMatchObject({ config: { port: 1 } });
    expect(parseConfig({ ICLINIC_PASS: 'abc', PORT: '65535' })).toMatchObject({
      config: { port: 65535 },
    });
  });

  it.each(['http', '70000', '65536', '0', '8080x', 'x8080', ' 8080', '80.5', '-1', '1e3'])(
    'refuses PORT=%j, saying the range and the value it got',
    (portText) => {
      expect(parseConfig({ ICLINIC_PASS: 'abc', PORT: portText })).toEqual({
        ok: false,
        error: `PORT must be an integer between 1 and 65535 (got "${portText}")`,
      });
    },
  );

  it('accepts no previous token when ICLINIC_PASS_PREVIOUS is absent', () => {
    const result = parseConfig({ ICLINIC_PASS: 'abc' });
    expect(result.ok && result.config.previousToken).toBeUndefined();
    expect(result.ok && result.warnings).toEqual([]);
  });

  it('treats an empty ICLINIC_PASS_PREVIOUS as no previous token, without warning', () => {
    const result = parseConfig({
      ICLINIC_PASS: 'abc',
      ICLINIC_PASS_PREVIOUS: '',
      ICLINIC_PASS_PREVIOUS_UNTIL: '',
    });
    expect(result.ok && result.config.previousToken).toBeUndefined();
    expect(result.ok && result.warnings).toEqual([]);
  });

  it('reads the previous token and its deadline', () => {
    const result = parseConfig({
      ICLINIC_PASS: 'new',
      ICLINIC_PASS_PREVIOUS: 'old',
      ICLINIC_PASS_PREVIOUS_UNTIL: '2030-01-01T00:00:00Z',
    });
    expect(result.ok && result.config.previousToken).toBe('old');
    expect(result.ok && result.config.previousUntil).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });

  it('ignores the previous token with a warning when the deadline is missing, never logging values', () => {
    const result = parseConfig({ ICLINIC_PASS: 'new-value', ICLINIC_PASS_PREVIOUS: 'old-value' });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.config.previousToken).toBeUndefined();
      expect(result.warnings).toEqual([NO_DEADLINE]);
      expect(result.warnings.join()).not.toMatch(/new-value|old-value/);
    }
  });

  it('ignores the previous token with a warning when the deadline is not ISO-8601', () => {
    const result = parseConfig({
      ICLINIC_PASS: 'new',
      ICLINIC_PASS_PREVIOUS: 'old',
      ICLINIC_PASS_PREVIOUS_UNTIL: 'tomorrow',
    });
    expect(result.ok && result.config.previousToken).toBeUndefined();
    expect(result.ok && result.warnings).toEqual([NO_DEADLINE]);
  });

  it('ignores a previous token no Authorization header can carry, with a warning that names the variable and not the value', () => {
    const result = parseConfig({
      ICLINIC_PASS: 'new',
      ICLINIC_PASS_PREVIOUS: 'old value',
      ICLINIC_PASS_PREVIOUS_UNTIL: '2030-01-01T00:00:00Z',
    });
    expect(result).toEqual({
      ok: true,
      config: { token: 'new', port: 8080 },
      warnings: [
        'ICLINIC_PASS_PREVIOUS contains characters a client cannot send in "Authorization: Token <value>"; ' +
          'use only letters, digits and . _ ~ + / - (optionally followed by =); ' +
          'the previous token will not be accepted',
      ],
    });
  });
});

describe('parseInstant', () => {
  it('parses UTC and offset instants', () => {
    expect(parseInstant('2030-01-01T00:00:00Z')).toBe(Date.UTC(2030, 0, 1));
    expect(parseInstant('2030-01-01T01:00:00.500+01:00')).toBe(Date.UTC(2030, 0, 1) + 500);
  });

  it('parses an instant given to the minute, without seconds', () => {
    expect(parseInstant('2030-01-01T12:30Z')).toBe(Date.UTC(2030, 0, 1, 12, 30));
    expect(parseInstant('2030-01-01T12:30-03:00')).toBe(Date.UTC(2030, 0, 1, 15, 30));
  });

  it('parses an instant with whitespace around it (a value pasted with its newline)', () => {
    expect(parseInstant(' 2030-01-01T00:00:00Z\n')).toBe(Date.UTC(2030, 0, 1));
  });

  it('rejects an instant with anything before it, which Date.parse alone would read as another date', () => {
    // V8's fallback parser reads '1 (2030-01-01T00:00:00Z' as 2001-01-01.
    expect(parseInstant('1 (2030-01-01T00:00:00Z')).toBeUndefined();
    expect(parseInstant('+002030-01-01T00:00:00Z')).toBeUndefined();
  });

  it('rejects instants without a time zone, dates alone and garbage', () => {
    expect(parseInstant('2030-01-01T00:00:00')).toBeUndefined();
    expect(parseInstant('2030-01-01')).toBeUndefined();
    expect(parseInstant('1893456000')).toBeUndefined();
    expect(parseInstant('2030-13-45T99:00:00Z')).toBeUndefined();
    expect(parseInstant(undefined)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig, parseInstant } from '../../../server/config.js';

describe('parseConfig', () => {
  it('refuses to start when ICLINIC_PASS is missing', () => {
    const result = parseConfig({});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(/ICLINIC_PASS is not set or empty/);
  });

  it('refuses to start when ICLINIC_PASS is empty', () => {
    const result = parseConfig({ ICLINIC_PASS: '' });
    expect(result.ok).toBe(false);
  });

  it('refuses a token with characters no Authorization header can carry, without echoing it', () => {
    const result = parseConfig({ ICLINIC_PASS: 'has space' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error).toMatch(/ICLINIC_PASS contains characters/);
      expect(result.error).not.toContain('has space');
    }
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

  it('rejects a non-numeric or out-of-range PORT', () => {
    expect(parseConfig({ ICLINIC_PASS: 'abc', PORT: 'http' }).ok).toBe(false);
    expect(parseConfig({ ICLINIC_PASS: 'abc', PORT: '70000' }).ok).toBe(false);
    expect(parseConfig({ ICLINIC_PASS: 'abc', PORT: '0' }).ok).toBe(false);
  });

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
      expect(result.warnings).toHaveLength(1);
      expect(result.warnings[0]).toMatch(/ICLINIC_PASS_PREVIOUS_UNTIL/);
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
    expect(result.ok && result.warnings).toHaveLength(1);
  });
});

describe('parseInstant', () => {
  it('parses UTC and offset instants', () => {
    expect(parseInstant('2030-01-01T00:00:00Z')).toBe(Date.UTC(2030, 0, 1));
    expect(parseInstant('2030-01-01T01:00:00.500+01:00')).toBe(Date.UTC(2030, 0, 1) + 500);
  });

  it('rejects instants without a time zone, dates alone and garbage', () => {
    expect(parseInstant('2030-01-01T00:00:00')).toBeUndefined();
    expect(parseInstant('2030-01-01')).toBeUndefined();
    expect(parseInstant('1893456000')).toBeUndefined();
    expect(parseInstant('2030-13-45T99:00:00Z')).toBeUndefined();
    expect(parseInstant(undefined)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { parsePolicyPart, POLICY_PARTS } from '../../../cli/commands/policy.js';
import { UsageError } from '../../../cli/errors.js';

describe('policy --part', () => {
  it('takes a document number from 1 to the number of documents', () => {
    expect(POLICY_PARTS).toBeGreaterThan(1);
    expect(parsePolicyPart('1')).toBe(1);
    expect(parsePolicyPart(String(POLICY_PARTS))).toBe(POLICY_PARTS);
    expect(parsePolicyPart(undefined)).toBeUndefined();
  });

  it('refuses 0, a number past the last document and a non-number, naming the range', () => {
    for (const value of ['0', String(POLICY_PARTS + 1), 'x', '1.5']) {
      expect(() => parsePolicyPart(value)).toThrow(UsageError);
      expect(() => parsePolicyPart(value)).toThrow(`from 1 to ${POLICY_PARTS}`);
    }
  });
});

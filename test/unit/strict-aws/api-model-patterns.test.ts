import { describe, expect, it } from 'vitest';
import { compiledPattern, javaToJs } from '../../support/strict-aws/models/patterns.js';

function matcher(pattern: string): RegExp {
  const { regex, skipped } = compiledPattern(pattern);
  if (regex === undefined) throw new Error(`skipped: ${skipped}`);
  return regex;
}

describe('model patterns as JavaScript regexes', () => {
  it('matches the whole value, not a part of it', () => {
    const roleName = matcher('[\\w+=,.@-]+');
    expect(roleName.test('iclinic-task')).toBe(true);
    expect(roleName.test('iclinic task')).toBe(false);
  });

  it('anchors an alternation as a whole (IAM paths)', () => {
    const path = matcher('(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)');
    expect(['/', '/iclinic/'].map((v) => path.test(v))).toEqual([true, true]);
    expect(path.test('/iclinic')).toBe(false);
  });

  it("spells out Java's POSIX classes (\\p{Print}, Application Auto Scaling's PolicyName)", () => {
    expect(javaToJs('\\p{Print}+')).toBe('[\\x20-\\x7E]+');
    const policyName = matcher('\\p{Print}+');
    expect(policyName.test('iclinic-cpu 60%')).toBe(true);
    expect(policyName.test('tab\there')).toBe(false);
  });

  it("keeps Unicode classes working while dropping Java's needless escapes (\\_ beside \\p{L})", () => {
    const tag = matcher('[\\p{L}\\p{N}\\_\\-]+');
    expect(tag.test('São_Paulo-1')).toBe(true);
    expect(tag.test('a b')).toBe(false);
  });

  it("compiles Java's [\\w-_] (a literal hyphen) without the u flag (CloudWatch Logs' ResourceType)", () => {
    const type = matcher('[\\w-_]*');
    expect(type.test('log-group_1')).toBe(true);
    expect(type.test('a b')).toBe(false);
  });

  it('skips, with the reason, a pattern JavaScript cannot compile (a possessive quantifier)', () => {
    const result = compiledPattern('a*+b');
    expect(result.regex).toBeUndefined();
    expect(result.skipped).toMatch(/Nothing to repeat/);
  });
});

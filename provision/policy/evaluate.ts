import type { AuthorizationCheck } from './implied.js';
import type { PolicyDocument, Statement } from './document.js';

/** IAM's wildcard match: `*` any run of characters, `?` exactly one. */
function wildcardMatches(pattern: string, value: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(value);
}

/**
 * Whether one statement allows the check: the action, the resource and every
 * StringEquals condition fit (a condition key the request lacks does not).
 * Only the operators this policy uses are understood.
 */
export function statementAllows(statement: Statement, check: AuthorizationCheck): boolean {
  const list = (v: string | readonly string[]): readonly string[] =>
    typeof v === 'string' ? [v] : v;
  if (!statement.Action.some((a) => wildcardMatches(a, check.action))) return false;
  if (!list(statement.Resource).some((r) => wildcardMatches(r, check.resource))) return false;
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) => {
    if (operator !== 'StringEquals') return false;
    return Object.entries(keys).every(([key, expected]) => {
      const actual = check.context[key];
      return actual !== undefined && list(expected).includes(actual);
    });
  });
}

/** The first statement of the policy that allows the check, if any. */
export function allowingStatement(
  policy: PolicyDocument,
  check: AuthorizationCheck,
): Statement | undefined {
  return policy.Statement.find((s) => statementAllows(s, check));
}

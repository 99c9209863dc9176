/**
 * The part of IAM policy evaluation the deployer policy needs: Allow/Deny
 * statements, Action and Resource wildcards, and the condition operators
 * StringEquals / StringLike, also with ForAllValues: for multivalued keys
 * such as aws:TagKeys. Anything else fails closed with a message that names
 * what this evaluator does not know.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, string | readonly string[]>>>
  >;
}

export interface Policy {
  readonly Statement: readonly PolicyStatement[];
}

/** Condition keys and their values for a request; aws:TagKeys is multivalued. */
export type Context = Readonly<Record<string, string | readonly string[]>>;

/** One authorization AWS performs: an action on a resource with the request's context keys. */
export interface Authorization {
  readonly action: string;
  readonly resource: string;
  /** Condition keys and their values for this request, e.g. aws:RequestedRegion. */
  readonly context: Context;
  /** Why AWS checks it, when the call itself is another action (shown in refusals). */
  readonly because?: string;
}

export type Decision =
  { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

const list = (value: string | readonly string[]): readonly string[] =>
  typeof value === 'string' ? [value] : value;

/** IAM wildcards: `*` any run of characters, `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/** The condition keys this evaluator knows how to supply (see permissions.ts). */
export const KNOWN_CONDITION_KEYS = new Set([
  'aws:requestedregion',
  'aws:tagkeys',
  'iam:passedtoservice',
  'iam:awsservicename',
  'ec2:createaction',
  'ecs:createaction',
  'elasticloadbalancing:createaction',
]);

function knownKey(key: string): boolean {
  const lower = key.toLowerCase();
  return KNOWN_CONDITION_KEYS.has(lower) || lower.startsWith('aws:requesttag/');
}

const OPERATORS: Record<string, (expected: string, actual: string) => boolean> = {
  // Condition keys are case-insensitive; StringEquals values are case-sensitive.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
  StringEquals: (expected, actual) => expected === actual,
  StringLike: (expected, actual) => wildcardMatch(expected, actual),
};

type ConditionResult = { readonly matches: boolean } | { readonly unknown: string };

/**
 * Single-valued: the key must be present and match a value. ForAllValues:
 * every value of the key must match one; an absent key matches
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 */
function keyMatches(
  qualifier: string | undefined,
  compare: (expected: string, actual: string) => boolean,
  expected: readonly string[],
  actual: string | readonly string[] | undefined,
): boolean {
  const values = actual === undefined ? [] : list(actual);
  const fits = (value: string) => expected.some((e) => compare(e, value));
  if (qualifier === 'ForAllValues') return values.every(fits);
  return actual !== undefined && typeof actual === 'string' && fits(actual);
}

function evaluateCondition(
  condition: NonNullable<PolicyStatement['Condition']>,
  context: Context,
): ConditionResult {
  const lowerContext = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  for (const [operator, keys] of Object.entries(condition)) {
    const [qualifier, name] = operator.includes(':') ? operator.split(':') : [undefined, operator];
    const compare = OPERATORS[name ?? ''];
    if (compare === undefined || (qualifier !== undefined && qualifier !== 'ForAllValues'))
      return { unknown: `condition operator ${operator}` };
    for (const [key, expected] of Object.entries(keys)) {
      if (!knownKey(key)) return { unknown: `condition key ${key}` };
      const actual = lowerContext.get(key.toLowerCase());
      if (!keyMatches(qualifier, compare, list(expected), actual)) return { matches: false };
    }
  }
  return { matches: true };
}

function statementApplies(statement: PolicyStatement, auth: Authorization): ConditionResult {
  const actionMatches = list(statement.Action).some((a) => wildcardMatch(a, auth.action, true));
  const resourceMatches = list(statement.Resource).some((r) => wildcardMatch(r, auth.resource));
  if (!actionMatches || !resourceMatches) return { matches: false };
  return statement.Condition === undefined
    ? { matches: true }
    : evaluateCondition(statement.Condition, auth.context);
}

/** An explicit Deny wins; otherwise some Allow must apply; otherwise implicit deny. */
export function evaluate(policy: Policy, auth: Authorization): Decision {
  let allowed = false;
  for (const statement of policy.Statement) {
    const result = statementApplies(statement, auth);
    if ('unknown' in result) {
      return {
        allowed: false,
        reason: `the strict layer cannot evaluate the ${result.unknown} in statement ${statement.Sid ?? '(no Sid)'}, so it denies (fail closed)`,
      };
    }
    if (!result.matches) continue;
    if (statement.Effect === 'Deny') {
      return {
        allowed: false,
        reason: `an explicit deny in statement ${statement.Sid ?? '(no Sid)'}`,
      };
    }
    allowed = true;
  }
  return allowed
    ? { allowed: true }
    : { allowed: false, reason: `no identity-based policy allows the ${auth.action} action` };
}

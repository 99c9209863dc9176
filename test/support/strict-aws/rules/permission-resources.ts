/**
 * The resources and request tags the permission rule authorizes a request
 * with, by AWS's authorization data (test/support/iam-data.ts): resource
 * types and their ARN formats from the Service Authorization Reference,
 * filled from the request; hand-written only where the data says nothing
 * (which request member fills which ARN variable, a secret's suffix, a
 * role's path).
 */
import { GetRoleCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { partitionOf } from '../../../../provision/partition.js';
import { iamActionsOf } from '../../../../provision/policy/index.js';
import { actionData, arnIsOfFormat, type ActionInfo } from '../../iam-data.js';
import type { AwsRequest, RuleEnv } from '../types.js';
import type { Context } from './iam-eval.js';

/** moto's account. */
export const ACCOUNT = '123456789012';

export type Params = Readonly<Record<string, unknown>>;

export function text(params: Params, key: string): string | undefined {
  const value = params[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

// ---------------------------------------------------------------------------
// Resource ARNs AWS authorizes, by AWS's authorization data
// ---------------------------------------------------------------------------

/**
 * AWS appends "-" and six random characters to a secret's ARN, so a policy
 * names `NAME-??????`; a request by name is authorized as such an ARN.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html
 */
const SECRET_SUFFIX = '-AbCdEf';

/** Service-linked roles live under /aws-service-role/SERVICE/ with these documented names. */
const SERVICE_LINKED_ROLE_NAMES: Readonly<Record<string, string>> = {
  // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using-service-linked-roles.html
  'ecs.amazonaws.com': 'AWSServiceRoleForECS',
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-service-linked-roles.html
  'elasticloadbalancing.amazonaws.com': 'AWSServiceRoleForElasticLoadBalancing',
  // https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html
  'ecs.application-autoscaling.amazonaws.com': 'AWSServiceRoleForApplicationAutoScaling_ECSService',
};

/**
 * The IAM prefix of a SigV4 signing name, where they differ: CloudWatch
 * signs as "monitoring"
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
 */
const IAM_PREFIX: Readonly<Record<string, string>> = { monitoring: 'cloudwatch' };

export function iamPrefixOf(signingName: string): string {
  return IAM_PREFIX[signingName] ?? signingName;
}

/** Query protocols flatten lists: `AlarmNames.member.1`; JSON sends arrays. */
function listOf(params: Params, key: string): string[] {
  const value = params[key];
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value !== '') return [value];
  return Object.entries(params)
    .filter(([k]) => k.startsWith(`${key}.member.`))
    .map(([, v]) => String(v));
}

/**
 * The request members that fill an ARN format's variable where the names
 * differ (the data has the formats, not the API's member names); any other
 * variable is filled by the member of its own name, or stands for any value.
 */
const VARIABLE_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RepositoryName: ['repositoryName', 'repositoryNames'],
  LogGroupName: ['logGroupName', 'logGroupIdentifier'],
  SecretId: ['SecretId', 'Name'],
  TopicName: ['Name'],
  AlarmName: ['AlarmName', 'AlarmNames'],
  DistributionId: ['Id'],
  ClusterName: ['cluster', 'clusterName', 'clusters'],
  ServiceName: ['serviceName', 'service', 'services'],
  TaskDefinitionFamilyName: ['family'],
};

function serviceLinkedRolePath(service: string): string {
  const name =
    SERVICE_LINKED_ROLE_NAMES[service] ?? `AWSServiceRoleFor${service.split('.')[0] ?? ''}`;
  return `aws-service-role/${service}/${name}`;
}

/**
 * IAM authorizes a role by its ARN, which includes its path: ask moto for
 * it. A role that does not exist has no path IAM could know, so it is
 * authorized as role/NAME (aws-review finding 3; no AWS page says otherwise).
 */
async function rolePath(request: AwsRequest, env: RuleEnv): Promise<string[]> {
  const { params, operation } = request;
  if (operation === 'CreateServiceLinkedRole')
    return [serviceLinkedRolePath(text(params, 'AWSServiceName') ?? '')];
  const name = text(params, 'RoleName');
  if (name === undefined) return [];
  if (operation === 'CreateRole') return [`${text(params, 'Path') ?? '/'}${name}`.slice(1)];
  try {
    const out = await env.moto('us-east-1').iam.send(new GetRoleCommand({ RoleName: name }));
    const arn = out.Role?.Arn;
    if (arn !== undefined) return [arn.slice(arn.indexOf(':role/') + ':role/'.length)];
  } catch {
    // not there (yet)
  }
  return [name];
}

/** The values a request gives an ARN format's variable (none: any value). */
async function variableValues(
  variable: string,
  request: AwsRequest,
  env: RuleEnv,
): Promise<string[]> {
  if (variable === 'Partition') return [partitionOf(request.region)];
  if (variable === 'Region') return [request.region];
  if (variable === 'Account') return [ACCOUNT];
  if (variable === 'RoleNameWithPath') return rolePath(request, env);
  // An OIDC provider's ARN ends in its URL without the scheme
  // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html).
  if (variable === 'OidcProviderName')
    return listOf(request.params, 'Url').map((url) => url.replace(/^https:\/\//, ''));
  const lowerFirst = `${variable.charAt(0).toLowerCase()}${variable.slice(1)}`;
  const members = VARIABLE_MEMBERS[variable] ?? [variable, lowerFirst];
  const values = members.flatMap((member) => listOf(request.params, member));
  // A name given as an ARN (an ECS cluster) is the ARN's last segment.
  const names = values.map((v) => (v.startsWith('arn:') ? (v.split('/').pop() ?? v) : v));
  return variable === 'SecretId' ? names.map((n) => `${n}${SECRET_SUFFIX}`) : names;
}

/** The format with each variable filled, one ARN per combination of the request's values. */
async function fillFormat(format: string, request: AwsRequest, env: RuleEnv): Promise<string[]> {
  let arns = [''];
  for (const part of format.split(/(\$\{[^}]+\})/)) {
    const variable = /^\$\{([^}]+)\}$/.exec(part)?.[1];
    const values = variable === undefined ? [part] : await variableValues(variable, request, env);
    const choices = values.length === 0 ? ['*'] : values;
    arns = arns.flatMap((arn) => choices.map((choice) => `${arn}${choice}`));
  }
  return arns;
}

/** Every ARN a request names: top-level strings and lists, and the query protocols' flat members. */
function namedArns(params: Params): string[] {
  return Object.values(params)
    .flatMap((value) => (Array.isArray(value) ? value : [value]))
    .filter((value): value is string => typeof value === 'string' && value.startsWith('arn:'));
}

/**
 * The resources AWS authorizes `action` on for this request, by the data:
 * "*" for an action that takes no resource type (a statement naming an ARN
 * then grants nothing); the ARNs the request names that are of a type the
 * action takes; otherwise its required types' ARN formats filled from the
 * request ("*" for what the request does not say, as for a resource it
 * creates); "*" when it names none and requires none.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
export async function resourcesOf(
  info: ActionInfo,
  request: AwsRequest,
  env: RuleEnv,
): Promise<string[]> {
  const types = info.resourceTypes;
  if (types.length === 0) return ['*'];
  const named = namedArns(request.params).filter((arn) =>
    types.some((type) => arnIsOfFormat(arn, type.arnFormat)),
  );
  if (named.length > 0) return named;
  const required = types.filter((type) => type.required);
  if (required.length === 0) return ['*'];
  const arns = await Promise.all(required.map((type) => fillFormat(type.arnFormat, request, env)));
  return arns.flat();
}

export function serviceLinkedRoleArn(service: string, region: string): string {
  return `arn:${partitionOf(region)}:iam::${ACCOUNT}:role/${serviceLinkedRolePath(service)}`;
}

export async function serviceLinkedRoleListed(env: RuleEnv, service: string): Promise<boolean> {
  try {
    const out = await env
      .moto('us-east-1')
      .iam.send(new ListRolesCommand({ PathPrefix: `/aws-service-role/${service}/` }));
    return (out.Roles ?? []).length > 0;
  } catch {
    return false;
  }
}

/**
 * The resource a create call creates: its action's first required resource
 * type (the SAR lists the created type before the ones it is created in:
 * CreateSubnet takes subnet*, then vpc*).
 */
export async function createdResources(request: AwsRequest, env: RuleEnv): Promise<string[]> {
  const [action = ''] = iamActionsOf(`${iamPrefixOf(request.service)}:${request.operation}`);
  const info = await actionData(action);
  if (info === undefined) return ['*'];
  const created = info.resourceTypes.find((type) => type.required);
  return resourcesOf(
    { ...info, resourceTypes: created === undefined ? [] : [created] },
    request,
    env,
  );
}

/**
 * The tags a request creates its resource with, in each protocol's shape:
 * JSON `tags`/`Tags` ([{key, value}], [{Key, Value}] or a map), query
 * `Tags.member.N.Key`, EC2 `TagSpecification.N.Tag.M.Key`, CloudFront's
 * XML `<Tag><Key>…</Key><Value>…</Value></Tag>`.
 */
function requestTags(params: Params): Map<string, string> {
  const tags = new Map<string, string>();
  for (const key of ['tags', 'Tags']) {
    const value = params[key];
    if (Array.isArray(value)) {
      for (const tag of value as Record<string, unknown>[])
        tags.set(String(tag.Key ?? tag.key), String(tag.Value ?? tag.value ?? ''));
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) tags.set(k, String(v));
    }
  }
  for (const [key, value] of Object.entries(params)) {
    const flat = /^(Tags\.member\.\d+|TagSpecification\.\d+\.Tag\.\d+)\.Key$/.exec(key);
    if (flat?.[1] !== undefined) tags.set(String(value), String(params[`${flat[1]}.Value`] ?? ''));
  }
  const body = text(params, 'Body') ?? '';
  for (const m of body.matchAll(/<Tag><Key>([^<]*)<\/Key>(?:<Value>([^<]*)<\/Value>)?<\/Tag>/g))
    tags.set(m[1] ?? '', m[2] ?? '');
  return tags;
}

/**
 * aws:RequestTag/KEY and aws:TagKeys for a request that carries tags
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html#access_tags_control-requests).
 */
export function tagContext(request: AwsRequest): Context {
  const tags = requestTags(request.params);
  if (tags.size === 0) return {};
  return {
    ...Object.fromEntries([...tags].map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    'aws:TagKeys': [...tags.keys()],
  };
}

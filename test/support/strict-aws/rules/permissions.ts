/**
 * Permissions as AWS checks them: a CLI request passes only if the deployer
 * policy that `iclinic-deploy policy` prints for its stack and region allows
 * the call itself and every extra permission AWS documents for that call
 * (EXTRA_PERMISSIONS below). Refusals use each protocol's AccessDenied shape.
 */
import { GetRoleCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import { execFileSync } from 'node:child_process';
import { iamActionsOf } from '../../../../provision/policy/index.js';
import { CLI } from '../../cli.js';
import type { AwsErrorReply, AwsRequest, RuleEnv, StrictRule } from '../types.js';
import { evaluate, type Authorization, type Policy } from './iam-eval.js';

/** moto's account. */
export const ACCOUNT = '123456789012';
const CALLER = `arn:aws:iam::${ACCOUNT}:user/iclinic-deployer`;

type Params = Readonly<Record<string, unknown>>;

function text(params: Params, key: string): string | undefined {
  const value = params[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Query protocols flatten lists: `Tags.member.1.Key`, `TagSpecification.1.ResourceType`. */
function hasFlatList(params: Params, prefix: string): boolean {
  return Object.keys(params).some((key) => key.startsWith(`${prefix}.`));
}

function hasJsonItems(params: Params, key: string): boolean {
  const value = params[key];
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

// ---------------------------------------------------------------------------
// Resource ARNs AWS authorizes, derived from the request
// ---------------------------------------------------------------------------

/**
 * AWS appends "-" and six random characters to a secret's ARN, so a policy
 * names `NAME-??????`; a request by name is authorized as such an ARN.
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_iam-policies.html
 */
function secretArn(region: string, id: string): string {
  return id.startsWith('arn:')
    ? id
    : `arn:aws:secretsmanager:${region}:${ACCOUNT}:secret:${id}-AbCdEf`;
}

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
  return Object.entries(params)
    .filter(([k]) => k.startsWith(`${key}.member.`))
    .map(([, v]) => String(v));
}

function serviceLinkedRoleArn(service: string): string {
  const name =
    SERVICE_LINKED_ROLE_NAMES[service] ?? `AWSServiceRoleFor${service.split('.')[0] ?? ''}`;
  return `arn:aws:iam::${ACCOUNT}:role/aws-service-role/${service}/${name}`;
}

/** IAM authorizes a role by its ARN, which includes its path: ask moto for it. */
async function roleArn(env: RuleEnv, roleName: string): Promise<string> {
  if (roleName.startsWith('arn:')) return roleName;
  try {
    const out = await env.moto('us-east-1').iam.send(new GetRoleCommand({ RoleName: roleName }));
    if (out.Role?.Arn !== undefined) return out.Role.Arn;
  } catch {
    // not there (yet): fall through
  }
  const service = Object.entries(SERVICE_LINKED_ROLE_NAMES).find(
    ([, name]) => name === roleName,
  )?.[0];
  return service === undefined
    ? `arn:aws:iam::${ACCOUNT}:role/${roleName}`
    : serviceLinkedRoleArn(service);
}

async function serviceLinkedRoleListed(env: RuleEnv, service: string): Promise<boolean> {
  try {
    const out = await env
      .moto('us-east-1')
      .iam.send(new ListRolesCommand({ PathPrefix: `/aws-service-role/${service}/` }));
    return (out.Roles ?? []).length > 0;
  } catch {
    return false;
  }
}

async function resourcesOf(request: AwsRequest, env: RuleEnv): Promise<string[]> {
  const { params, region, operation } = request;
  switch (request.service) {
    case 'ecr': {
      const repo = (name: string) => `arn:aws:ecr:${region}:${ACCOUNT}:repository/${name}`;
      const arn = text(params, 'resourceArn');
      if (arn !== undefined) return [arn];
      const names = params.repositoryNames;
      if (Array.isArray(names) && names.length > 0) return names.map((n) => repo(String(n)));
      const name = text(params, 'repositoryName');
      return [name === undefined ? '*' : repo(name)];
    }
    case 'secretsmanager': {
      const id = text(params, 'SecretId') ?? text(params, 'Name');
      return [id === undefined ? '*' : secretArn(region, id)];
    }
    case 'logs': {
      const arn = text(params, 'resourceArn');
      if (arn !== undefined) return [arn];
      const name = operation === 'DescribeLogGroups' ? undefined : text(params, 'logGroupName');
      return [name === undefined ? '*' : `arn:aws:logs:${region}:${ACCOUNT}:log-group:${name}`];
    }
    case 'iam': {
      if (operation === 'CreateServiceLinkedRole') {
        return [serviceLinkedRoleArn(text(params, 'AWSServiceName') ?? '')];
      }
      const name = text(params, 'RoleName');
      if (name === undefined) return ['*'];
      if (operation === 'CreateRole') {
        const path = text(params, 'Path') ?? '/';
        return [`arn:aws:iam::${ACCOUNT}:role${path}${name}`];
      }
      return [await roleArn(env, name)];
    }
    case 'sns': {
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
      const arn = text(params, 'TopicArn') ?? text(params, 'ResourceArn');
      if (arn !== undefined) return [arn];
      const name = text(params, 'Name');
      return [name === undefined ? '*' : `arn:aws:sns:${region}:${ACCOUNT}:${name}`];
    }
    case 'monitoring': {
      const alarm = (name: string) => `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${name}`;
      const arn = text(params, 'ResourceARN');
      if (arn !== undefined) return [arn];
      if (operation === 'DescribeAlarms') return ['*'];
      const names = listOf(params, 'AlarmNames');
      if (names.length > 0) return names.map(alarm);
      const name = text(params, 'AlarmName');
      return [name === undefined ? '*' : alarm(name)];
    }
    case 'application-autoscaling':
      // A scalable target's ARN ends in an id AWS assigns; Describe* take no resource
      // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapplicationautoscaling.html).
      return operation.startsWith('Describe')
        ? ['*']
        : [`arn:aws:application-autoscaling:${region}:${ACCOUNT}:scalable-target/0123456789abcdef`];
    case 'cloudfront': {
      // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html#amazoncloudfront-resources-for-iam-policies
      if (operation === 'ListDistributions') return ['*'];
      const arn = text(params, 'Resource');
      if (arn !== undefined) return [arn];
      const id = text(params, 'Id') ?? '*';
      return [`arn:aws:cloudfront::${ACCOUNT}:distribution/${id}`];
    }
    default:
      return ['*'];
  }
}

const AUTOSCALING_PERMISSIONS =
  'https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html';

/** The alarms target tracking creates for a resource id: TargetTracking-<ResourceId>-AlarmHigh-<uuid>. */
function targetTrackingAlarms(request: AwsRequest, actions: readonly string[]): Authorization[] {
  const resourceId = text(request.params, 'ResourceId') ?? '';
  const resource = `arn:aws:cloudwatch:${request.region}:${ACCOUNT}:alarm:TargetTracking-${resourceId}-AlarmHigh-0b0c`;
  return actions.map((action) => ({ action, resource, context: baseContext(request) }));
}

// ---------------------------------------------------------------------------
// Extra permissions AWS documents per call
// ---------------------------------------------------------------------------

interface ExtraPermission {
  /** The call that triggers the extra check: `service:Operation`. */
  readonly call: string;
  readonly source: string;
  /** The extra authorizations, or none when the request does not trigger them. */
  readonly required: (request: AwsRequest, env: RuleEnv) => Promise<Authorization[]>;
}

function plain(actions: readonly string[]): ExtraPermission['required'] {
  return (request) =>
    Promise.resolve(
      actions.map((action) => ({ action, resource: '*', context: baseContext(request) })),
    );
}

function tagOnCreate(
  action: string,
  present: (params: Params) => boolean,
  createActionKey?: string,
): ExtraPermission['required'] {
  return async (request, env) => {
    if (!present(request.params)) return [];
    const resources = await resourcesOf(request, env);
    const context = {
      ...baseContext(request),
      ...(createActionKey === undefined ? {} : { [createActionKey]: request.operation }),
    };
    return resources.map((resource) => ({ action, resource, context }));
  };
}

const ELB_API_PERMISSIONS =
  'https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-permissions.html';
const ELB_TAG_ON_CREATE =
  'https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html';
const ECS_TAG_ON_CREATE =
  'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html';
const ECS_TAGGED_CALLS = ['CreateCluster', 'CreateService', 'RegisterTaskDefinition', 'RunTask'];
const EC2_TAG_ON_CREATE =
  'https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html';

/** Every call that sends TagSpecification.N is checked against ec2:CreateTags too. */
const EC2_TAGGING: ExtraPermission['required'] = tagOnCreate(
  'ec2:CreateTags',
  (params) => hasFlatList(params, 'TagSpecification'),
  'ec2:CreateAction',
);

export const EXTRA_PERMISSIONS: readonly ExtraPermission[] = [
  {
    call: 'application-autoscaling:RegisterScalableTarget',
    source: AUTOSCALING_PERMISSIONS,
    required: async (request, env) => {
      const service = 'ecs.application-autoscaling.amazonaws.com';
      const checks = await plain(['ecs:DescribeServices', 'ecs:UpdateService'])(request, env);
      if (await serviceLinkedRoleListed(env, service)) return checks;
      return [
        ...checks,
        {
          action: 'iam:CreateServiceLinkedRole',
          resource: serviceLinkedRoleArn(service),
          context: { ...baseContext(request), 'iam:AWSServiceName': service },
        },
      ];
    },
  },
  {
    call: 'application-autoscaling:PutScalingPolicy',
    source: AUTOSCALING_PERMISSIONS,
    required: (request) =>
      Promise.resolve(
        targetTrackingAlarms(request, ['cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm']),
      ),
  },
  ...['DeleteScalingPolicy', 'DeregisterScalableTarget'].map((op) => ({
    call: `application-autoscaling:${op}`,
    source: AUTOSCALING_PERMISSIONS,
    required: (request: AwsRequest) =>
      Promise.resolve(targetTrackingAlarms(request, ['cloudwatch:DeleteAlarms'])),
  })),
  {
    call: 'cloudwatch:PutMetricAlarm',
    source:
      'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html',
    required: tagOnCreate('cloudwatch:TagResource', (params) => hasJsonItems(params, 'Tags')),
  },
  {
    call: 'sns:CreateTopic',
    source: 'https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html',
    required: tagOnCreate('sns:TagResource', (params) => hasFlatList(params, 'Tags')),
  },
  {
    call: 'elasticloadbalancing:CreateLoadBalancer',
    source: ELB_API_PERMISSIONS,
    required: plain([
      'ec2:DescribeAccountAttributes',
      'ec2:DescribeAddresses',
      'ec2:DescribeInternetGateways',
      'ec2:DescribeSecurityGroups',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ]),
  },
  {
    // The same page lists iam:CreateServiceLinkedRole: ELB creates its role on
    // the first load balancer of an account, with the caller's permission.
    call: 'elasticloadbalancing:CreateLoadBalancer',
    source: ELB_API_PERMISSIONS,
    required: async (request, env) => {
      const service = 'elasticloadbalancing.amazonaws.com';
      const arn = serviceLinkedRoleArn(service);
      const exists = (await roleArn(env, SERVICE_LINKED_ROLE_NAMES[service] ?? '')) === arn;
      const listed = exists || (await serviceLinkedRoleListed(env, service));
      if (listed) return [];
      return [
        {
          action: 'iam:CreateServiceLinkedRole',
          resource: arn,
          context: { ...baseContext(request), 'iam:AWSServiceName': service },
        },
      ];
    },
  },
  {
    call: 'elasticloadbalancing:CreateTargetGroup',
    source: ELB_API_PERMISSIONS,
    required: plain(['ec2:DescribeInternetGateways', 'ec2:DescribeVpcs']),
  },
  {
    call: 'elasticloadbalancing:SetSubnets',
    source: ELB_API_PERMISSIONS,
    required: plain(['ec2:DescribeSubnets']),
  },
  {
    call: 'elasticloadbalancing:RegisterTargets',
    source: ELB_API_PERMISSIONS,
    required: plain([
      'ec2:DescribeInstances',
      'ec2:DescribeInternetGateways',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs',
    ]),
  },
  ...['CreateLoadBalancer', 'CreateTargetGroup', 'CreateListener', 'CreateRule'].map((op) => ({
    call: `elasticloadbalancing:${op}`,
    source: ELB_TAG_ON_CREATE,
    required: tagOnCreate(
      'elasticloadbalancing:AddTags',
      (params) => hasFlatList(params, 'Tags'),
      'elasticloadbalancing:CreateAction',
    ),
  })),
  ...ECS_TAGGED_CALLS.map((op) => ({
    call: `ecs:${op}`,
    source: ECS_TAG_ON_CREATE,
    required: tagOnCreate(
      'ecs:TagResource',
      (params) => hasJsonItems(params, 'tags'),
      'ecs:CreateAction',
    ),
  })),
  {
    // Passing a role to a service needs iam:PassRole on that role, with
    // iam:PassedToService naming the service that will assume it.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    call: 'ecs:RegisterTaskDefinition',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html',
    required: (request) =>
      Promise.resolve(
        ['executionRoleArn', 'taskRoleArn']
          .map((key) => text(request.params, key))
          .filter((arn): arn is string => arn !== undefined)
          .map((arn) => ({
            action: 'iam:PassRole',
            resource: arn,
            context: { ...baseContext(request), 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
          })),
      ),
  },
  {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html
    call: 'iam:CreateRole',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html',
    required: tagOnCreate('iam:TagRole', (params) => hasFlatList(params, 'Tags')),
  },
  {
    call: 'secretsmanager:CreateSecret',
    source: 'https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html',
    required: tagOnCreate('secretsmanager:TagResource', (params) => hasJsonItems(params, 'Tags')),
  },
  {
    call: 'logs:CreateLogGroup',
    source:
      'https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html',
    required: tagOnCreate('logs:TagResource', (params) => hasJsonItems(params, 'tags')),
  },
  {
    call: 'ecr:CreateRepository',
    source:
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-supported-iam-actions-tagging.html',
    required: tagOnCreate('ecr:TagResource', (params) => hasJsonItems(params, 'tags')),
  },
];

function baseContext(request: AwsRequest): Record<string, string> {
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requestedregion
  return { 'aws:RequestedRegion': request.region };
}

/** Every authorization AWS performs for this request: the call itself, then the documented extras. */
export async function authorizationsFor(
  request: AwsRequest,
  env: RuleEnv,
): Promise<Authorization[]> {
  const call = `${iamPrefixOf(request.service)}:${request.operation}`;
  const awsServiceName = text(request.params, 'AWSServiceName');
  // iam:AWSServiceName is the service a CreateServiceLinkedRole names.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#ck_awsservicename
  const context =
    request.operation === 'CreateServiceLinkedRole' && awsServiceName !== undefined
      ? { ...baseContext(request), 'iam:AWSServiceName': awsServiceName }
      : baseContext(request);
  const resources = await resourcesOf(request, env);
  const own = iamActionsOf(call).flatMap((action) =>
    resources.map((resource) => ({ action, resource, context })),
  );
  const extras: Authorization[] = [];
  for (const extra of EXTRA_PERMISSIONS) {
    if (request.protocol === 'ec2' || extra.call !== call) continue;
    for (const auth of await extra.required(request, env))
      extras.push({ ...auth, because: `${call} (${extra.source})` });
  }
  if (request.protocol === 'ec2') {
    for (const auth of await EC2_TAGGING(request, env)) {
      extras.push({ ...auth, because: `${call} with TagSpecification (${EC2_TAG_ON_CREATE})` });
    }
  }
  return [...own, ...extras];
}

// ---------------------------------------------------------------------------
// The rule
// ---------------------------------------------------------------------------

/** https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html */
function accessDenied(request: AwsRequest, auth: Authorization, reason: string): AwsErrorReply {
  const because = auth.because === undefined ? '' : ` (AWS checks it for ${auth.because})`;
  const message = `User: ${CALLER} is not authorized to perform: ${auth.action} on resource: ${auth.resource} because ${reason}${because}`;
  if (request.protocol === 'ec2') {
    return {
      status: 403,
      code: 'UnauthorizedOperation',
      message: `You are not authorized to perform this operation. ${message}`,
    };
  }
  if (request.protocol === 'query' || request.protocol === 'rest-xml')
    return { status: 403, code: 'AccessDenied', message };
  return { status: 400, code: 'AccessDeniedException', message };
}

/** Runs the built CLI, as a user would, for the policy it prints. */
export function printedPolicy(stack: string, region: string): Policy {
  const out = execFileSync(process.execPath, [CLI, 'policy', '--name', stack, '--region', region], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  });
  return JSON.parse(out) as Policy;
}

export interface PermissionOptions {
  /** The policy for a stack and region; defaults to the CLI's printed policy. */
  readonly policyFor?: (stack: string, region: string) => Policy;
}

export function permissionRule(options: PermissionOptions = {}): StrictRule {
  const load = options.policyFor ?? printedPolicy;
  const cache = new Map<string, Policy>();
  // Actions a test removed from the policy to prove the layer is in the path.
  const withheld = new Set<string>();
  const policyFor = (stack: string, region: string): Policy => {
    const key = `${stack}\0${region}`;
    let policy = cache.get(key);
    if (policy === undefined) {
      policy = load(stack, region);
      cache.set(key, policy);
    }
    return policy;
  };
  return {
    name: 'permissions',
    source: ELB_API_PERMISSIONS,
    async before(request, env) {
      if (request.stack === undefined) {
        return accessDenied(
          request,
          {
            action: `${iamPrefixOf(request.service)}:${request.operation}`,
            resource: '*',
            context: {},
          },
          'the request names no stack: the strict layer only accepts CLI runs started by runCli (test/support/cli.ts), which set AWS_SDK_UA_APP_ID; test clients must talk to moto directly',
        );
      }
      // IAM is global (signed for us-east-1): the policy is the one of the CLI run's region.
      const policy = policyFor(request.stack, request.cliRegion ?? request.region);
      for (const auth of await authorizationsFor(request, env)) {
        if (withheld.has(auth.action.toLowerCase())) {
          return accessDenied(request, auth, `the test withheld ${auth.action} from the policy`);
        }
        const decision = evaluate(policy, auth);
        if (!decision.allowed) return accessDenied(request, auth, decision.reason);
      }
      return undefined;
    },
    reset: () => withheld.clear(),
    control(command, args) {
      if (command !== 'withhold' || typeof args.action !== 'string') return false;
      withheld.add(args.action.toLowerCase());
      return true;
    },
  };
}

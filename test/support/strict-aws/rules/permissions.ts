/**
 * Permissions as AWS checks them: a CLI request passes only if the deployer
 * policy that `iclinic-deploy policy` prints for its stack and region allows
 * the call itself and every extra permission AWS documents for that call
 * (EXTRA_PERMISSIONS below). Refusals use each protocol's AccessDenied shape.
 */
import { execFileSync } from 'node:child_process';
import { partitionOf } from '../../../../provision/partition.js';
import { iamActionsOf } from '../../../../provision/policy/index.js';
import { CLI } from '../../cli.js';
import { actionData, supportsConditionKey, type ActionInfo } from '../../iam-data.js';
import type { AwsErrorReply, AwsRequest, RuleEnv, StrictRule } from '../types.js';
import { evaluate, type Authorization, type Context, type Policy } from './iam-eval.js';
import {
  ACCOUNT,
  createdResources,
  iamPrefixOf,
  resourcesOf,
  serviceLinkedRoleArn,
  serviceLinkedRoleListed,
  tagContext,
  text,
  type Params,
} from './permission-resources.js';

export { ACCOUNT, iamPrefixOf } from './permission-resources.js';

// ---------------------------------------------------------------------------
// Extra permissions AWS documents per call
// ---------------------------------------------------------------------------

const CALLER = `arn:aws:iam::${ACCOUNT}:user/iclinic-deployer`;

/** Query protocols flatten lists: `Tags.member.1.Key`, `TagSpecification.1.ResourceType`. */
function hasFlatList(params: Params, prefix: string): boolean {
  return Object.keys(params).some((key) => key.startsWith(`${prefix}.`));
}

function hasJsonItems(params: Params, key: string): boolean {
  const value = params[key];
  if (Array.isArray(value)) return value.length > 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length > 0;
}

const AUTOSCALING_PERMISSIONS =
  'https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html';

/** The alarms target tracking creates for a resource id: TargetTracking-<ResourceId>-AlarmHigh-<uuid>. */
function targetTrackingAlarms(request: AwsRequest, actions: readonly string[]): Authorization[] {
  const resourceId = text(request.params, 'ResourceId') ?? '';
  const resource = `arn:${partitionOf(request.region)}:cloudwatch:${request.region}:${ACCOUNT}:alarm:TargetTracking-${resourceId}-AlarmHigh-0b0c`;
  return actions.map((action) => ({ action, resource, context: baseContext(request) }));
}

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
    const resources = await createdResources(request, env);
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
          resource: serviceLinkedRoleArn(service, request.region),
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
      if (await serviceLinkedRoleListed(env, service)) return [];
      return [
        {
          action: 'iam:CreateServiceLinkedRole',
          resource: serviceLinkedRoleArn(service, request.region),
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
  ...['iam:TagOpenIDConnectProvider', 'iam:ListOpenIDConnectProviderTags'].map((action) => ({
    // "The iam:TagOpenIDConnectProvider action requires that you also include
    // the iam:ListOpenIDConnectProviderTags action."
    call: 'iam:CreateOpenIDConnectProvider',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_oidc.html',
    required: tagOnCreate(action, (params) => hasFlatList(params, 'Tags')),
  })),
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

/**
 * IAM puts in the request context only the keys the action supports (the
 * data's condition keys, or global keys); a condition on another key finds
 * it absent.
 */
async function supportedContext(auth: Authorization): Promise<Authorization> {
  const info = await actionData(auth.action);
  if (info === undefined) return auth;
  const context = Object.fromEntries(
    Object.entries(auth.context).filter(([key]) => supportsConditionKey(info, key)),
  );
  return { ...auth, context };
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
  const context: Context = {
    ...baseContext(request),
    ...tagContext(request),
    ...(request.operation === 'CreateServiceLinkedRole' && awsServiceName !== undefined
      ? { 'iam:AWSServiceName': awsServiceName }
      : {}),
  };
  const own: Authorization[] = [];
  for (const action of iamActionsOf(call)) {
    const info: ActionInfo | undefined = await actionData(action);
    const resources = info === undefined ? ['*'] : await resourcesOf(info, request, env);
    own.push(...resources.map((resource) => ({ action, resource, context })));
  }
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
  const tagged = extras.map((auth) => ({
    ...auth,
    context: { ...tagContext(request), ...auth.context },
  }));
  return Promise.all([...own, ...tagged].map(supportedContext));
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

/**
 * Runs the built CLI, as a user would, for the policy it prints: every
 * document (one managed policy each) attached together.
 */
export function printedPolicy(stack: string, region: string): Policy {
  const out = execFileSync(process.execPath, [CLI, 'policy', '--name', stack, '--region', region], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    },
  });
  const printed = JSON.parse(out) as Policy | Policy[];
  return { Statement: [printed].flat().flatMap((document) => document.Statement) };
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
        if ((await actionData(auth.action)) === undefined) {
          return accessDenied(
            request,
            auth,
            `AWS's authorization data (the Service Authorization Reference) has no action ${auth.action}`,
          );
        }
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

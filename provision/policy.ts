import { stackNames } from './names.js';

/**
 * The deployer's least-privilege policy. The action lists are the AWS calls
 * the CLI makes (a unit test checks the source for calls missing here, and
 * the end-to-end suite checks every call it records), plus the tagging
 * actions AWS checks implicitly when a resource is tagged in its create call,
 * plus the permissions AWS checks behind a call (IMPLIED_PERMISSIONS), which
 * no call log shows.
 */

export const ACTIONS = {
  sts: ['GetCallerIdentity'],
  servicequotas: ['GetAWSDefaultServiceQuota', 'GetServiceQuota'],
  ec2: [
    'AssociateRouteTable',
    'AttachInternetGateway',
    'AuthorizeSecurityGroupEgress',
    'AuthorizeSecurityGroupIngress',
    'CreateInternetGateway',
    'CreateRoute',
    'CreateRouteTable',
    'CreateSecurityGroup',
    'CreateSubnet',
    'CreateTags',
    'CreateVpc',
    'DeleteInternetGateway',
    'DeleteRouteTable',
    'DeleteSecurityGroup',
    'DeleteSubnet',
    'DeleteVpc',
    // Checked by CreateLoadBalancer on the caller, never called (IMPLIED_PERMISSIONS).
    'DescribeAccountAttributes',
    'DescribeAddresses',
    'DescribeAvailabilityZones',
    'DescribeInternetGateways',
    'DescribeNetworkInterfaces',
    'DescribeRouteTables',
    'DescribeSecurityGroups',
    'DescribeSubnets',
    'DescribeVpcAttribute',
    'DescribeVpcs',
    // Finding CloudFront's origin-facing prefix list by name (paginator).
    'DescribeManagedPrefixLists',
    'DetachInternetGateway',
    'DisassociateRouteTable',
    'ModifySubnetAttribute',
    'ModifyVpcAttribute',
    'ReplaceRoute',
    'ReplaceRouteTableAssociation',
    'RevokeSecurityGroupIngress',
  ],
  elasticloadbalancing: [
    'AddTags',
    'CreateListener',
    'CreateLoadBalancer',
    // The origin rule behind CloudFront (DeleteRule: stray rules, --plain-http).
    'CreateRule',
    'CreateTargetGroup',
    'DeleteListener',
    'DeleteLoadBalancer',
    'DeleteRule',
    'DeleteTargetGroup',
    'DescribeListeners',
    'DescribeLoadBalancers',
    'DescribeRules',
    'DescribeTargetGroupAttributes',
    'DescribeTargetGroups',
    'DescribeTargetHealth',
    'DescribeTags',
    'ModifyListener',
    'ModifyRule',
    'ModifyTargetGroup',
    'ModifyTargetGroupAttributes',
    'SetSecurityGroups',
    'SetSubnets',
  ],
  ecs: [
    'CreateCluster',
    'CreateService',
    'DeleteCluster',
    'DeleteService',
    'DeleteTaskDefinitions',
    'DeregisterTaskDefinition',
    'DescribeClusters',
    'DescribeServices',
    'DescribeTaskDefinition',
    'DescribeTasks',
    'ListTaskDefinitions',
    'ListTasks',
    'RegisterTaskDefinition',
    'TagResource',
    'UpdateService',
  ],
  ecr: [
    'CreateRepository',
    'DeleteRepository',
    'DescribeImages',
    'DescribeRepositories',
    'GetAuthorizationToken',
    'GetLifecyclePolicy',
    'PutImageScanningConfiguration',
    'PutLifecyclePolicy',
    'TagResource',
    // What `docker push` calls with the login token (IMPLIED_PERMISSIONS).
    'BatchCheckLayerAvailability',
    'BatchGetImage',
    'CompleteLayerUpload',
    'InitiateLayerUpload',
    'PutImage',
    'UploadLayerPart',
  ],
  secretsmanager: [
    'CreateSecret',
    'DeleteSecret',
    'DescribeSecret',
    'GetSecretValue',
    'PutSecretValue',
    'RestoreSecret',
    'TagResource',
    'UpdateSecretVersionStage',
  ],
  logs: [
    'CreateLogGroup',
    'DeleteLogGroup',
    'DescribeLogGroups',
    // `logs` and the failure report of a rollout (log-reader.ts).
    'FilterLogEvents',
    'GetLogEvents',
    'PutRetentionPolicy',
    'TagResource',
    'TagLogGroup',
  ],
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html
  cloudfront: [
    // CreateDistributionWithTags is authorized as these two (CALL_ACTIONS).
    'CreateDistribution',
    'TagResource',
    'DeleteDistribution',
    'GetDistribution',
    'GetDistributionConfig',
    // Called through paginateListDistributions, which the source scan does not see.
    'ListDistributions',
    'ListTagsForResource',
    'UpdateDistribution',
  ],
  iam: [
    'AttachRolePolicy',
    'CreateRole',
    'CreateServiceLinkedRole',
    'DeleteRole',
    'DeleteRolePolicy',
    'DetachRolePolicy',
    'GetRole',
    'GetRolePolicy',
    'ListAttachedRolePolicies',
    'ListRolePolicies',
    'ListRoles',
    'PassRole',
    'PutRolePolicy',
    'TagRole',
    'UpdateAssumeRolePolicy',
  ],
  'application-autoscaling': [
    'DeleteScalingPolicy',
    'DeregisterScalableTarget',
    // Paginator-only reads (paginateDescribe*): the source scan cannot see them.
    'DescribeScalableTargets',
    'DescribeScalingPolicies',
    'PutScalingPolicy',
    'RegisterScalableTarget',
  ],
  cloudwatch: [
    'DeleteAlarms',
    // Paginator-only (paginateDescribeAlarms).
    'DescribeAlarms',
    'PutMetricAlarm',
    // PutMetricAlarm with Tags checks it (TagResource is the tagging action).
    'TagResource',
  ],
  sns: [
    'CreateTopic',
    'DeleteTopic',
    // Paginator-only (paginateListSubscriptionsByTopic, paginateListTopics).
    'ListSubscriptionsByTopic',
    'ListTopics',
    'Subscribe',
    // CreateTopic with Tags checks it.
    'TagResource',
  ],
} as const satisfies Record<string, readonly string[]>;

export type PolicyService = keyof typeof ACTIONS;

/**
 * API operations authorized as other IAM actions than their own name.
 * CreateDistributionWithTags "Required Permissions (API Action):
 * cloudfront:CreateDistribution, cloudfront:TagResource":
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cf-api-permissions-ref.html
 */
export const CALL_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  'cloudfront:CreateDistributionWithTags': [
    'cloudfront:CreateDistribution',
    'cloudfront:TagResource',
  ],
};

/** The IAM actions AWS checks for a call `service:Operation`. */
export function iamActionsOf(call: string): readonly string[] {
  return CALL_ACTIONS[call] ?? [call];
}

export interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

function actions(service: PolicyService, pick?: (action: string) => boolean): string[] {
  return ACTIONS[service].filter((a) => pick?.(a) ?? true).map((a) => `${service}:${a}`);
}

export function allPolicyActions(): Set<string> {
  return new Set(Object.keys(ACTIONS).flatMap((service) => actions(service as PolicyService)));
}

export function deployerPolicy(options: { region: string; stack: string }): PolicyDocument {
  const { region, stack } = options;
  const names = stackNames(stack, region);
  // The legacy name lets `down` remove a role created before the region was
  // in the name (removeExecutionRole decides whether it is this region's).
  const executionRoles = [names.executionRole, names.legacyExecutionRole].map(
    (role) => `arn:aws:iam::*:role/${role}`,
  );
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Identity',
        Effect: 'Allow',
        // ListRoles (finding service-linked roles) has no resource-level scoping.
        Action: [
          ...actions('sts'),
          ...actions('servicequotas'),
          'ecr:GetAuthorizationToken',
          'iam:ListRoles',
        ],
        Resource: '*',
      },
      {
        // EC2, ELB and ECS describe calls cannot be scoped to resources, and
        // their create calls name resources that do not exist yet.
        Sid: 'NetworkLoadBalancerAndEcs',
        Effect: 'Allow',
        Action: [...actions('ec2'), ...actions('elasticloadbalancing'), ...actions('ecs')],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': region } },
      },
      {
        Sid: 'Repository',
        Effect: 'Allow',
        Action: actions('ecr', (a) => a !== 'GetAuthorizationToken'),
        Resource: `arn:aws:ecr:${region}:*:repository/${stack}/api`,
      },
      {
        // AWS appends six random characters to a secret's ARN.
        Sid: 'TokenSecret',
        Effect: 'Allow',
        Action: actions('secretsmanager'),
        Resource: `arn:aws:secretsmanager:${region}:*:secret:${stack}/api-token-??????`,
      },
      {
        Sid: 'LogGroupList',
        Effect: 'Allow',
        Action: ['logs:DescribeLogGroups'],
        Resource: '*',
      },
      {
        Sid: 'LogGroup',
        Effect: 'Allow',
        Action: actions('logs', (a) => a !== 'DescribeLogGroups'),
        Resource: [
          `arn:aws:logs:${region}:*:log-group:/ecs/${stack}/api`,
          `arn:aws:logs:${region}:*:log-group:/ecs/${stack}/api:*`,
        ],
      },
      {
        Sid: 'ExecutionRole',
        Effect: 'Allow',
        Action: actions(
          'iam',
          (a) => !['PassRole', 'CreateServiceLinkedRole', 'ListRoles'].includes(a),
        ),
        Resource: [...executionRoles, 'arn:aws:iam::*:role/aws-service-role/*'],
      },
      {
        Sid: 'PassExecutionRoleToEcs',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: `arn:aws:iam::*:role/${names.executionRole}`,
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
      {
        // ListDistributions takes no resource ("*" only, Service Authorization
        // Reference for CloudFront); a distribution's id is CloudFront's choice,
        // so the rest can be scoped to distributions but not to one.
        Sid: 'CloudFrontList',
        Effect: 'Allow',
        Action: ['cloudfront:ListDistributions'],
        Resource: '*',
      },
      {
        Sid: 'CloudFrontDistribution',
        Effect: 'Allow',
        Action: actions('cloudfront', (a) => a !== 'ListDistributions'),
        Resource: 'arn:aws:cloudfront::*:distribution/*',
      },
      {
        Sid: 'ServiceLinkedRoles',
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: 'arn:aws:iam::*:role/aws-service-role/*',
        Condition: {
          StringEquals: {
            // RegisterScalableTarget creates
            // AWSServiceRoleForApplicationAutoScaling_ECSService with the
            // caller's permissions in a new account
            // (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html).
            'iam:AWSServiceName': [
              'ecs.amazonaws.com',
              'elasticloadbalancing.amazonaws.com',
              'ecs.application-autoscaling.amazonaws.com',
            ],
          },
        },
      },
      ...operateStatements(region, stack, names.cluster, names.service),
    ],
  };
}

/**
 * Autoscaling, alarms and their topic. Resource types per the Service
 * Authorization Reference: Application Auto Scaling's Describe* take no
 * resource, and a scalable target's ARN ends in an id AWS assigns, so the
 * writes are scoped to the region's scalable targets
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsapplicationautoscaling.html);
 * CloudWatch alarms by name, the stack's and the TargetTracking-<resource
 * id>-* alarms that PutScalingPolicy creates and DeleteScalingPolicy
 * deletes with the caller's permissions
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html,
 * https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html);
 * SNS by topic ARN, ListTopics on "*"
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html).
 */
function operateStatements(
  region: string,
  stack: string,
  cluster: string,
  service: string,
): Statement[] {
  const regionOnly = { StringEquals: { 'aws:RequestedRegion': region } };
  return [
    {
      Sid: 'AutoscalingRead',
      Effect: 'Allow',
      Action: actions('application-autoscaling', (a) => a.startsWith('Describe')),
      Resource: '*',
      Condition: regionOnly,
    },
    {
      Sid: 'Autoscaling',
      Effect: 'Allow',
      Action: actions('application-autoscaling', (a) => !a.startsWith('Describe')),
      Resource: `arn:aws:application-autoscaling:${region}:*:scalable-target/*`,
    },
    {
      Sid: 'AlarmsRead',
      Effect: 'Allow',
      Action: ['cloudwatch:DescribeAlarms'],
      Resource: '*',
      Condition: regionOnly,
    },
    {
      Sid: 'Alarms',
      Effect: 'Allow',
      Action: actions('cloudwatch', (a) => a !== 'DescribeAlarms'),
      Resource: [
        `arn:aws:cloudwatch:${region}:*:alarm:${stack}-*`,
        `arn:aws:cloudwatch:${region}:*:alarm:TargetTracking-service/${cluster}/${service}-*`,
      ],
    },
    {
      Sid: 'AlarmTopicList',
      Effect: 'Allow',
      Action: ['sns:ListTopics'],
      Resource: '*',
      Condition: regionOnly,
    },
    {
      Sid: 'AlarmTopic',
      Effect: 'Allow',
      Action: actions('sns', (a) => a !== 'ListTopics'),
      Resource: `arn:aws:sns:${region}:*:${stack}-alarms`,
    },
  ];
}

// ---------------------------------------------------------------------------
// Permissions AWS checks behind a call
// ---------------------------------------------------------------------------

/** One authorization AWS makes: an action on a resource, with the request's condition keys. */
export interface AuthorizationCheck {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string>>;
}

export interface ImpliedPermissions {
  /** The call the CLI makes (or the engine command it runs). */
  readonly call: string;
  /** Where AWS documents the extra checks. */
  readonly source: string;
  readonly checks: (request: {
    region: string;
    stack: string;
    account: string;
  }) => AuthorizationCheck[];
}

const ELB_API_PERMISSIONS =
  'https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/elb-api-permissions.html';

function regional(region: string, ...actions: string[]): AuthorizationCheck[] {
  return actions.map((action) => ({
    action,
    resource: '*',
    context: { 'aws:RequestedRegion': region },
  }));
}

function serviceLinkedRole(account: string, service: string, roleName: string): AuthorizationCheck {
  return {
    action: 'iam:CreateServiceLinkedRole',
    resource: `arn:aws:iam::${account}:role/aws-service-role/${service}/${roleName}`,
    context: { 'iam:AWSServiceName': service },
  };
}

/**
 * `call → extra permissions AWS checks`. The ELB page lists, for the
 * 2015-12-01 API, extra checks only for CreateLoadBalancer,
 * CreateTargetGroup, RegisterTargets, SetIpAddressType and SetSubnets; the
 * other ELB calls the CLI makes (CreateListener and ModifyListener with or
 * without a certificate, SetSecurityGroups, ModifyTargetGroup*) need only
 * their own action, as the rows with no checks record.
 */
const AUTOSCALING_PERMISSIONS =
  'https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html';

/** The alarms a target-tracking policy on the stack's service gets (TargetTracking-<resource id>-AlarmHigh-<uuid>...). */
function targetTrackingAlarm(request: { region: string; stack: string; account: string }): string {
  const n = stackNames(request.stack, request.region);
  return `arn:aws:cloudwatch:${request.region}:${request.account}:alarm:TargetTracking-service/${n.cluster}/${n.service}-AlarmHigh-0b0c`;
}

export const IMPLIED_PERMISSIONS: readonly ImpliedPermissions[] = [
  {
    // "Permissions required for API actions on target services and
    // CloudWatch": RegisterScalableTarget describes and updates the ECS
    // service, and creates the service-linked role on first use.
    call: 'application-autoscaling:RegisterScalableTarget',
    source: AUTOSCALING_PERMISSIONS,
    checks: ({ region, account }) => [
      ...regional(region, 'ecs:DescribeServices', 'ecs:UpdateService'),
      serviceLinkedRole(
        account,
        'ecs.application-autoscaling.amazonaws.com',
        'AWSServiceRoleForApplicationAutoScaling_ECSService',
      ),
    ],
  },
  {
    // Target tracking creates its alarms with the caller's permissions.
    call: 'application-autoscaling:PutScalingPolicy',
    source: AUTOSCALING_PERMISSIONS,
    checks: (request) =>
      ['cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm'].map((action) => ({
        action,
        resource: targetTrackingAlarm(request),
        context: { 'aws:RequestedRegion': request.region },
      })),
  },
  {
    call: 'application-autoscaling:DeleteScalingPolicy',
    source: AUTOSCALING_PERMISSIONS,
    checks: (request) => [
      {
        action: 'cloudwatch:DeleteAlarms',
        resource: targetTrackingAlarm(request),
        context: { 'aws:RequestedRegion': request.region },
      },
    ],
  },
  {
    call: 'application-autoscaling:DeregisterScalableTarget',
    source: AUTOSCALING_PERMISSIONS,
    checks: (request) => [
      {
        action: 'cloudwatch:DeleteAlarms',
        resource: targetTrackingAlarm(request),
        context: { 'aws:RequestedRegion': request.region },
      },
    ],
  },
  {
    call: 'elasticloadbalancing:CreateLoadBalancer',
    source: ELB_API_PERMISSIONS,
    checks: ({ region, account }) => [
      ...regional(
        region,
        'ec2:DescribeAccountAttributes',
        'ec2:DescribeAddresses',
        'ec2:DescribeInternetGateways',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ),
      serviceLinkedRole(
        account,
        'elasticloadbalancing.amazonaws.com',
        'AWSServiceRoleForElasticLoadBalancing',
      ),
    ],
  },
  {
    call: 'elasticloadbalancing:CreateTargetGroup',
    source: ELB_API_PERMISSIONS,
    checks: ({ region }) => regional(region, 'ec2:DescribeInternetGateways', 'ec2:DescribeVpcs'),
  },
  {
    call: 'elasticloadbalancing:SetSubnets',
    source: ELB_API_PERMISSIONS,
    checks: ({ region }) => regional(region, 'ec2:DescribeSubnets'),
  },
  ...[
    'CreateListener',
    'CreateRule',
    'ModifyRule',
    'ModifyListener',
    'SetSecurityGroups',
    'ModifyTargetGroup',
    'ModifyTargetGroupAttributes',
  ].map((action) => ({
    call: `elasticloadbalancing:${action}`,
    source: ELB_API_PERMISSIONS,
    checks: () => [],
  })),
  {
    // "When you call the CreateCluster API operation, Amazon ECS attempts to
    // create the Amazon ECS service-linked role for your account."
    call: 'ecs:CreateCluster',
    source: 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html',
    checks: ({ account }) => [
      serviceLinkedRole(account, 'ecs.amazonaws.com', 'AWSServiceRoleForECS'),
    ],
  },
  {
    // The task definition names the execution role; passing it to ECS is
    // what PassRole guards.
    call: 'ecs:RegisterTaskDefinition',
    source:
      'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html, ' +
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html',
    checks: ({ region, stack, account }) => [
      {
        action: 'iam:PassRole',
        resource: `arn:aws:iam::${account}:role/${stackNames(stack, region).executionRole}`,
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      },
    ],
  },
  {
    // The documented push policy; BatchGetImage is what clients use to look
    // for an existing manifest or push an image index.
    call: 'docker push',
    source: 'https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-push-iam.html',
    checks: ({ region, stack, account }) => [
      {
        action: 'ecr:GetAuthorizationToken',
        resource: '*',
        context: { 'aws:RequestedRegion': region },
      },
      ...[
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:CompleteLayerUpload',
        'ecr:InitiateLayerUpload',
        'ecr:PutImage',
        'ecr:UploadLayerPart',
      ].map((action) => ({
        action,
        resource: `arn:aws:ecr:${region}:${account}:repository/${stackNames(stack, region).repository}`,
        context: { 'aws:RequestedRegion': region },
      })),
    ],
  },
];

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

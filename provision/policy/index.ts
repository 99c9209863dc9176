import { stackNames } from '../names.js';
import { GITHUB_OIDC_HOST } from '../resources/ci-github/github.js';
import { deployRoleName } from '../resources/ci-github/names.js';
import { actions } from './actions.js';
import type { PolicyDocument, Statement } from './document.js';

export {
  ACTIONS,
  allPolicyActions,
  CALL_ACTIONS,
  iamActionsOf,
  type PolicyService,
} from './actions.js';
export type { PolicyDocument, Statement } from './document.js';
export { allowingStatement, statementAllows } from './evaluate.js';
export {
  IMPLIED_PERMISSIONS,
  type AuthorizationCheck,
  type ImpliedPermissions,
} from './implied.js';

/**
 * The deployer's least-privilege policy. The action lists are the AWS calls
 * the CLI makes (a unit test checks the source for calls missing here, and
 * the end-to-end suite checks every call it records), plus the tagging
 * actions AWS checks implicitly when a resource is tagged in its create call,
 * plus the permissions AWS checks behind a call (IMPLIED_PERMISSIONS), which
 * no call log shows.
 */

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
          (a) =>
            !['PassRole', 'CreateServiceLinkedRole', 'ListRoles'].includes(a) &&
            !a.includes('OpenIDConnectProvider'),
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
      ...githubDeployStatements(region, stack),
    ],
  };
}

/** The statements of `ci github`, which the deploy role itself does not carry. */
export const GITHUB_DEPLOY_SIDS: readonly string[] = ['GitHubDeployRole', 'GitHubOidcProvider'];

/** What `ci github` does to the deploy role: no AttachRolePolicy, no PassRole. */
const DEPLOY_ROLE_ACTIONS = [
  'CreateRole',
  'DeleteRole',
  'DeleteRolePolicy',
  'DetachRolePolicy',
  'GetRole',
  'GetRolePolicy',
  'ListAttachedRolePolicies',
  'ListRolePolicies',
  'PutRolePolicy',
  'TagRole',
  'UpdateAssumeRolePolicy',
];

/**
 * `ci github`: the stack's deploy role by its name, and the account's OIDC
 * provider for GitHub by its ARN, oidc-provider/<host> (Service
 * Authorization Reference for IAM:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
 * ListOpenIDConnectProviderTags goes with TagOpenIDConnectProvider, which
 * CreateOpenIDConnectProvider checks for its tags
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_oidc.html).
 * Finding the roles that still trust the provider uses iam:ListRoles (Identity).
 */
function githubDeployStatements(region: string, stack: string): Statement[] {
  return [
    {
      Sid: 'GitHubDeployRole',
      Effect: 'Allow',
      Action: actions('iam', (a) => DEPLOY_ROLE_ACTIONS.includes(a)),
      Resource: `arn:aws:iam::*:role/${deployRoleName(stack, region)}`,
    },
    {
      Sid: 'GitHubOidcProvider',
      Effect: 'Allow',
      Action: actions('iam', (a) => a.includes('OpenIDConnectProvider')),
      Resource: `arn:aws:iam::*:oidc-provider/${GITHUB_OIDC_HOST}`,
    },
  ];
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

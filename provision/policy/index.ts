import { stackNames, type StackNames } from '../names.js';
import { partitionOf } from '../partition.js';
import { GITHUB_OIDC_HOST } from '../resources/ci-github/github.js';
import { deployRoleName } from '../resources/ci-github/names.js';
import { distributionTags } from '../resources/cloudfront/config.js';
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
export {
  IMPLIED_PERMISSIONS,
  type AuthorizationCheck,
  type ImpliedPermissions,
} from './implied.js';

/**
 * An IAM managed policy holds at most 6,144 characters, whitespace not
 * counted ("Managed policy size", IAM and AWS STS quotas:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 * The deployer's permissions need more, so they come as several documents,
 * each a managed policy of its own: a user or role takes 10 managed policies
 * by default, and an IAM Identity Center permission set takes customer
 * managed policies by name
 * (https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html).
 */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/**
 * Room each document keeps for the permissions of features to come (a
 * unit test holds every document to MANAGED_POLICY_MAX_CHARS minus this,
 * for the longest stack name and region).
 */
export const FUTURE_PERMISSIONS_HEADROOM = 1024;

interface PolicyScope {
  readonly region: string;
  readonly stack: string;
  readonly names: StackNames;
  /** `arn:PARTITION:` */
  readonly arn: string;
}

/**
 * The deployer's least-privilege policy, as the managed policies to attach
 * (`iclinic-deploy policy --part N` prints document N). The action lists
 * are the AWS calls the CLI makes (a unit test checks the source for calls
 * missing here, and the end-to-end suite checks every call it records),
 * plus the tagging actions AWS checks implicitly when a resource is tagged
 * in its create call, plus the permissions AWS checks behind a call
 * (IMPLIED_PERMISSIONS), which no call log shows.
 */
export function deployerPolicy(options: { region: string; stack: string }): PolicyDocument[] {
  const partition = partitionOf(options.region);
  const scope: PolicyScope = {
    ...options,
    names: stackNames(options.stack, options.region),
    arn: `arn:${partition}:`,
  };
  return [
    { Version: '2012-10-17', Statement: buildStatements(scope) },
    {
      Version: '2012-10-17',
      Statement: [...roleStatements(scope), ...edgeStatements(scope), ...operateStatements(scope)],
    },
  ];
}

/** Every statement of every document: what the deployer is allowed, as one list to evaluate. */
export function deployerStatements(options: { region: string; stack: string }): Statement[] {
  return deployerPolicy(options).flatMap((document) => document.Statement);
}

/** Document 1: credentials, network, load balancer, ECS, the image and the logs. */
function buildStatements(scope: PolicyScope): Statement[] {
  const { region, stack, arn } = scope;
  return [
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
      Resource: `${arn}ecr:${region}:*:repository/${stack}/api`,
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
        `${arn}logs:${region}:*:log-group:/ecs/${stack}/api`,
        `${arn}logs:${region}:*:log-group:/ecs/${stack}/api:*`,
      ],
    },
    ...domainStatements(scope),
  ];
}

/**
 * What narrows a create AWS authorizes only on "*" (a CloudFront
 * distribution, an ACM certificate): the request carries the stack's tags
 * (aws:RequestTag/<key>) and no other tag key (aws:TagKeys), so the
 * deployer creates them for its own stack and region only.
 */
function carryingStackTags(names: StackNames, region: string): Statement['Condition'] {
  const tags = distributionTags(names, region);
  return {
    StringEquals: Object.fromEntries(tags.map((tag) => [`aws:RequestTag/${tag.Key}`, tag.Value])),
    'ForAllValues:StringEquals': { 'aws:TagKeys': tags.map((tag) => tag.Key) },
  };
}

/**
 * Document 1, up --domain. Per the Service Authorization Reference:
 * ListCertificates and RequestCertificate take no resource ("*" only), the
 * other ACM actions a certificate, whose id is ACM's choice, so any
 * certificate in us-east-1, the one region the tool requests in
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscertificatemanager.html);
 * the request is narrowed by the tags it must carry instead, as
 * CloudFrontCreate is (the SAR lists aws:RequestTag/${TagKey} and
 * aws:TagKeys for RequestCertificate). ListHostedZones takes no resource;
 * GetHostedZone, ListResourceRecordSets and ChangeResourceRecordSets a
 * hosted zone, which is the user's and unknown when the policy is printed
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html).
 */
function domainStatements({ region, names, arn }: PolicyScope): Statement[] {
  const anyResource = ['ListCertificates', 'RequestCertificate'];
  return [
    {
      Sid: 'DomainLookup',
      Effect: 'Allow',
      Action: ['acm:ListCertificates', 'route53:ListHostedZones'],
      Resource: '*',
    },
    {
      Sid: 'DomainCertificateRequest',
      Effect: 'Allow',
      Action: ['acm:RequestCertificate'],
      Resource: '*',
      Condition: carryingStackTags(names, region),
    },
    {
      Sid: 'DomainCertificate',
      Effect: 'Allow',
      Action: actions('acm', (a) => !anyResource.includes(a)),
      Resource: `${arn}acm:us-east-1:*:certificate/*`,
    },
    {
      Sid: 'DomainRecords',
      Effect: 'Allow',
      Action: actions('route53', (a) => a !== 'ListHostedZones'),
      Resource: `${arn}route53:::hostedzone/*`,
    },
  ];
}

/** Document 2 (with CloudFront, scaling and alarms): the token secret and the roles. */
function roleStatements({ region, stack, names, arn }: PolicyScope): Statement[] {
  // The legacy name lets `down` remove a role created before the region was
  // in the name (removeExecutionRole decides whether it is this region's).
  const executionRoles = [names.executionRole, names.legacyExecutionRole].map(
    (role) => `${arn}iam::*:role/${role}`,
  );
  return [
    {
      // AWS appends six random characters to a secret's ARN.
      Sid: 'TokenSecret',
      Effect: 'Allow',
      Action: actions('secretsmanager'),
      Resource: `${arn}secretsmanager:${region}:*:secret:${stack}/api-token-??????`,
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
      Resource: executionRoles,
    },
    {
      Sid: 'PassExecutionRoleToEcs',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: `${arn}iam::*:role/${names.executionRole}`,
      Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    },
    {
      Sid: 'ServiceLinkedRoles',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource: `${arn}iam::*:role/aws-service-role/*`,
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
    ...githubDeployStatements({ region, stack, names, arn }),
  ];
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
 * Document 2, `ci github`: the stack's deploy role by its name, and the
 * account's OIDC provider for GitHub by its ARN, oidc-provider/<host>
 * (Service Authorization Reference for IAM:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html).
 * ListOpenIDConnectProviderTags goes with TagOpenIDConnectProvider, which
 * CreateOpenIDConnectProvider checks for its tags
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_oidc.html).
 * Finding the roles that still trust the provider uses iam:ListRoles (Identity).
 */
function githubDeployStatements({ region, stack, arn }: PolicyScope): Statement[] {
  return [
    {
      Sid: 'GitHubDeployRole',
      Effect: 'Allow',
      Action: actions('iam', (a) => DEPLOY_ROLE_ACTIONS.includes(a)),
      Resource: `${arn}iam::*:role/${deployRoleName(stack, region)}`,
    },
    {
      Sid: 'GitHubOidcProvider',
      Effect: 'Allow',
      Action: actions('iam', (a) => a.includes('OpenIDConnectProvider')),
      Resource: `${arn}iam::*:oidc-provider/${GITHUB_OIDC_HOST}`,
    },
  ];
}

/**
 * Document 2, CloudFront. Per the Service Authorization Reference,
 * ListDistributions and CreateDistribution take no resource
 * ("*" only: a statement naming an ARN grants nothing for them), and
 * CreateDistributionWithTags is authorized as CreateDistribution plus
 * TagResource with "Resources: CloudFront: *"
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html,
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cf-api-permissions-ref.html).
 * The create is narrowed instead by the tags it must carry: the SAR lists
 * aws:RequestTag/${TagKey} and aws:TagKeys for both actions. The rest takes
 * distributions, though not one: its id is CloudFront's choice. (AWS's
 * operation map also names cloudfront:GetVpcOrigin and
 * CreateConnectionGroup for the create: those serve VPC origins and
 * multi-tenant distributions, which this tool does not make.)
 */
function edgeStatements({ region, names, arn }: PolicyScope): Statement[] {
  const create = ['CreateDistribution', 'TagResource'];
  return [
    {
      Sid: 'CloudFrontList',
      Effect: 'Allow',
      Action: ['cloudfront:ListDistributions'],
      Resource: '*',
    },
    {
      Sid: 'CloudFrontCreate',
      Effect: 'Allow',
      Action: actions('cloudfront', (a) => create.includes(a)),
      Resource: '*',
      Condition: carryingStackTags(names, region),
    },
    {
      Sid: 'CloudFrontDistribution',
      Effect: 'Allow',
      Action: actions('cloudfront', (a) => a !== 'ListDistributions' && !create.includes(a)),
      Resource: `${arn}cloudfront::*:distribution/*`,
    },
  ];
}

/**
 * Document 2, autoscaling, alarms and their topic. Resource types per the
 * Service Authorization Reference: Application Auto Scaling's Describe* take
 * no resource, and a scalable target's ARN ends in an id AWS assigns, so the
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
function operateStatements({ region, stack, names, arn }: PolicyScope): Statement[] {
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
      Resource: `${arn}application-autoscaling:${region}:*:scalable-target/*`,
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
        `${arn}cloudwatch:${region}:*:alarm:${stack}-*`,
        `${arn}cloudwatch:${region}:*:alarm:TargetTracking-service/${names.cluster}/${names.service}-*`,
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
      Resource: `${arn}sns:${region}:*:${stack}-alarms`,
    },
  ];
}

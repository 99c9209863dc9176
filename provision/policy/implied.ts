import { stackNames } from '../names.js';
import { partitionOf } from '../partition.js';

/**
 * Permissions AWS checks behind a call, which no call log shows, and which
 * AWS's authorization data does not carry either: the Service Authorization
 * Reference's "Dependent actions" are empty for these calls (a unit test
 * checks each row against the data, so a row the data comes to cover is
 * noticed). Each row names the page that documents it.
 */

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

function serviceLinkedRole(
  request: { region: string; account: string },
  service: string,
  roleName: string,
): AuthorizationCheck {
  const { region, account } = request;
  return {
    action: 'iam:CreateServiceLinkedRole',
    resource: `arn:${partitionOf(region)}:iam::${account}:role/aws-service-role/${service}/${roleName}`,
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
  return `arn:${partitionOf(request.region)}:cloudwatch:${request.region}:${request.account}:alarm:TargetTracking-service/${n.cluster}/${n.service}-AlarmHigh-0b0c`;
}

export const IMPLIED_PERMISSIONS: readonly ImpliedPermissions[] = [
  {
    // `ci github` creates the OIDC provider with its tag in the create call.
    call: 'iam:CreateOpenIDConnectProvider',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_oidc.html',
    checks: ({ region, account }) =>
      ['iam:TagOpenIDConnectProvider', 'iam:ListOpenIDConnectProviderTags'].map((action) => ({
        action,
        resource: `arn:${partitionOf(region)}:iam::${account}:oidc-provider/token.actions.githubusercontent.com`,
        context: {},
      })),
  },
  {
    // "Permissions required for API actions on target services and
    // CloudWatch": RegisterScalableTarget describes and updates the ECS
    // service, and creates the service-linked role on first use.
    call: 'application-autoscaling:RegisterScalableTarget',
    source: AUTOSCALING_PERMISSIONS,
    checks: (request) => [
      ...regional(request.region, 'ecs:DescribeServices', 'ecs:UpdateService'),
      serviceLinkedRole(
        request,
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
    checks: (request) => [
      ...regional(
        request.region,
        'ec2:DescribeAccountAttributes',
        'ec2:DescribeAddresses',
        'ec2:DescribeInternetGateways',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
      ),
      serviceLinkedRole(
        request,
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
    checks: (request) => [serviceLinkedRole(request, 'ecs.amazonaws.com', 'AWSServiceRoleForECS')],
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
        resource: `arn:${partitionOf(region)}:iam::${account}:role/${stackNames(stack, region).executionRole}`,
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
        resource: `arn:${partitionOf(region)}:ecr:${region}:${account}:repository/${stackNames(stack, region).repository}`,
        context: { 'aws:RequestedRegion': region },
      })),
    ],
  },
];

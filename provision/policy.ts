/**
 * The deployer's least-privilege policy. The action lists are the AWS calls
 * the CLI makes (a unit test checks the source for calls missing here, and
 * the end-to-end suite checks every call it records), plus the tagging
 * actions AWS checks implicitly when a resource is tagged in its create call.
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
    'DescribeAvailabilityZones',
    'DescribeInternetGateways',
    'DescribeNetworkInterfaces',
    'DescribeRouteTables',
    'DescribeSecurityGroups',
    'DescribeSubnets',
    'DescribeVpcAttribute',
    'DescribeVpcs',
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
    'CreateTargetGroup',
    'DeleteListener',
    'DeleteLoadBalancer',
    'DeleteTargetGroup',
    'DescribeListeners',
    'DescribeLoadBalancers',
    'DescribeTargetGroupAttributes',
    'DescribeTargetGroups',
    'DescribeTargetHealth',
    'DescribeTags',
    'ModifyListener',
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
    // What `docker push` calls with the login token.
    'BatchCheckLayerAvailability',
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
    'PutRetentionPolicy',
    'TagResource',
    'TagLogGroup',
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
} as const satisfies Record<string, readonly string[]>;

export type PolicyService = keyof typeof ACTIONS;

interface Statement {
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
  const executionRole = `arn:aws:iam::*:role/${stack}-task-execution`;
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
        Resource: [executionRole, 'arn:aws:iam::*:role/aws-service-role/*'],
      },
      {
        Sid: 'PassExecutionRoleToEcs',
        Effect: 'Allow',
        Action: ['iam:PassRole'],
        Resource: executionRole,
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
      {
        Sid: 'ServiceLinkedRoles',
        Effect: 'Allow',
        Action: ['iam:CreateServiceLinkedRole'],
        Resource: 'arn:aws:iam::*:role/aws-service-role/*',
        Condition: {
          StringEquals: {
            'iam:AWSServiceName': ['ecs.amazonaws.com', 'elasticloadbalancing.amazonaws.com'],
          },
        },
      },
    ],
  };
}

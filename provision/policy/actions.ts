/**
 * The AWS calls the CLI makes, by IAM service prefix (a unit test checks the
 * source for calls missing here, and the end-to-end suite checks every call
 * it records), plus the tagging actions AWS checks when a resource is tagged
 * in its create call.
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
    // `ci github`: the account's OIDC provider for GitHub Actions (GitHubOidcProvider).
    'CreateOpenIDConnectProvider',
    'DeleteOpenIDConnectProvider',
    'GetOpenIDConnectProvider',
    'ListOpenIDConnectProviderTags',
    'TagOpenIDConnectProvider',
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
  // --domain: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscertificatemanager.html
  acm: [
    // Tagging on create: the Service Authorization Reference's operation table
    // maps ImportCertificate to acm:AddTagsToCertificate too
    // (https://docs.amazonaws.cn/service-authorization/latest/reference/list_acm.html);
    // kept for RequestCertificate with Tags on the same ground (not confirmed
    // for it by a page), scoped to certificates.
    'AddTagsToCertificate',
    'DeleteCertificate',
    'DescribeCertificate',
    // Paginator-only (paginateListCertificates).
    'ListCertificates',
    'ListTagsForCertificate',
    'RequestCertificate',
  ],
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html
  route53: [
    'ChangeResourceRecordSets',
    'GetHostedZone',
    // Paginator-only (paginateListHostedZones).
    'ListHostedZones',
    'ListResourceRecordSets',
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
 * API operations authorized as other IAM actions than their own name. Every
 * other operation the CLI calls is authorized as the action of its own name,
 * which a unit test checks exists in the Service Authorization Reference's
 * data; the data holds no operation-to-action map, so the operations with no
 * action of their name are listed here, with their source.
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

export function actions(service: PolicyService, pick?: (action: string) => boolean): string[] {
  return ACTIONS[service].filter((a) => pick?.(a) ?? true).map((a) => `${service}:${a}`);
}

export function allPolicyActions(): Set<string> {
  return new Set(Object.keys(ACTIONS).flatMap((service) => actions(service as PolicyService)));
}

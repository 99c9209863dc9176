import {
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { ListDistributionsCommand, ListTagsForResourceCommand } from '@aws-sdk/client-cloudfront';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import {
  DescribeClustersCommand,
  DescribeServicesCommand,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import {
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetRoleCommand } from '@aws-sdk/client-iam';
import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { stackNames, STACK_TAG_KEY } from '../../provision/names.js';
import { deployRoleName } from '../../provision/resources/ci-github/names.js';
import type { TestClients } from './aws.js';

/**
 * Everything of the stack that still exists, found by tag where the API can
 * filter by tag and by name where it cannot (moto's tagging API does not
 * list ECR repositories or IAM roles).
 */
export async function leftovers(
  aws: TestClients,
  stack: string,
  region = 'us-east-1',
): Promise<string[]> {
  const names = stackNames(stack, region);
  const tagFilter = [{ Name: `tag:${STACK_TAG_KEY}`, Values: [stack] }];
  const found: string[] = [];
  const [vpcs, subnets, groups, gateways, tables] = await Promise.all([
    aws.ec2.send(new DescribeVpcsCommand({ Filters: tagFilter })),
    aws.ec2.send(new DescribeSubnetsCommand({ Filters: tagFilter })),
    aws.ec2.send(new DescribeSecurityGroupsCommand({ Filters: tagFilter })),
    aws.ec2.send(new DescribeInternetGatewaysCommand({ Filters: tagFilter })),
    aws.ec2.send(new DescribeRouteTablesCommand({ Filters: tagFilter })),
  ]);
  for (const v of vpcs.Vpcs ?? []) found.push(`vpc ${v.VpcId}`);
  for (const s of subnets.Subnets ?? []) found.push(`subnet ${s.SubnetId}`);
  for (const g of groups.SecurityGroups ?? []) found.push(`security group ${g.GroupId}`);
  for (const g of gateways.InternetGateways ?? [])
    found.push(`internet gateway ${g.InternetGatewayId}`);
  for (const t of tables.RouteTables ?? []) found.push(`route table ${t.RouteTableId}`);
  const lbs = await aws.elbv2.send(new DescribeLoadBalancersCommand({}));
  for (const lb of lbs.LoadBalancers ?? [])
    if (lb.LoadBalancerName === names.loadBalancer)
      found.push(`load balancer ${lb.LoadBalancerName}`);
  const tgs = await aws.elbv2.send(new DescribeTargetGroupsCommand({}));
  for (const tg of tgs.TargetGroups ?? [])
    if (tg.TargetGroupName === names.targetGroup) found.push(`target group ${tg.TargetGroupName}`);
  const clusters = await aws.ecs.send(new DescribeClustersCommand({ clusters: [names.cluster] }));
  for (const c of clusters.clusters ?? []) {
    if (c.status === 'ACTIVE') {
      found.push(`cluster ${c.clusterName}`);
      const services = await aws.ecs.send(
        new DescribeServicesCommand({ cluster: names.cluster, services: [names.service] }),
      );
      for (const s of services.services ?? [])
        if (s.status === 'ACTIVE') found.push(`service ${s.serviceName}`);
    }
  }
  const definitions = await aws.ecs.send(
    new ListTaskDefinitionsCommand({ familyPrefix: names.taskFamily, status: 'ACTIVE' }),
  );
  for (const d of definitions.taskDefinitionArns ?? []) found.push(`task definition ${d}`);
  const repos = await aws.ecr
    .send(new DescribeRepositoriesCommand({}))
    .catch(() => ({ repositories: [] }));
  for (const r of repos.repositories ?? [])
    if (r.repositoryName === names.repository) found.push(`repository ${r.repositoryName}`);
  const secrets = await aws.secrets.send(new ListSecretsCommand({}));
  for (const s of secrets.SecretList ?? [])
    if (s.Name === names.secret) found.push(`secret ${s.Name}`);
  const logs = await aws.logs.send(
    new DescribeLogGroupsCommand({ logGroupNamePrefix: names.logGroup }),
  );
  for (const g of logs.logGroups ?? []) found.push(`log group ${g.logGroupName}`);
  const role = await aws.iam
    .send(new GetRoleCommand({ RoleName: names.executionRole }))
    .catch(() => undefined);
  if (role?.Role) found.push(`role ${names.executionRole}`);
  const deployRole = deployRoleName(stack, region);
  const deploy = await aws.iam
    .send(new GetRoleCommand({ RoleName: deployRole }))
    .catch(() => undefined);
  if (deploy?.Role) found.push(`role ${deployRole}`);
  found.push(...(await distributionLeftovers(aws, stack)));
  found.push(...(await operateLeftovers(aws, names)));
  return found;
}

/**
 * The scaler on the service, its policies, the stack's alarms (its own and
 * the TargetTracking-... ones the policies create) and the alarm topic.
 * One page each: a test stack has a handful of each.
 */
async function operateLeftovers(
  aws: TestClients,
  names: ReturnType<typeof stackNames>,
): Promise<string[]> {
  const { stack } = names;
  const resourceId = `service/${names.cluster}/${names.service}`;
  const found: string[] = [];
  const scaling = { ServiceNamespace: 'ecs' as const, ResourceIds: [resourceId] };
  const [targets, policies, ownAlarms, trackingAlarms, topics] = await Promise.all([
    aws.autoscaling.send(new DescribeScalableTargetsCommand(scaling)),
    aws.autoscaling.send(
      new DescribeScalingPoliciesCommand({ ...scaling, ResourceId: resourceId }),
    ),
    aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${stack}-` })),
    aws.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: `TargetTracking-${resourceId}-` }),
    ),
    aws.sns.send(new ListTopicsCommand({})),
  ]);
  for (const t of targets.ScalableTargets ?? []) found.push(`scalable target ${t.ResourceId}`);
  for (const p of policies.ScalingPolicies ?? []) found.push(`scaling policy ${p.PolicyName}`);
  for (const a of [...(ownAlarms.MetricAlarms ?? []), ...(trackingAlarms.MetricAlarms ?? [])])
    found.push(`alarm ${a.AlarmName}`);
  for (const t of topics.Topics ?? [])
    if (t.TopicArn?.endsWith(`:${stack}-alarms`)) found.push(`SNS topic ${t.TopicArn}`);
  return found;
}

/** CloudFront distributions tagged with the stack (ListDistributions carries no tags). */
async function distributionLeftovers(aws: TestClients, stack: string): Promise<string[]> {
  const found: string[] = [];
  const list = await aws.cloudfront.send(new ListDistributionsCommand({}));
  for (const d of list.DistributionList?.Items ?? []) {
    if (d.ARN === undefined) continue;
    const tags = await aws.cloudfront.send(new ListTagsForResourceCommand({ Resource: d.ARN }));
    if ((tags.Tags?.Items ?? []).some((t) => t.Key === STACK_TAG_KEY && t.Value === stack))
      found.push(`CloudFront distribution ${d.Id}`);
  }
  return found;
}

/**
 * Dependency checks on delete that AWS makes and moto skips (CI-MACHINE.md,
 * "Where moto is looser than AWS"). Each rule looks at moto's state through
 * env.moto and refuses the delete with AWS's own code and wording.
 */
import {
  DescribeInternetGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
} from '@aws-sdk/client-ec2';
import { DescribeServicesCommand, ListServicesCommand } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ListAttachedRolePoliciesCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import type { TestClients } from '../../aws.js';
import type { AwsErrorReply, AwsRequest, RuleEnv, StrictRule } from '../types.js';
import { lingeringNetworkInterfaces } from './state-network-interfaces.js';
import { stringParam } from './state-xml.js';

type Check = (clients: TestClients, request: AwsRequest) => Promise<AwsErrorReply | undefined>;

function deleteCheck(
  name: string,
  source: string,
  service: string,
  operation: string,
  check: Check,
): StrictRule {
  return {
    name,
    source,
    before(request: AwsRequest, env: RuleEnv) {
      if (request.service !== service || request.operation !== operation)
        return Promise.resolve(undefined);
      return check(env.moto(request.region), request);
    },
  };
}

const dependencyViolation = (message: string): AwsErrorReply => ({
  status: 400,
  code: 'DependencyViolation',
  message,
});

async function interfacesWhere(clients: TestClients, name: string, value: string) {
  const out = await clients.ec2.send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: name, Values: [value] }] }),
  );
  return out.NetworkInterfaces ?? [];
}

// EC2 API reference, DeleteSecurityGroup: "If you attempt to delete a security group that is
// associated with an instance or network interface, is referenced by another security group in
// the same VPC, ... the operation fails with DependencyViolation."
const securityGroupInUse: Check = async (clients, request) => {
  const groupId = stringParam(request.params, 'GroupId');
  if (groupId === undefined) return undefined;
  const groups =
    (await clients.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
  const referenced = groups.some(
    (g) =>
      g.GroupId !== groupId &&
      [...(g.IpPermissions ?? []), ...(g.IpPermissionsEgress ?? [])].some((p) =>
        (p.UserIdGroupPairs ?? []).some((pair) => pair.GroupId === groupId),
      ),
  );
  const used = referenced || (await interfacesWhere(clients, 'group-id', groupId)).length > 0;
  return used ? dependencyViolation(`resource ${groupId} has a dependent object`) : undefined;
};

// EC2 API reference, DeleteSubnet: "You must terminate all running instances in the subnet
// before you can delete the subnet." Network interfaces left by ELB and ECS count too.
const subnetInUse: Check = async (clients, request) => {
  const subnetId = stringParam(request.params, 'SubnetId');
  if (subnetId === undefined) return undefined;
  const enis = await interfacesWhere(clients, 'subnet-id', subnetId);
  return enis.length > 0
    ? dependencyViolation(`The subnet '${subnetId}' has dependencies and cannot be deleted.`)
    : undefined;
};

// EC2 API reference, DeleteVpc: "You must detach or delete all gateways and resources that are
// associated with the VPC before you can delete it", e.g. non-default security groups and
// non-main route tables.
const vpcInUse: Check = async (clients, request) => {
  const vpcId = stringParam(request.params, 'VpcId');
  if (vpcId === undefined) return undefined;
  const inVpc = [{ Name: 'vpc-id', Values: [vpcId] }];
  const [subnets, gateways, groups, tables] = await Promise.all([
    clients.ec2.send(new DescribeSubnetsCommand({ Filters: inVpc })),
    clients.ec2.send(
      new DescribeInternetGatewaysCommand({
        Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }],
      }),
    ),
    clients.ec2.send(new DescribeSecurityGroupsCommand({ Filters: inVpc })),
    clients.ec2.send(new DescribeRouteTablesCommand({ Filters: inVpc })),
  ]);
  const dependents =
    (subnets.Subnets ?? []).length +
    (gateways.InternetGateways ?? []).length +
    (groups.SecurityGroups ?? []).filter((g) => g.GroupName !== 'default').length +
    (tables.RouteTables ?? []).filter((t) => !(t.Associations ?? []).some((a) => a.Main === true))
      .length;
  return dependents > 0
    ? dependencyViolation(`The vpc '${vpcId}' has dependencies and cannot be deleted.`)
    : undefined;
};

// Interfaces of load balancer nodes and tasks keep public addresses until AWS releases them
// (hashicorp/terraform#1303, alchemy-run/alchemy#1125).
const gatewayStillMapped: Check = async (clients, request) => {
  const vpcId = stringParam(request.params, 'VpcId');
  if (vpcId === undefined) return undefined;
  const enis = await interfacesWhere(clients, 'vpc-id', vpcId);
  return enis.length > 0
    ? dependencyViolation(
        `Network ${vpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
      )
    : undefined;
};

// ELBv2 API reference, DeleteTargetGroup: "You can delete a target group if it is not referenced
// by any actions"; error ResourceInUse (cloudposse/terraform-aws-alb-ingress#24 for the wording).
const targetGroupInUse: Check = async (clients, request) => {
  const arn = stringParam(request.params, 'TargetGroupArn');
  if (arn === undefined) return undefined;
  const balancers =
    (await clients.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  for (const lb of balancers) {
    const listeners =
      (
        await clients.elbv2.send(
          new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }),
        )
      ).Listeners ?? [];
    const forwards = listeners.some((l) =>
      (l.DefaultActions ?? []).some(
        (a) =>
          a.TargetGroupArn === arn ||
          (a.ForwardConfig?.TargetGroups ?? []).some((t) => t.TargetGroupArn === arn),
      ),
    );
    if (forwards) {
      return {
        status: 400,
        code: 'ResourceInUse',
        message: `Target group '${arn}' is currently in use by a listener or a rule`,
      };
    }
  }
  return undefined;
};

// ECS API reference, DeleteCluster: "You must delete all services that are running in the
// cluster" first; ClusterContainsServicesException while any is ACTIVE or DRAINING.
const clusterHasServices: Check = async (clients, request) => {
  const cluster = typeof request.params.cluster === 'string' ? request.params.cluster : 'default';
  const arns = (await clients.ecs.send(new ListServicesCommand({ cluster }))).serviceArns ?? [];
  if (arns.length === 0) return undefined;
  const services =
    (await clients.ecs.send(new DescribeServicesCommand({ cluster, services: arns.slice(0, 10) })))
      .services ?? [];
  return services.some((s) => s.status === 'ACTIVE' || s.status === 'DRAINING')
    ? {
        status: 400,
        code: 'ClusterContainsServicesException',
        message: 'The Cluster cannot be deleted while Services are active.',
      }
    : undefined;
};

// IAM API reference, DeleteRole: "you must first remove those items: inline policies
// (DeleteRolePolicy), attached managed policies (DetachRolePolicy)"; error DeleteConflict.
const roleHasPolicies: Check = async (clients, request) => {
  const role = stringParam(request.params, 'RoleName');
  if (role === undefined) return undefined;
  const attached = await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }));
  if ((attached.AttachedPolicies ?? []).length > 0) {
    return {
      status: 409,
      code: 'DeleteConflict',
      message: 'Cannot delete entity, must detach all policies first.',
    };
  }
  const inline = await clients.iam.send(new ListRolePoliciesCommand({ RoleName: role }));
  return (inline.PolicyNames ?? []).length > 0
    ? {
        status: 409,
        code: 'DeleteConflict',
        message: 'Cannot delete entity, must delete policies first.',
      }
    : undefined;
};

const EC2_API = 'https://docs.aws.amazon.com/AWSEC2/latest/APIReference';

export function dependencyRules(): StrictRule[] {
  return [
    // First, so a released interface can disappear before the checks below look.
    lingeringNetworkInterfaces(),
    deleteCheck(
      'sg-in-use',
      `${EC2_API}/API_DeleteSecurityGroup.html`,
      'ec2',
      'DeleteSecurityGroup',
      securityGroupInUse,
    ),
    deleteCheck(
      'subnet-in-use',
      `${EC2_API}/API_DeleteSubnet.html`,
      'ec2',
      'DeleteSubnet',
      subnetInUse,
    ),
    deleteCheck('vpc-in-use', `${EC2_API}/API_DeleteVpc.html`, 'ec2', 'DeleteVpc', vpcInUse),
    deleteCheck(
      'igw-mapped-addresses',
      'https://github.com/hashicorp/terraform/issues/1303',
      'ec2',
      'DetachInternetGateway',
      gatewayStillMapped,
    ),
    deleteCheck(
      'target-group-in-use',
      'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DeleteTargetGroup.html',
      'elasticloadbalancing',
      'DeleteTargetGroup',
      targetGroupInUse,
    ),
    deleteCheck(
      'cluster-has-services',
      'https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeleteCluster.html',
      'ecs',
      'DeleteCluster',
      clusterHasServices,
    ),
    deleteCheck(
      'role-has-policies',
      'https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html',
      'iam',
      'DeleteRole',
      roleHasPolicies,
    ),
  ];
}

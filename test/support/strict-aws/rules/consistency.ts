/**
 * Eventual consistency: AWS's control planes answer a read or modify of a
 * resource created a moment ago as if it did not exist yet. moto is always
 * consistent, so the CLI's "treat not visible yet as pending" paths never run
 * without these rules.
 */
import type { AwsErrorReply, AwsRequest, StrictRule, UpstreamResponse } from '../types.js';
import { firstTag, headersWithoutLength, isSuccess, jsonBody, stringParam } from './state-xml.js';

const EC2_CONSISTENCY = 'https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html';

interface Ec2Kind {
  readonly create: string;
  readonly idTag: string;
  readonly code: string;
  readonly message: (id: string) => string;
}

// Codes and wording of EC2's NotFound errors (EC2 API reference, "Error codes":
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
const EC2_KINDS: readonly Ec2Kind[] = [
  {
    create: 'CreateVpc',
    idTag: 'vpcId',
    code: 'InvalidVpcID.NotFound',
    message: (id) => `The vpc ID '${id}' does not exist`,
  },
  {
    create: 'CreateSubnet',
    idTag: 'subnetId',
    code: 'InvalidSubnetID.NotFound',
    message: (id) => `The subnet ID '${id}' does not exist`,
  },
  {
    create: 'CreateInternetGateway',
    idTag: 'internetGatewayId',
    code: 'InvalidInternetGatewayID.NotFound',
    message: (id) => `The internetGateway ID '${id}' does not exist`,
  },
  {
    create: 'CreateRouteTable',
    idTag: 'routeTableId',
    code: 'InvalidRouteTableID.NotFound',
    message: (id) => `The routeTable ID '${id}' does not exist`,
  },
  {
    create: 'CreateSecurityGroup',
    idTag: 'groupId',
    code: 'InvalidGroup.NotFound',
    message: (id) => `The security group '${id}' does not exist`,
  },
];

/** Calls that read or change an existing resource named by id (filters never fail: they match nothing). */
function readsOrModifies(operation: string): boolean {
  return (
    /^(Describe|Modify|Attach|Associate|Authorize|Revoke|Replace)/.test(operation) ||
    [
      'CreateRoute',
      'CreateSubnet',
      'CreateSecurityGroup',
      'CreateRouteTable',
      'CreateTags',
    ].includes(operation)
  );
}

function namedIds(params: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(params)
    .filter(([key]) => !key.startsWith('Filter.'))
    .map(([, value]) => value)
    .filter((value): value is string => typeof value === 'string');
}

/** EC2: the first describe or modify naming an id this proxy saw created answers NotFound once. */
export function ec2NotFoundAfterCreate(): StrictRule {
  const pending = new Map<string, Ec2Kind>();
  return {
    name: 'ec2-eventual-consistency',
    source: EC2_CONSISTENCY,
    before(request: AwsRequest): Promise<AwsErrorReply | undefined> {
      if (request.service !== 'ec2' || !readsOrModifies(request.operation))
        return Promise.resolve(undefined);
      for (const id of namedIds(request.params)) {
        const kind = pending.get(`${request.region}|${id}`);
        if (kind === undefined) continue;
        pending.delete(`${request.region}|${id}`);
        return Promise.resolve({ status: 400, code: kind.code, message: kind.message(id) });
      }
      return Promise.resolve(undefined);
    },
    after(request: AwsRequest, response: UpstreamResponse): Promise<undefined> {
      const kind = EC2_KINDS.find((k) => k.create === request.operation);
      if (request.service === 'ec2' && kind !== undefined && isSuccess(response)) {
        const id = firstTag(response.body, kind.idTag);
        if (id !== undefined) pending.set(`${request.region}|${id}`, kind);
      }
      return Promise.resolve(undefined);
    },
    reset() {
      pending.clear();
    },
  };
}

/** IAM: GetRole right after CreateRole answers NoSuchEntity once. */
export function iamNoSuchEntityAfterCreate(): StrictRule {
  const pending = new Set<string>();
  return {
    name: 'iam-eventual-consistency',
    // IAM user guide, "Troubleshoot IAM" / "Changes that I make are not always immediately visible";
    // terraform-provider-aws retries NoSuchEntity after CreateRole (internal/service/iam/role.go).
    source:
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency',
    before(request: AwsRequest): Promise<AwsErrorReply | undefined> {
      const role = stringParam(request.params, 'RoleName');
      if (request.operation !== 'GetRole' || role === undefined || !pending.delete(role)) {
        return Promise.resolve(undefined);
      }
      return Promise.resolve({
        status: 404,
        code: 'NoSuchEntity',
        message: `The role with name ${role} cannot be found.`,
      });
    },
    after(request: AwsRequest, response: UpstreamResponse): Promise<undefined> {
      const role = stringParam(request.params, 'RoleName');
      if (request.operation === 'CreateRole' && role !== undefined && isSuccess(response))
        pending.add(role);
      return Promise.resolve(undefined);
    },
    reset() {
      pending.clear();
    },
  };
}

interface EcsDeployment {
  id?: string;
  status?: string;
  taskDefinition?: string;
  createdAt?: number;
}
interface EcsService {
  serviceArn?: string;
  serviceName?: string;
  taskDefinition?: string;
  deployments?: EcsDeployment[];
}

function serviceName(nameOrArn: string): string {
  return nameOrArn.split('/').pop() ?? nameOrArn;
}

function clusterName(nameOrArn: unknown): string {
  return typeof nameOrArn === 'string' ? serviceName(nameOrArn) : 'default';
}

/** The service as it was before the update: without the deployment UpdateService made. */
function withoutDeployment(service: EcsService, deploymentId: string): EcsService {
  const rest = (service.deployments ?? []).filter((d) => d.id !== deploymentId);
  const newest = [...rest].sort((a, b) => (b.createdAt ?? 0) - (a.createdAt ?? 0))[0];
  return {
    ...service,
    taskDefinition: newest?.taskDefinition ?? service.taskDefinition,
    deployments: rest.map((d) => (d === newest ? { ...d, status: 'PRIMARY' } : d)),
  };
}

/**
 * ECS: the first DescribeServices after CreateService answers the service as
 * MISSING, the first after UpdateService answers it without the new deployment.
 */
export function ecsDescribeServicesLag(): StrictRule {
  const missing = new Map<string, string>();
  const staleDeployment = new Map<string, string>();
  const key = (region: string, cluster: unknown, name: string) =>
    `${region}|${clusterName(cluster)}|${serviceName(name)}`;
  return {
    name: 'ecs-describe-services-lag',
    // terraform-provider-aws PR #3387 (retry DescribeServices MISSING after create) and
    // issue #24565 (service read right after update lacks the new deployment).
    source: 'https://github.com/hashicorp/terraform-provider-aws/pull/3387',
    after(request: AwsRequest, response: UpstreamResponse): Promise<UpstreamResponse | undefined> {
      if (request.service !== 'ecs' || !isSuccess(response)) return Promise.resolve(undefined);
      const body = jsonBody(response.body);
      const service = body?.service as EcsService | undefined;
      if (request.operation === 'CreateService' && service?.serviceArn !== undefined) {
        missing.set(
          key(request.region, request.params.cluster, service.serviceArn),
          service.serviceArn,
        );
      }
      if (request.operation === 'UpdateService' && service?.serviceArn !== undefined) {
        const primary = service.deployments?.find((d) => d.status === 'PRIMARY')?.id;
        if (primary !== undefined) {
          staleDeployment.set(
            key(request.region, request.params.cluster, service.serviceArn),
            primary,
          );
        }
      }
      if (request.operation !== 'DescribeServices' || body === undefined)
        return Promise.resolve(undefined);
      return Promise.resolve(rewriteDescribe(request, response, body));
    },
    reset() {
      missing.clear();
      staleDeployment.clear();
    },
  };

  function rewriteDescribe(
    request: AwsRequest,
    response: UpstreamResponse,
    body: Record<string, unknown>,
  ): UpstreamResponse | undefined {
    const services = (body.services as EcsService[] | undefined) ?? [];
    const failures = (body.failures as unknown[] | undefined) ?? [];
    let changed = false;
    const kept: EcsService[] = [];
    for (const service of services) {
      const k = key(
        request.region,
        request.params.cluster,
        service.serviceArn ?? service.serviceName ?? '',
      );
      const arn = missing.get(k);
      if (arn !== undefined) {
        missing.delete(k);
        staleDeployment.delete(k);
        failures.push({ arn, reason: 'MISSING' });
        changed = true;
        continue;
      }
      const deploymentId = staleDeployment.get(k);
      if (deploymentId !== undefined) {
        staleDeployment.delete(k);
        kept.push(withoutDeployment(service, deploymentId));
        changed = true;
        continue;
      }
      kept.push(service);
    }
    if (!changed) return undefined;
    return {
      status: response.status,
      headers: headersWithoutLength(response.headers),
      body: JSON.stringify({ ...body, services: kept, failures }),
    };
  }
}

export function consistencyRules(): StrictRule[] {
  return [ec2NotFoundAfterCreate(), iamNoSuchEntityAfterCreate(), ecsDescribeServicesLag()];
}

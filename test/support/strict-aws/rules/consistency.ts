/**
 * Eventual consistency: AWS's control planes answer a read or modify of a
 * resource created a moment ago as if it did not exist yet. moto is always
 * consistent, so the CLI's "treat not visible yet as pending" paths never run
 * without these rules.
 */
import type { AwsErrorReply, AwsRequest, RuleEnv, StrictRule, UpstreamResponse } from '../types.js';
import { firstTag, headersWithoutLength, isSuccess, jsonBody, stringParam } from './state-xml.js';

const EC2_CONSISTENCY = 'https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html';

/**
 * How long after a create the first read may still miss it. AWS describes
 * the lag as a matter of seconds; a window this short hits the CLI's own
 * create-then-use calls (its retries are scaled down in the e2e suite) but
 * not the user's next command, which on AWS would see a settled account.
 */
export const CONSISTENCY_WINDOW_MS = 1_000;

/** Ids created at a time, each forgotten at its first read or once the window has passed. */
class RecentlyCreated<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  add(key: string, value: V, at: number): void {
    this.entries.set(key, { value, at });
  }
  /** The value when `key` was created within the window; the entry is forgotten either way. */
  take(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    return now - entry.at <= CONSISTENCY_WINDOW_MS ? entry.value : undefined;
  }
  forget(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
}

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
  const pending = new RecentlyCreated<Ec2Kind>();
  return {
    name: 'ec2-eventual-consistency',
    source: EC2_CONSISTENCY,
    before(request: AwsRequest, env: RuleEnv): Promise<AwsErrorReply | undefined> {
      if (request.service !== 'ec2' || !readsOrModifies(request.operation))
        return Promise.resolve(undefined);
      for (const id of namedIds(request.params)) {
        const kind = pending.take(`${request.region}|${id}`, env.now());
        if (kind === undefined) continue;
        return Promise.resolve({ status: 400, code: kind.code, message: kind.message(id) });
      }
      return Promise.resolve(undefined);
    },
    after(request: AwsRequest, response: UpstreamResponse, env: RuleEnv): Promise<undefined> {
      const kind = EC2_KINDS.find((k) => k.create === request.operation);
      if (request.service === 'ec2' && kind !== undefined && isSuccess(response)) {
        const id = firstTag(response.body, kind.idTag);
        if (id !== undefined) pending.add(`${request.region}|${id}`, kind, env.now());
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
  const pending = new RecentlyCreated<true>();
  return {
    name: 'iam-eventual-consistency',
    // IAM user guide, "Troubleshoot IAM" / "Changes that I make are not always immediately visible";
    // terraform-provider-aws retries NoSuchEntity after CreateRole (internal/service/iam/role.go).
    source:
      'https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency',
    before(request: AwsRequest, env: RuleEnv): Promise<AwsErrorReply | undefined> {
      const role = stringParam(request.params, 'RoleName');
      if (request.operation !== 'GetRole' || role === undefined || !pending.take(role, env.now())) {
        return Promise.resolve(undefined);
      }
      return Promise.resolve({
        status: 404,
        code: 'NoSuchEntity',
        message: `The role with name ${role} cannot be found.`,
      });
    },
    after(request: AwsRequest, response: UpstreamResponse, env: RuleEnv): Promise<undefined> {
      const role = stringParam(request.params, 'RoleName');
      if (request.operation === 'CreateRole' && role !== undefined && isSuccess(response))
        pending.add(role, true, env.now());
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
  const missing = new RecentlyCreated<string>();
  const staleDeployment = new RecentlyCreated<string>();
  const key = (region: string, cluster: unknown, name: string) =>
    `${region}|${clusterName(cluster)}|${serviceName(name)}`;
  return {
    name: 'ecs-describe-services-lag',
    // terraform-provider-aws PR #3387 (retry DescribeServices MISSING after create) and
    // issue #24565 (service read right after update lacks the new deployment).
    source: 'https://github.com/hashicorp/terraform-provider-aws/pull/3387',
    after(
      request: AwsRequest,
      response: UpstreamResponse,
      env: RuleEnv,
    ): Promise<UpstreamResponse | undefined> {
      if (request.service !== 'ecs' || !isSuccess(response)) return Promise.resolve(undefined);
      const now = env.now();
      const body = jsonBody(response.body);
      const service = body?.service as EcsService | undefined;
      if (request.operation === 'CreateService' && service?.serviceArn !== undefined) {
        missing.add(
          key(request.region, request.params.cluster, service.serviceArn),
          service.serviceArn,
          now,
        );
      }
      if (request.operation === 'UpdateService' && service?.serviceArn !== undefined) {
        const primary = service.deployments?.find((d) => d.status === 'PRIMARY')?.id;
        if (primary !== undefined) {
          staleDeployment.add(
            key(request.region, request.params.cluster, service.serviceArn),
            primary,
            now,
          );
        }
      }
      if (request.operation !== 'DescribeServices' || body === undefined)
        return Promise.resolve(undefined);
      return Promise.resolve(rewriteDescribe(request, response, body, now));
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
    now: number,
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
      const arn = missing.take(k, now);
      if (arn !== undefined) {
        staleDeployment.forget(k);
        failures.push({ arn, reason: 'MISSING' });
        changed = true;
        continue;
      }
      const deploymentId = staleDeployment.take(k, now);
      if (deploymentId !== undefined) {
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

/**
 * Network interfaces that AWS creates for load balancer nodes and Fargate
 * tasks, and releases only some time after their owner is gone. moto creates
 * none, so without this rule no delete in the VPC ever meets a dependency.
 * Descriptions as AWS writes them: `ELB app/<name>/<id>` for an ALB node,
 * `arn:aws:ecs:<region>:<account>:attachment/<uuid>` for a task (what
 * provision/network.ts recognises as released by AWS).
 */
import { randomUUID } from 'node:crypto';
import { CreateNetworkInterfaceCommand, DeleteNetworkInterfaceCommand } from '@aws-sdk/client-ec2';
import type { TestClients } from '../../aws.js';
import type { AwsRequest, RuleEnv, StrictRule, UpstreamResponse } from '../types.js';
import { allTags, firstTag, isSuccess, jsonBody, listParam, stringParam } from './state-xml.js';

interface Owner {
  readonly region: string;
  readonly eniIds: string[];
}

interface Lingering {
  readonly region: string;
  readonly eniId: string;
  callsLeft: number;
}

interface EcsServiceBody {
  serviceArn?: string;
  desiredCount?: number;
  networkConfiguration?: {
    awsvpcConfiguration?: { subnets?: string[]; securityGroups?: string[] };
  };
}

/** Calls after which a released interface may be gone: the ones a teardown waits with. */
const WAITING_CALLS = new Set([
  'DescribeNetworkInterfaces',
  'DeleteSubnet',
  'DeleteSecurityGroup',
  'DetachInternetGateway',
  'DeleteVpc',
]);

async function createInterfaces(
  clients: TestClients,
  subnets: readonly string[],
  count: number,
  groups: readonly string[],
  description: () => string,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count && subnets.length > 0; i++) {
    const out = await clients.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnets[i % subnets.length],
        Groups: groups.length > 0 ? [...groups] : undefined,
        Description: description(),
      }),
    );
    if (out.NetworkInterface?.NetworkInterfaceId) ids.push(out.NetworkInterface.NetworkInterfaceId);
  }
  return ids;
}

function serviceKey(region: string, cluster: unknown, service: string): string {
  const clusterName =
    typeof cluster === 'string' ? (cluster.split('/').pop() ?? cluster) : 'default';
  return `ecs|${region}|${clusterName}|${service.split('/').pop() ?? service}`;
}

export function lingeringNetworkInterfaces(lingerCalls = 3): StrictRule {
  const owners = new Map<string, Owner>();
  const lingering: Lingering[] = [];

  const release = (key: string) => {
    const owner = owners.get(key);
    if (owner === undefined) return;
    owners.delete(key);
    for (const eniId of owner.eniIds)
      lingering.push({ region: owner.region, eniId, callsLeft: lingerCalls });
  };

  async function tick(request: AwsRequest, env: RuleEnv): Promise<void> {
    for (const eni of [...lingering]) {
      if (eni.region !== request.region) continue;
      if (eni.callsLeft > 0) {
        eni.callsLeft -= 1;
        continue;
      }
      lingering.splice(lingering.indexOf(eni), 1);
      await env
        .moto(eni.region)
        .ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.eniId }))
        .catch(() => undefined);
    }
  }

  async function loadBalancerCreated(
    request: AwsRequest,
    response: UpstreamResponse,
    env: RuleEnv,
  ) {
    const arn = firstTag(response.body, 'LoadBalancerArn');
    const name = firstTag(response.body, 'LoadBalancerName') ?? stringParam(request.params, 'Name');
    if (arn === undefined || name === undefined) return;
    const key = `elb|${request.region}|${name}`;
    if (owners.has(key)) return; // the same load balancer answered again (names rule)
    const subnets = allTags(response.body, 'SubnetId');
    const groups = listParam(request.params, 'SecurityGroups');
    const id = arn.split('/').pop() ?? '';
    const eniIds = await createInterfaces(
      env.moto(request.region),
      subnets,
      subnets.length,
      groups,
      () => `ELB app/${name}/${id}`,
    );
    owners.set(key, { region: request.region, eniIds });
  }

  async function serviceDeployed(request: AwsRequest, response: UpstreamResponse, env: RuleEnv) {
    const service = jsonBody(response.body)?.service as EcsServiceBody | undefined;
    if (service?.serviceArn === undefined) return;
    const key = serviceKey(request.region, request.params.cluster, service.serviceArn);
    release(key); // a new deployment's tasks replace the old ones, whose interfaces linger
    const vpc = service.networkConfiguration?.awsvpcConfiguration;
    const account = service.serviceArn.split(':')[4] ?? '123456789012';
    const eniIds = await createInterfaces(
      env.moto(request.region),
      vpc?.subnets ?? [],
      service.desiredCount ?? 0,
      vpc?.securityGroups ?? [],
      () => `arn:aws:ecs:${request.region}:${account}:attachment/${randomUUID()}`,
    );
    owners.set(key, { region: request.region, eniIds });
  }

  return {
    name: 'lingering-network-interfaces',
    // ELB user guide: the load balancer's network interfaces; ECS developer guide, "Fargate task
    // networking" (one ENI per task); both released minutes after the owner is deleted
    // (AWS-NOTES "Deleting" 3, hashicorp/terraform-provider-aws#9495).
    source:
      'https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html ; https://github.com/hashicorp/terraform-provider-aws/issues/9495',
    async before(request: AwsRequest, env: RuleEnv) {
      if (request.service === 'ec2' && WAITING_CALLS.has(request.operation))
        await tick(request, env);
      return undefined;
    },
    async after(request: AwsRequest, response: UpstreamResponse, env: RuleEnv) {
      if (!isSuccess(response)) return undefined;
      if (request.service === 'elasticloadbalancing') {
        if (request.operation === 'CreateLoadBalancer')
          await loadBalancerCreated(request, response, env);
        if (request.operation === 'DeleteLoadBalancer') {
          const arn = stringParam(request.params, 'LoadBalancerArn') ?? '';
          const name = arn.split('/').at(-2) ?? '';
          release(`elb|${request.region}|${name}`);
        }
      }
      if (request.service === 'ecs') {
        if (request.operation === 'CreateService' || request.operation === 'UpdateService') {
          await serviceDeployed(request, response, env);
        }
        if (request.operation === 'DeleteService' && typeof request.params.service === 'string') {
          release(serviceKey(request.region, request.params.cluster, request.params.service));
        }
      }
      return undefined;
    },
    reset() {
      owners.clear();
      lingering.length = 0;
    },
  };
}

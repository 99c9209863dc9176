/**
 * The stack's network: one VPC, two public subnets in two zones, an internet
 * gateway with a default route, and the two security groups (load balancer,
 * tasks). No NAT gateway: tasks get public IPs and reach ECR / Secrets
 * Manager through the internet gateway, which costs nothing extra.
 */
import type { Converged, StackContext } from '../../context.js';
import { ChangeSet } from '../../plan.js';
import { ensureRoutes } from './routes.js';
import { ensureSecurityGroups } from './security-groups.js';
import { NetworkError, type Network, type NetworkSettings } from './shared.js';
import { ensureSubnets } from './subnets.js';
import { ensureInternetGateway, ensureVpc } from './vpc.js';

export { describeNetwork } from './describe.js';
export {
  NetworkRemovalTimeoutError,
  removeNetwork,
  waitForNetworkInterfacesReleased,
} from './remove.js';
export {
  NetworkError,
  SUBNET_CIDRS,
  VPC_CIDR,
  type Network,
  type NetworkSettings,
  type NetworkStatus,
} from './shared.js';

/**
 * Converges the network and returns its ids. With ctx.dryRun it only
 * describes and returns the changes it would make; ids of what it would
 * create are NOT_CREATED_YET.
 */
export async function ensureNetwork(
  ctx: StackContext,
  settings: NetworkSettings,
): Promise<Converged<Network>> {
  validatePort(settings.containerPort);
  const changes = new ChangeSet();
  const vpc = await ensureVpc(ctx);
  changes.add(...vpc.changes);
  const subnets = await ensureSubnets(ctx, vpc.value);
  changes.add(...subnets.changes);
  const gateway = await ensureInternetGateway(ctx, vpc.value);
  changes.add(...gateway.changes);
  const routes = await ensureRoutes(ctx, vpc.value, gateway.value, subnets.value);
  changes.add(...routes.changes);
  const groups = await ensureSecurityGroups(ctx, vpc.value, settings);
  changes.add(...groups.changes);
  return {
    changes: changes.list,
    value: {
      vpcId: vpc.value,
      subnetIds: subnets.value.map((s) => s.subnetId),
      availabilityZones: subnets.value.map((s) => s.zone),
      ...groups.value,
    },
  };
}

function validatePort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new NetworkError(
      `Invalid container port ${port}: use an integer from 1 to 65535 (the port the service listens on, 8080 by default).`,
    );
  }
}

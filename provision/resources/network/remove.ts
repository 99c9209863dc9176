/**
 * Removing the network: wait for the interfaces AWS releases by itself,
 * then delete in dependency order (security groups, subnets, internet
 * gateway, route table, VPC), retrying while AWS still reports a dependency.
 * In a dry run it lists the delete changes and touches nothing.
 */
import {
  DeleteInternetGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  RevokeSecurityGroupIngressCommand,
  type NetworkInterface,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import type { Removal, StackContext } from '../../context.js';
import { ChangeSet } from '../../plan.js';
import {
  errorCode,
  errorMessage,
  hasErrorCode,
  isNotFound,
  messageMatches,
  pollUntil,
  PollTimeoutError,
  retry,
  RetryTimeoutError,
} from '../../retry.js';
import {
  findAttachedGateways,
  findNetworkInterfaces,
  findRouteTables,
  findSecurityGroups,
  findStackGateways,
  findStackVpcs,
  findSubnets,
  isMainRouteTable,
} from './describe.js';
import { byString } from './shared.js';

const DEFAULT_REMOVE_TIMEOUT_MS = 20 * 60_000;

export class NetworkRemovalTimeoutError extends Error {
  constructor(what: string, timeoutMs: number, cause: unknown) {
    super(
      `Could not finish ${what} within ${Math.round(timeoutMs / 60_000)} min: ` +
        `${errorCode(cause)}: ${errorMessage(cause)}. Something still uses it, usually network ` +
        `interfaces of a load balancer or ECS task that AWS has not released yet. ` +
        `Run "npx iclinic-deploy down" again in a few minutes; if it keeps failing, look for ` +
        `resources left in the VPC in the AWS console (VPC > Network interfaces).`,
    );
    this.name = 'NetworkRemovalTimeoutError';
  }
}

/**
 * Interfaces that AWS services create and release by themselves (load
 * balancer nodes, Fargate tasks). Anything else was put in the VPC by
 * someone else and will never go away if we just wait.
 */
function releasedByAws(eni: NetworkInterface): boolean {
  const description = eni.Description ?? '';
  return (
    eni.RequesterManaged === true || description.startsWith('ELB ') || description.includes(':ecs:')
  );
}

/** How a progress line names an interface: its description, else its id. */
function interfaceLabel(eni: NetworkInterface): string {
  return eni.Description !== undefined && eni.Description !== ''
    ? eni.Description
    : (eni.NetworkInterfaceId ?? 'unknown interface');
}

export async function waitForNetworkInterfacesReleased(
  ctx: StackContext,
  vpcId: string,
  timeoutMs: number,
): Promise<void> {
  let lastReported = '';
  const warned = new Set<string>();
  const what = `waiting for network interfaces in VPC ${vpcId} to be released`;
  try {
    await pollUntil(ctx.clock, { what, timeoutMs, intervalMs: 10_000 }, async () => {
      const all = await findNetworkInterfaces(ctx, vpcId);
      for (const eni of all.filter((e) => !releasedByAws(e))) {
        const id = eni.NetworkInterfaceId ?? '';
        if (warned.has(id)) continue;
        warned.add(id);
        ctx.report.warn(
          `Network interface ${id} (${interfaceLabel(eni)}) in VPC ${vpcId} was not created by a load balancer or ECS task; ` +
            `iclinic-deploy does not delete it, and the VPC cannot be deleted until you remove it.`,
        );
      }
      const pending = all.filter(releasedByAws);
      const state = `${pending.length} network interface(s) (${pending.map(interfaceLabel).join(', ')})`;
      if (pending.length > 0 && state !== lastReported) {
        ctx.report.progress(`waiting for AWS to release ${state}`);
        lastReported = state;
      }
      return { done: pending.length === 0, state };
    });
  } catch (error) {
    if (error instanceof PollTimeoutError)
      throw new NetworkRemovalTimeoutError(what, timeoutMs, error);
    throw error;
  }
}

function isStillInUse(error: unknown): boolean {
  return (
    hasErrorCode(error, 'DependencyViolation', 'InvalidNetworkInterface.InUse') ||
    messageMatches(error, /mapped public address/i)
  );
}

/** Deletes with retries while AWS still reports a dependency; true if deleted, false if already gone. */
type DeleteWhenFree = (what: string, call: () => Promise<unknown>) => Promise<boolean>;

function deleteWhenFree(ctx: StackContext, deadline: number, timeoutMs: number): DeleteWhenFree {
  return async (what, call) => {
    let notified = false;
    try {
      await retry(
        ctx.clock,
        {
          what,
          isRetryable: isStillInUse,
          timeoutMs: Math.max(0, deadline - ctx.clock.now()),
          initialDelayMs: 5_000,
          maxDelayMs: 30_000,
          onRetry: (error, attempt, elapsed) => {
            if (notified && attempt % 5 !== 0) return;
            notified = true;
            ctx.report.progress(
              `waiting for AWS to release what still uses it before ${what} (${errorCode(error)}, ${Math.round(elapsed / 1000)} s so far)`,
            );
          },
        },
        call,
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      if (error instanceof RetryTimeoutError)
        throw new NetworkRemovalTimeoutError(what, timeoutMs, error.lastError);
      throw error;
    }
  };
}

/** A call whose target may already be gone (an association of a deleted subnet). */
async function ignoringNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

interface Remover {
  readonly ctx: StackContext;
  readonly del: DeleteWhenFree;
  readonly changes: ChangeSet;
}

async function removeSecurityGroups(r: Remover, vpcId: string): Promise<void> {
  const { ctx, del, changes } = r;
  const names = ctx.names;
  // The tasks group references the load balancer group, so it goes first,
  // and its rules go before it so the load balancer group is free even if
  // deleting the tasks group itself has to wait.
  const rank = (g: SecurityGroup) =>
    g.GroupName === names.taskSecurityGroup
      ? 0
      : g.GroupName === names.loadBalancerSecurityGroup
        ? 1
        : 2;
  const groups = (await findSecurityGroups(ctx, vpcId))
    .filter((g) => g.GroupName !== 'default')
    .sort((a, b) => rank(a) - rank(b));
  if (ctx.dryRun) {
    for (const g of groups) changes.delete('security group', g.GroupName ?? '', g.GroupId);
    return;
  }
  for (const g of groups) {
    const referencing = (g.IpPermissions ?? []).filter(
      (p) => (p.UserIdGroupPairs ?? []).length > 0,
    );
    if (referencing.length === 0) continue;
    await ignoringNotFound(() =>
      ctx.clients.ec2.send(
        new RevokeSecurityGroupIngressCommand({ GroupId: g.GroupId, IpPermissions: referencing }),
      ),
    );
  }
  for (const g of groups) {
    const groupId = g.GroupId as string;
    const deleted = await del(`deleting security group ${g.GroupName} (${groupId})`, () =>
      ctx.clients.ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId })),
    );
    if (deleted) changes.delete('security group', g.GroupName ?? groupId, groupId);
  }
}

async function removeSubnets(r: Remover, vpcId: string): Promise<void> {
  const { ctx, del, changes } = r;
  for (const s of (await findSubnets(ctx, vpcId)).sort(byString((x) => x.CidrBlock))) {
    const subnetId = s.SubnetId as string;
    const deleted =
      ctx.dryRun ||
      (await del(`deleting subnet ${subnetId}`, () =>
        ctx.clients.ec2.send(new DeleteSubnetCommand({ SubnetId: subnetId })),
      ));
    if (deleted) changes.delete('subnet', subnetId, s.CidrBlock);
  }
}

/** Detaches the gateway from each VPC it is attached to, then deletes it. */
async function removeInternetGateway(
  r: Remover,
  gatewayId: string,
  attachedTo: readonly string[],
): Promise<void> {
  const { ctx, del, changes } = r;
  if (ctx.dryRun) {
    changes.delete('internet gateway', gatewayId);
    return;
  }
  for (const vpcId of attachedTo) {
    await del(`detaching internet gateway ${gatewayId}`, () =>
      ctx.clients.ec2.send(
        new DetachInternetGatewayCommand({ InternetGatewayId: gatewayId, VpcId: vpcId }),
      ),
    );
  }
  const deleted = await del(`deleting internet gateway ${gatewayId}`, () =>
    ctx.clients.ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: gatewayId })),
  );
  if (deleted) changes.delete('internet gateway', gatewayId);
}

async function removeRouteTables(r: Remover, vpcId: string): Promise<void> {
  const { ctx, del, changes } = r;
  for (const table of await findRouteTables(ctx, vpcId)) {
    if (isMainRouteTable(table)) continue; // deleted with the VPC
    const tableId = table.RouteTableId as string;
    if (ctx.dryRun) {
      changes.delete('route table', tableId);
      continue;
    }
    for (const a of table.Associations ?? []) {
      const associationId = a.RouteTableAssociationId;
      if (associationId === undefined || a.SubnetId === undefined) continue;
      // Associations of subnets deleted above are already gone.
      await ignoringNotFound(() =>
        ctx.clients.ec2.send(new DisassociateRouteTableCommand({ AssociationId: associationId })),
      );
    }
    const deleted = await del(`deleting route table ${tableId}`, () =>
      ctx.clients.ec2.send(new DeleteRouteTableCommand({ RouteTableId: tableId })),
    );
    if (deleted) changes.delete('route table', tableId);
  }
}

async function removeVpc(r: Remover, vpcId: string): Promise<void> {
  const { ctx, del, changes } = r;
  const deleted =
    ctx.dryRun ||
    (await del(`deleting VPC ${vpcId}`, () =>
      ctx.clients.ec2.send(new DeleteVpcCommand({ VpcId: vpcId })),
    ));
  if (deleted) changes.delete('VPC', vpcId);
}

export async function removeNetwork(
  ctx: StackContext,
  options: { timeoutMs?: number } = {},
): Promise<Removal> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_REMOVE_TIMEOUT_MS;
  const deadline = ctx.clock.now() + timeoutMs;
  const r: Remover = {
    ctx,
    del: deleteWhenFree(ctx, deadline, timeoutMs),
    changes: new ChangeSet(),
  };
  const handled = new Set<string>();
  for (const vpc of await findStackVpcs(ctx)) {
    const vpcId = vpc.VpcId as string;
    if (!ctx.dryRun) {
      await waitForNetworkInterfacesReleased(ctx, vpcId, Math.max(0, deadline - ctx.clock.now()));
    }
    await removeSecurityGroups(r, vpcId);
    await removeSubnets(r, vpcId);
    for (const gateway of await findAttachedGateways(ctx, vpcId)) {
      const gatewayId = gateway.InternetGatewayId as string;
      handled.add(gatewayId);
      await removeInternetGateway(r, gatewayId, [vpcId]);
    }
    await removeRouteTables(r, vpcId);
    await removeVpc(r, vpcId);
  }
  // A gateway created by a run that stopped before attaching it.
  for (const gateway of await findStackGateways(ctx)) {
    const gatewayId = gateway.InternetGatewayId as string;
    if (handled.has(gatewayId)) continue;
    const attachedTo = (gateway.Attachments ?? []).flatMap((a) =>
      a.VpcId === undefined ? [] : [a.VpcId],
    );
    await removeInternetGateway(r, gatewayId, attachedTo);
  }
  return { changes: r.changes.list };
}

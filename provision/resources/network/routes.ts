/** The stack's route table: a default route to the internet gateway, associated with both subnets. */
import {
  AssociateRouteTableCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import type { Converged, StackContext } from '../../context.js';
import type { StackNames } from '../../names.js';
import { isNotCreatedYet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { findRouteTables, stackRouteTable } from './describe.js';
import { ANYWHERE, changesOf, NetworkError, onceVisible, tagSpec, type Planned } from './shared.js';
import type { SubnetRef } from './subnets.js';

export type RouteAction =
  | { type: 'createTable' }
  | { type: 'createRoute' }
  | { type: 'replaceRoute' }
  | { type: 'associate'; subnetId: string }
  | { type: 'reassociate'; subnetId: string; associationId: string };

export interface RoutesInfo {
  /** The stack's own table, when it exists. */
  readonly table: RouteTable | undefined;
  /** Every table of the VPC, to find a subnet someone moved to another one. */
  readonly tables: readonly RouteTable[];
}

function planDefaultRoute(
  current: RoutesInfo,
  gatewayId: string,
  names: StackNames,
): Planned<RouteAction>[] {
  const name = `${ANYWHERE} in ${names.routeTable}`;
  // Named by its Name tag, the same in the dry run (before it has an id) and the run.
  const to = names.internetGateway;
  const route = (current.table?.Routes ?? []).find((r) => r.DestinationCidrBlock === ANYWHERE);
  if (route === undefined) {
    const change: Change = { action: 'create', kind: 'route', name, detail: `to ${to}` };
    return [{ change, action: { type: 'createRoute' } }];
  }
  if (route.GatewayId === gatewayId && route.State !== 'blackhole') return [];
  const from =
    route.State === 'blackhole'
      ? `${route.GatewayId ?? '?'} (blackhole)`
      : (route.GatewayId ?? '?');
  const change: Change = { action: 'update', kind: 'route', name, detail: 'target', from, to };
  return [{ change, action: { type: 'replaceRoute' } }];
}

function planAssociations(
  current: RoutesInfo,
  subnets: readonly SubnetRef[],
  names: StackNames,
): Planned<RouteAction>[] {
  const planned: Planned<RouteAction>[] = [];
  for (const subnet of subnets) {
    if ((current.table?.Associations ?? []).some((a) => a.SubnetId === subnet.subnetId)) continue;
    // A subnet has at most one explicit association; if someone moved it to
    // another table, AssociateRouteTable would fail, so replace instead
    // (https://docs.aws.amazon.com/vpc/latest/userguide/WorkWithRouteTables.html#Replace_RouteTable).
    const other = current.tables
      .filter((t) => t !== current.table)
      .flatMap((t) => (t.Associations ?? []).map((a) => ({ a, tableId: t.RouteTableId })))
      .find(({ a }) => a.SubnetId === subnet.subnetId && a.RouteTableAssociationId !== undefined);
    const kind = 'route table association';
    if (other?.a.RouteTableAssociationId !== undefined) {
      planned.push({
        change: {
          action: 'update',
          kind,
          name: subnet.name,
          detail: 'route table',
          from: other.tableId ?? '?',
          to: names.routeTable,
        },
        action: {
          type: 'reassociate',
          subnetId: subnet.subnetId,
          associationId: other.a.RouteTableAssociationId,
        },
      });
    } else {
      planned.push({
        change: { action: 'create', kind, name: subnet.name, detail: `with ${names.routeTable}` },
        action: { type: 'associate', subnetId: subnet.subnetId },
      });
    }
  }
  return planned;
}

export function planRoutes(
  current: RoutesInfo,
  gatewayId: string,
  subnets: readonly SubnetRef[],
  names: StackNames,
): Planned<RouteAction>[] {
  const table: Planned<RouteAction>[] =
    current.table === undefined
      ? [
          {
            change: { action: 'create', kind: 'route table', name: names.routeTable },
            action: { type: 'createTable' },
          },
        ]
      : [];
  return [
    ...table,
    ...planDefaultRoute(current, gatewayId, names),
    ...planAssociations(current, subnets, names),
  ];
}

/** Returns the route table id (NOT_CREATED_YET in a dry run that would create it). */
export async function ensureRoutes(
  ctx: StackContext,
  vpcId: string,
  gatewayId: string,
  subnets: readonly SubnetRef[],
): Promise<Converged<string>> {
  const tables = isNotCreatedYet(vpcId) ? [] : await findRouteTables(ctx, vpcId);
  const current = { table: stackRouteTable(ctx, tables), tables };
  const planned = planRoutes(current, gatewayId, subnets, ctx.names);
  const changes = changesOf(planned);
  let tableId = current.table?.RouteTableId;
  if (ctx.dryRun) return { changes, value: tableId ?? NOT_CREATED_YET };
  for (const { action } of planned) {
    if (action.type === 'createTable') tableId = await createTable(ctx, vpcId);
    else if (tableId === undefined) throw new NetworkError('No route table after planning one.');
    else await applyRoute(ctx, tableId, gatewayId, action);
  }
  if (tableId === undefined) throw new NetworkError('No route table after planning one.');
  return { changes, value: tableId };
}

async function createTable(ctx: StackContext, vpcId: string): Promise<string> {
  const out = await onceVisible(ctx, `creating a route table in VPC ${vpcId}`, () =>
    ctx.clients.ec2.send(
      new CreateRouteTableCommand({
        VpcId: vpcId,
        TagSpecifications: tagSpec(ctx, 'route-table', ctx.names.routeTable),
      }),
    ),
  );
  const tableId = out.RouteTable?.RouteTableId;
  if (tableId === undefined) throw new NetworkError('CreateRouteTable returned no id.');
  return tableId;
}

async function applyRoute(
  ctx: StackContext,
  tableId: string,
  gatewayId: string,
  action: Exclude<RouteAction, { type: 'createTable' }>,
): Promise<void> {
  const ec2 = ctx.clients.ec2;
  const route = { RouteTableId: tableId, DestinationCidrBlock: ANYWHERE, GatewayId: gatewayId };
  switch (action.type) {
    case 'createRoute':
      await onceVisible(ctx, `adding route ${ANYWHERE} -> ${gatewayId} to ${tableId}`, () =>
        ec2.send(new CreateRouteCommand(route)),
      );
      return;
    case 'replaceRoute':
      await onceVisible(ctx, `pointing route ${ANYWHERE} in ${tableId} to ${gatewayId}`, () =>
        ec2.send(new ReplaceRouteCommand(route)),
      );
      return;
    case 'associate':
      await onceVisible(
        ctx,
        `associating subnet ${action.subnetId} with route table ${tableId}`,
        () =>
          ec2.send(
            new AssociateRouteTableCommand({ RouteTableId: tableId, SubnetId: action.subnetId }),
          ),
      );
      return;
    case 'reassociate':
      await onceVisible(
        ctx,
        `associating subnet ${action.subnetId} with route table ${tableId}`,
        () =>
          ec2.send(
            new ReplaceRouteTableAssociationCommand({
              AssociationId: action.associationId,
              RouteTableId: tableId,
            }),
          ),
      );
  }
}

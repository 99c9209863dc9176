/**
 * The listeners: HTTP 80 forwarding to the target group, or with a
 * certificate HTTPS 443 forwarding and HTTP 80 redirecting to it, or behind
 * CloudFront HTTP 80 answering a fixed 403 (the origin rule forwards).
 */
import {
  CreateListenerCommand,
  DeleteListenerCommand,
  DescribeListenersCommand,
  ModifyListenerCommand,
  type Action,
  type Listener,
  type ProtocolEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { StackContext } from '../../context.js';
import { stackTags } from '../../names.js';
import { ChangeSet, isNotCreatedYet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { isNotFound } from '../../retry.js';
import { deniedDefaultAction, isDeniedDefault } from '../cloudfront/listener.js';
import { KIND, LoadBalancerError, type LoadBalancerSettings } from './types.js';

export interface DesiredListener {
  readonly port: number;
  readonly protocol: ProtocolEnum;
  readonly certificateArn?: string;
  readonly action: Action;
}

/** One call per listener, each with the changes it applies. */
export type ListenerStep =
  | { readonly op: 'delete'; readonly arn: string; readonly changes: readonly Change[] }
  | { readonly op: 'create'; readonly port: number; readonly changes: readonly Change[] }
  | {
      readonly op: 'modify';
      readonly arn: string;
      readonly port: number;
      readonly changes: readonly Change[];
    };

export async function findListeners(
  ctx: StackContext,
  loadBalancerArn: string,
): Promise<Listener[]> {
  if (isNotCreatedYet(loadBalancerArn)) return [];
  try {
    const out = await ctx.clients.elbv2.send(
      new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }),
    );
    return out.Listeners ?? [];
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

export function desiredListeners(
  targetGroupArn: string,
  settings: Pick<LoadBalancerSettings, 'certificateArn' | 'cloudFront'>,
): DesiredListener[] {
  const forward: Action = { Type: 'forward', TargetGroupArn: targetGroupArn };
  // Anything without CloudFront's secret header gets the 403:
  // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html
  if (settings.cloudFront === true && settings.certificateArn === undefined)
    return [{ port: 80, protocol: 'HTTP', action: deniedDefaultAction() }];
  if (settings.certificateArn === undefined)
    return [{ port: 80, protocol: 'HTTP', action: forward }];
  return [
    { port: 443, protocol: 'HTTPS', certificateArn: settings.certificateArn, action: forward },
    {
      port: 80,
      protocol: 'HTTP',
      // Host, path and query default to the request's own
      // (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-listeners.html#redirect-actions).
      action: {
        Type: 'redirect',
        RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
      },
    },
  ];
}

export function listenerName(protocol: string | undefined, port: number | undefined): string {
  return `${protocol ?? 'unknown'} ${port ?? '?'}`;
}

/** "forward to iclinic-tg", "redirect to HTTPS 443 (301)", "fixed-response". */
export function actionText(
  actions: readonly Action[] | undefined,
  targetGroupName: string,
): string {
  if (actions === undefined || actions.length === 0) return '(none)';
  if (actions.length > 1) return `${actions.length} actions`;
  const action = actions[0] as Action;
  if (action.Type === 'forward') {
    const arn = action.TargetGroupArn ?? action.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn;
    const name =
      arn === undefined || isNotCreatedYet(arn)
        ? targetGroupName
        : (/:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn);
    return `forward to ${name}`;
  }
  if (action.Type === 'redirect') {
    const r = action.RedirectConfig;
    return `redirect to ${r?.Protocol ?? '#{protocol}'} ${r?.Port ?? '#{port}'} (${(r?.StatusCode ?? '').replace('HTTP_', '')})`;
  }
  if (action.Type === 'fixed-response') {
    const status = action.FixedResponseConfig?.StatusCode;
    return status === undefined ? 'fixed response' : `fixed response ${status}`;
  }
  return action.Type ?? 'unknown';
}

function actionMatches(have: Action[] | undefined, want: Action): boolean {
  if (have === undefined || have.length !== 1) return false;
  const action = have[0];
  if (action === undefined || action.Type !== want.Type) return false;
  if (want.Type === 'fixed-response') return isDeniedDefault(have);
  if (want.Type === 'forward') {
    if (action.TargetGroupArn !== undefined) return action.TargetGroupArn === want.TargetGroupArn;
    const groups = action.ForwardConfig?.TargetGroups ?? [];
    return groups.length === 1 && groups[0]?.TargetGroupArn === want.TargetGroupArn;
  }
  const r = action.RedirectConfig;
  const w = want.RedirectConfig;
  return (
    r !== undefined &&
    w !== undefined &&
    r.Protocol === w.Protocol &&
    r.Port === w.Port &&
    r.StatusCode === w.StatusCode &&
    (r.Host ?? '#{host}') === '#{host}' &&
    (r.Path ?? '/#{path}') === '/#{path}' &&
    (r.Query ?? '#{query}') === '#{query}'
  );
}

function planDrift(have: Listener, want: DesiredListener, targetGroupName: string): Change[] {
  const name = listenerName(want.protocol, want.port);
  const changes = new ChangeSet();
  if (have.Protocol !== want.protocol) {
    changes.update(KIND.listener, name, 'protocol', have.Protocol ?? 'unset', want.protocol);
  }
  if (!actionMatches(have.DefaultActions, want.action)) {
    const from = actionText(have.DefaultActions, targetGroupName);
    changes.update(
      KIND.listener,
      name,
      'default action',
      from,
      actionText([want.action], targetGroupName),
    );
  }
  const certificates = (have.Certificates ?? []).map((c) => c.CertificateArn ?? '');
  if (want.certificateArn !== undefined && !certificates.includes(want.certificateArn)) {
    const from = certificates.length === 0 ? '(none)' : certificates.join(', ');
    changes.update(KIND.listener, name, 'certificate', from, want.certificateArn);
  }
  return [...changes.list];
}

/** Pure: the calls ensureListeners would make, with their changes. */
export function planListeners(
  existing: readonly Listener[],
  wanted: readonly DesiredListener[],
  targetGroupName: string,
): ListenerStep[] {
  const steps: ListenerStep[] = [];
  // A listener on a port we no longer serve (443 after dropping the
  // certificate) would keep sending traffic somewhere unintended.
  for (const listener of existing) {
    if (wanted.some((w) => w.port === listener.Port) || listener.ListenerArn === undefined)
      continue;
    const name = listenerName(listener.Protocol, listener.Port);
    const changes = new ChangeSet().delete(
      KIND.listener,
      name,
      'a port the stack no longer serves',
    );
    steps.push({ op: 'delete', arn: listener.ListenerArn, changes: changes.list });
  }
  for (const want of wanted) {
    const have = existing.find((l) => l.Port === want.port);
    const name = listenerName(want.protocol, want.port);
    if (have?.ListenerArn === undefined) {
      const detail = actionText([want.action], targetGroupName);
      const changes = new ChangeSet().create(KIND.listener, name, detail).list;
      steps.push({ op: 'create', port: want.port, changes });
      continue;
    }
    const changes = planDrift(have, want, targetGroupName);
    if (changes.length > 0)
      steps.push({ op: 'modify', arn: have.ListenerArn, port: want.port, changes });
  }
  return steps;
}

/** The listener ARNs in the order of `wanted`, NOT_CREATED_YET for those a dry run would create. */
export function listenerArns(
  existing: readonly Listener[],
  wanted: readonly DesiredListener[],
): string[] {
  return wanted.map((w) => existing.find((l) => l.Port === w.port)?.ListenerArn ?? NOT_CREATED_YET);
}

function listenerInput(want: DesiredListener) {
  return {
    Port: want.port,
    Protocol: want.protocol,
    ...(want.certificateArn === undefined
      ? {}
      : { Certificates: [{ CertificateArn: want.certificateArn }] }),
    DefaultActions: [want.action],
  };
}

async function createListener(
  ctx: StackContext,
  loadBalancerArn: string,
  want: DesiredListener,
): Promise<string> {
  const out = await ctx.clients.elbv2.send(
    new CreateListenerCommand({
      LoadBalancerArn: loadBalancerArn,
      ...listenerInput(want),
      Tags: stackTags(ctx.names.stack),
    }),
  );
  const arn = out.Listeners?.[0]?.ListenerArn;
  if (arn === undefined) throw new LoadBalancerError('CreateListener returned no ARN.');
  return arn;
}

/**
 * Applies exactly the planned steps. `wanted` is built from the real target
 * group ARN, which the plan may not have had (the group is created first).
 */
export async function applyListeners(
  ctx: StackContext,
  loadBalancerArn: string,
  existing: readonly Listener[],
  wanted: readonly DesiredListener[],
  steps: readonly ListenerStep[],
): Promise<string[]> {
  const created = new Map<number, string>();
  for (const step of steps) {
    if (step.op === 'delete') {
      await ctx.clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: step.arn }));
      continue;
    }
    const want = wanted.find((w) => w.port === step.port) as DesiredListener;
    if (step.op === 'create') {
      created.set(step.port, await createListener(ctx, loadBalancerArn, want));
    } else {
      await ctx.clients.elbv2.send(
        new ModifyListenerCommand({ ListenerArn: step.arn, ...listenerInput(want) }),
      );
    }
  }
  return listenerArns(existing, wanted).map((arn, i) => created.get(wanted[i]?.port ?? 0) ?? arn);
}

/**
 * The port-80 listener's rules behind CloudFront: exactly one, at priority 1,
 * forwarding requests that carry CloudFront's secret origin header; the
 * listener's default answers everything else with a 403 (listeners.ts).
 * Any other rule is deleted, because a rule without the header condition
 * would let a request around CloudFront; with CloudFront off (--plain-http,
 * --certificate-arn) the listener has no rules at all.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html
 */
import {
  CreateRuleCommand,
  DeleteRuleCommand,
  ModifyRuleCommand,
  paginateDescribeRules,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Converged, StackContext } from '../../context.js';
import { stackTags } from '../../names.js';
import { ChangeSet, isNotCreatedYet, type Change } from '../../plan.js';
import { isNotFound } from '../../retry.js';
import {
  ORIGIN_RULE_PRIORITY,
  findOriginRule,
  originRule,
  originRuleDrift,
  type OriginSecret,
} from '../cloudfront/listener.js';

export const RULE_KIND = 'listener rule';
const RULE_NAME = `HTTP 80 priority ${ORIGIN_RULE_PRIORITY}`;

export interface OriginRuleSettings {
  /** The port-80 listener; NOT_CREATED_YET in a dry run before it exists. */
  readonly listenerArn: string;
  readonly targetGroupArn: string;
  /** CloudFront's header; undefined when CloudFront is off. Its value may be NOT_CREATED_YET in a dry run. */
  readonly secret: OriginSecret | undefined;
}

export type OriginRuleStep =
  | { readonly op: 'create'; readonly change: Change }
  | { readonly op: 'modify'; readonly arn: string; readonly change: Change }
  | { readonly op: 'delete'; readonly arn: string; readonly change: Change };

/** Read-only: the listener's own rules (the default rule, which cannot be changed this way, left out). */
export async function describeListenerRules(
  ctx: StackContext,
  listenerArn: string,
): Promise<Rule[]> {
  if (isNotCreatedYet(listenerArn)) return [];
  const rules: Rule[] = [];
  try {
    for await (const page of paginateDescribeRules(
      { client: ctx.clients.elbv2 },
      { ListenerArn: listenerArn },
    )) {
      rules.push(...(page.Rules ?? []).filter((rule) => rule.IsDefault !== true));
    }
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return rules;
}

/** Pure: the calls that leave exactly the wanted rule. The secret never appears in a change. */
export function planOriginRule(
  rules: readonly Rule[],
  settings: Pick<OriginRuleSettings, 'secret' | 'targetGroupArn'>,
): OriginRuleStep[] {
  const steps: OriginRuleStep[] = [];
  const { secret } = settings;
  const keep = secret === undefined ? undefined : findOriginRule(rules);
  for (const rule of rules) {
    if (rule === keep || rule.RuleArn === undefined) continue;
    const detail =
      secret === undefined ? 'not needed without CloudFront' : 'would bypass the origin header';
    const change = new ChangeSet().delete(
      RULE_KIND,
      `HTTP 80 priority ${rule.Priority ?? '?'}`,
      detail,
    ).list[0] as Change;
    steps.push({ op: 'delete', arn: rule.RuleArn, change });
  }
  if (secret === undefined) return steps;
  if (keep?.RuleArn === undefined) {
    const change = new ChangeSet().create(
      RULE_KIND,
      RULE_NAME,
      'forward requests carrying the CloudFront origin header',
    ).list[0] as Change;
    return [...steps, { op: 'create', change }];
  }
  // A secret a dry run does not know yet (the distribution would be created): the rule would change.
  const drift = isNotCreatedYet(secret.value)
    ? ['origin header condition']
    : originRuleDrift(keep, secret, settings.targetGroupArn);
  if (drift.length > 0) {
    const change = new ChangeSet().update(RULE_KIND, RULE_NAME, drift.join(', '), 'drifted', 'set')
      .list[0] as Change;
    steps.push({ op: 'modify', arn: keep.RuleArn, change });
  }
  return steps;
}

async function applyStep(
  ctx: StackContext,
  step: OriginRuleStep,
  settings: OriginRuleSettings,
  secret: OriginSecret | undefined,
): Promise<void> {
  const elbv2 = ctx.clients.elbv2;
  if (step.op === 'delete') {
    await elbv2.send(new DeleteRuleCommand({ RuleArn: step.arn }));
    return;
  }
  if (secret === undefined) return;
  const wanted = originRule(secret, settings.targetGroupArn);
  if (step.op === 'create') {
    await elbv2.send(
      new CreateRuleCommand({
        ListenerArn: settings.listenerArn,
        ...wanted,
        Tags: stackTags(ctx.names.stack),
      }),
    );
    return;
  }
  await elbv2.send(
    new ModifyRuleCommand({
      RuleArn: step.arn,
      Conditions: wanted.Conditions,
      Actions: wanted.Actions,
    }),
  );
}

/** Converges the listener's rules; deletions first, so priority 1 is free for a create. */
export async function ensureOriginRule(
  ctx: StackContext,
  settings: OriginRuleSettings,
): Promise<Converged<undefined>> {
  const rules = await describeListenerRules(ctx, settings.listenerArn);
  const steps = planOriginRule(rules, settings);
  const changes = steps.map((step) => step.change);
  if (ctx.dryRun) return { changes, value: undefined };
  if (settings.secret !== undefined && isNotCreatedYet(settings.secret.value)) {
    throw new Error(
      `Cannot write the load balancer's origin rule for stack ${ctx.names.stack}: CloudFront's origin ` +
        `header is not known yet. This is a bug in the step order: the rule step must run after ` +
        `the distribution step.`,
    );
  }
  for (const step of steps) await applyStep(ctx, step, settings, settings.secret);
  return { changes, value: undefined };
}

/**
 * The listener half of "only CloudFront reaches the load balancer": the
 * distribution adds a secret header to every origin request, and the
 * listener forwards only requests that carry it; anything else gets a fixed
 * 403. AWS's recipe: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html
 *
 * Pure functions over ELBv2 shapes, for the load-balancer module to apply
 * (CreateRule / ModifyRule / ModifyListener) and to check for drift.
 */
import type { Action, Rule, RuleCondition } from '@aws-sdk/client-elastic-load-balancing-v2';

/** The rule evaluated first; the listener's default action (403) answers everything else. */
export const ORIGIN_RULE_PRIORITY = 1;

export const DENIED_STATUS_CODE = '403';
/**
 * A short body that says what to do without naming the header. Fixed
 * responses allow up to 1024 characters of body:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_FixedResponseActionConfig.html
 */
export const DENIED_BODY = 'Forbidden: call this API through its CloudFront (https://) URL.\n';

export interface OriginSecret {
  /** An HTTP header name ELB accepts in a condition: at most 40 characters. */
  readonly headerName: string;
  readonly value: string;
}

/**
 * The http-header condition. ELB compares header values case-insensitively
 * and treats `*` and `?` as wildcards; each value is at most 128
 * characters, a header name at most 40:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_HttpHeaderConditionConfig.html
 * The secret is therefore lower-case hex (cloudfront-config.ts), where
 * neither the case folding nor the wildcards can weaken it.
 */
export function originHeaderCondition(secret: OriginSecret): RuleCondition {
  return {
    Field: 'http-header',
    HttpHeaderConfig: { HttpHeaderName: secret.headerName, Values: [secret.value] },
  };
}

export function forwardAction(targetGroupArn: string): Action {
  return { Type: 'forward', TargetGroupArn: targetGroupArn };
}

/** What CreateRule needs besides the listener ARN. */
export interface OriginRuleInput {
  readonly Priority: number;
  readonly Conditions: RuleCondition[];
  readonly Actions: Action[];
}

export function originRule(secret: OriginSecret, targetGroupArn: string): OriginRuleInput {
  return {
    Priority: ORIGIN_RULE_PRIORITY,
    Conditions: [originHeaderCondition(secret)],
    Actions: [forwardAction(targetGroupArn)],
  };
}

/** The listener's default action once CloudFront is in front: a fixed 403. */
export function deniedDefaultAction(): Action {
  return {
    Type: 'fixed-response',
    FixedResponseConfig: {
      StatusCode: DENIED_STATUS_CODE,
      ContentType: 'text/plain',
      MessageBody: DENIED_BODY,
    },
  };
}

/** The rule at ORIGIN_RULE_PRIORITY among a listener's rules (DescribeRules), if any. */
export function findOriginRule(rules: readonly Rule[]): Rule | undefined {
  return rules.find((rule) => rule.Priority === String(ORIGIN_RULE_PRIORITY));
}

/**
 * How a rule found on the listener differs from the wanted one, as short
 * setting names for Change.detail; the secret itself never appears.
 */
export function originRuleDrift(
  found: Rule,
  secret: OriginSecret,
  targetGroupArn: string,
): string[] {
  const drift: string[] = [];
  const conditions = found.Conditions ?? [];
  const header = conditions.find((c) => c.Field === 'http-header')?.HttpHeaderConfig;
  const sameHeader =
    conditions.length === 1 &&
    header?.HttpHeaderName?.toLowerCase() === secret.headerName.toLowerCase() &&
    header.Values?.length === 1 &&
    header.Values[0] === secret.value;
  if (!sameHeader) drift.push('origin header condition');
  const actions = found.Actions ?? [];
  const forwardsToTargetGroup =
    actions.length === 1 &&
    actions[0]?.Type === 'forward' &&
    (actions[0].TargetGroupArn === targetGroupArn ||
      (actions[0].ForwardConfig?.TargetGroups ?? []).some(
        (tg) => tg.TargetGroupArn === targetGroupArn,
      ));
  if (!forwardsToTargetGroup) drift.push('forward action');
  return drift;
}

/** Whether a listener's default actions are already the fixed 403. */
export function isDeniedDefault(actions: readonly Action[]): boolean {
  const only = actions.length === 1 ? actions[0] : undefined;
  return (
    only?.Type === 'fixed-response' &&
    only.FixedResponseConfig?.StatusCode === DENIED_STATUS_CODE &&
    only.FixedResponseConfig.MessageBody === DENIED_BODY
  );
}

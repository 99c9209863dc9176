import {
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeRulesCommand,
  ModifyRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  deniedDefaultAction,
  originRule,
} from '../../../../../provision/resources/cloudfront/listener.js';
import {
  desiredListeners,
  planListeners,
} from '../../../../../provision/resources/load-balancer/listeners.js';
import {
  ensureOriginRule,
  planOriginRule,
} from '../../../../../provision/resources/load-balancer/origin-rule.js';
import { testContext } from '../../../support/context.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/iclinic-tg/abc';
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:1:listener/app/iclinic/1/2';
const secret = { headerName: 'X-Origin-Verify', value: 'a'.repeat(64) };
const defaultRule: Rule = { RuleArn: 'arn:default', Priority: 'default', IsDefault: true };

function ruleOf(value: string, priority = '1', arn = 'arn:rule-1'): Rule {
  const wanted = originRule({ ...secret, value }, TG);
  return {
    RuleArn: arn,
    Priority: priority,
    IsDefault: false,
    Conditions: wanted.Conditions,
    Actions: wanted.Actions,
  };
}

describe('planOriginRule', () => {
  it('creates the priority-1 header rule on a listener without rules', () => {
    expect(planOriginRule([], { secret, targetGroupArn: TG }).map((s) => s.op)).toEqual(['create']);
  });

  it('plans nothing when the rule carries the secret and forwards to the target group', () => {
    expect(planOriginRule([ruleOf(secret.value)], { secret, targetGroupArn: TG })).toEqual([]);
  });

  it('modifies a rule whose header value was changed, without naming the secret', () => {
    const steps = planOriginRule([ruleOf('b'.repeat(64))], { secret, targetGroupArn: TG });
    expect(steps.map((s) => s.op)).toEqual(['modify']);
    expect(JSON.stringify(steps)).not.toContain(secret.value);
    expect(steps[0]?.change.detail).toBe('origin header condition');
  });

  it('deletes any other rule, which would let requests around CloudFront', () => {
    const stray: Rule = {
      RuleArn: 'arn:rule-2',
      Priority: '2',
      Actions: [{ Type: 'forward', TargetGroupArn: TG }],
    };
    const steps = planOriginRule([ruleOf(secret.value), stray], { secret, targetGroupArn: TG });
    expect(steps.map((s) => [s.op, s.change.name])).toEqual([['delete', 'HTTP 80 priority 2']]);
  });

  it('deletes the header rule when CloudFront is off (--plain-http)', () => {
    const steps = planOriginRule([ruleOf(secret.value)], { secret: undefined, targetGroupArn: TG });
    expect(steps.map((s) => s.op)).toEqual(['delete']);
  });

  it('plans an update in a dry run whose distribution (and so the secret) does not exist yet', () => {
    const steps = planOriginRule([ruleOf(secret.value)], {
      secret: { ...secret, value: NOT_CREATED_YET },
      targetGroupArn: TG,
    });
    expect(steps.map((s) => s.op)).toEqual(['modify']);
  });
});

describe('ensureOriginRule', () => {
  it('creates the rule with the header condition, the forward action and the stack tag', async () => {
    const { ctx, mocks } = testContext();
    mocks.elbv2.on(DescribeRulesCommand).resolves({ Rules: [defaultRule] });
    mocks.elbv2.on(CreateRuleCommand).resolves({});
    await ensureOriginRule(ctx, { listenerArn: LISTENER, targetGroupArn: TG, secret });
    const input = mocks.elbv2.commandCalls(CreateRuleCommand)[0]?.args[0].input;
    expect(input?.Priority).toBe(1);
    expect(input?.Conditions).toEqual([
      {
        Field: 'http-header',
        HttpHeaderConfig: { HttpHeaderName: 'X-Origin-Verify', Values: [secret.value] },
      },
    ]);
    expect(input?.Actions).toEqual([{ Type: 'forward', TargetGroupArn: TG }]);
    expect(input?.Tags?.[0]?.Key).toBe('iclinic-deploy:stack');
  });

  it('puts a changed rule back with ModifyRule', async () => {
    const { ctx, mocks } = testContext();
    mocks.elbv2.on(DescribeRulesCommand).resolves({ Rules: [defaultRule, ruleOf('c'.repeat(64))] });
    mocks.elbv2.on(ModifyRuleCommand).resolves({});
    await ensureOriginRule(ctx, { listenerArn: LISTENER, targetGroupArn: TG, secret });
    expect(mocks.elbv2.commandCalls(ModifyRuleCommand)[0]?.args[0].input.RuleArn).toBe(
      'arn:rule-1',
    );
  });

  it('makes no mutating call when the rule is in place', async () => {
    const { ctx, mocks } = testContext();
    mocks.elbv2.on(DescribeRulesCommand).resolves({ Rules: [defaultRule, ruleOf(secret.value)] });
    const result = await ensureOriginRule(ctx, {
      listenerArn: LISTENER,
      targetGroupArn: TG,
      secret,
    });
    expect(result.changes).toEqual([]);
    expect(mocks.elbv2.calls().map((c) => c.args[0].constructor.name)).toEqual([
      'DescribeRulesCommand',
    ]);
  });

  it('in a dry run returns the changes and sends neither create, modify nor delete', async () => {
    const { ctx, mocks } = testContext();
    mocks.elbv2.on(DescribeRulesCommand).resolves({ Rules: [defaultRule] });
    const result = await ensureOriginRule(
      { ...ctx, dryRun: true },
      { listenerArn: LISTENER, targetGroupArn: TG, secret: { ...secret, value: NOT_CREATED_YET } },
    );
    expect(result.changes.map((c) => c.action)).toEqual(['create']);
    expect(mocks.elbv2.commandCalls(CreateRuleCommand)).toEqual([]);
    expect(mocks.elbv2.commandCalls(DeleteRuleCommand)).toEqual([]);
  });

  it('plans the create without describing a listener a dry run has not created', async () => {
    const { ctx, mocks } = testContext();
    const result = await ensureOriginRule(
      { ...ctx, dryRun: true },
      { listenerArn: NOT_CREATED_YET, targetGroupArn: NOT_CREATED_YET, secret },
    );
    expect(result.changes.map((c) => c.action)).toEqual(['create']);
    expect(mocks.elbv2.calls()).toEqual([]);
  });
});

describe('the port-80 listener behind CloudFront', () => {
  it('answers a fixed 403 by default', () => {
    expect(desiredListeners(TG, { cloudFront: true })).toEqual([
      { port: 80, protocol: 'HTTP', action: deniedDefaultAction() },
    ]);
  });

  it('keeps forwarding by default with --plain-http, and redirecting with a certificate', () => {
    expect(desiredListeners(TG, { cloudFront: false })[0]?.action.Type).toBe('forward');
    const withCertificate = desiredListeners(TG, {
      cloudFront: true,
      certificateArn: 'arn:aws:acm:x',
    });
    expect(withCertificate.map((l) => l.action.Type)).toEqual(['forward', 'redirect']);
  });

  it('turns a forwarding default into the 403, and leaves the 403 alone on a second run', () => {
    const wanted = desiredListeners(TG, { cloudFront: true });
    const forwarding = {
      ListenerArn: LISTENER,
      Port: 80,
      Protocol: 'HTTP' as const,
      DefaultActions: [{ Type: 'forward' as const, TargetGroupArn: TG }],
    };
    const changes = planListeners([forwarding], wanted, 'iclinic-tg').flatMap((s) => s.changes);
    expect(changes).toEqual([
      {
        action: 'update',
        kind: 'listener',
        name: 'HTTP 80',
        detail: 'default action',
        from: 'forward to iclinic-tg',
        to: 'fixed response 403',
      },
    ]);
    const denying = { ...forwarding, DefaultActions: [deniedDefaultAction()] };
    expect(planListeners([denying], wanted, 'iclinic-tg')).toEqual([]);
  });
});

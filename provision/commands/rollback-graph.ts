/**
 * `rollback` as a step graph: register the copy and roll the service onto
 * it (rollback.ts), wait for the deployment as `up` does, then call the
 * service with the current token, which the rollback kept.
 */
import type { StackContext } from '../context.js';
import type { StepGraph, StepInput } from '../graph.js';
import { waitForDeployment } from '../resources/ecs/index.js';
import { describeLoadBalancer } from '../resources/load-balancer/index.js';
import { stackServiceUrl } from './service-url.js';
import { readTokenSecret } from '../resources/secret.js';
import { verifyEndpoint, verifyTimeout } from '../verify.js';
import { rollback, type RollbackResult } from './rollback.js';
import { withStoppedTaskLogs } from './rollout-failure.js';
import { withTargetHealth } from './up.js';

export interface RollbackSettings {
  /** A revision number of the task family; default: the previous one that differs. */
  readonly to?: number;
  readonly timeoutMs: number;
  readonly verify: boolean;
}

export interface RollbackSteps {
  readonly rollback: RollbackResult;
  readonly rollout: { url: string | undefined };
  readonly verify: { verified: boolean };
}

const DRY_RUN_SUMMARY = 'not run in a dry run';

export function rollbackGraph(
  ctx: StackContext,
  settings: RollbackSettings,
): StepGraph<RollbackSteps> {
  const deadline = ctx.clock.now() + settings.timeoutMs;
  const remaining = () => Math.max(60_000, deadline - ctx.clock.now());
  const on = (input: StepInput<RollbackSteps>): StackContext => ({ ...ctx, report: input.report });
  return {
    rollback: {
      kind: 'ensure',
      title: 'Register a copy of the earlier revision with the current token and deploy it',
      after: [],
      run: async (input) => {
        const result = await rollback(
          on(input),
          settings.to === undefined ? {} : { to: settings.to },
        );
        return { value: result, changes: [...result.changes] };
      },
    },
    rollout: {
      kind: 'check',
      title: 'Wait for the deployment',
      after: ['rollback'],
      run: async (input) => {
        if (ctx.dryRun) return { value: { url: undefined }, summary: DRY_RUN_SUMMARY };
        const started = input.get('rollback');
        const lb = await describeLoadBalancer(ctx);
        if (started.deploymentId !== undefined) {
          await waitForDeployment(on(input), {
            deploymentId: started.deploymentId,
            deploymentCreatedAt: started.deploymentCreatedAt,
            timeoutMs: remaining(),
            signal: input.signal,
          })
            .catch((error: unknown) =>
              lb.targetGroupArn === undefined
                ? Promise.reject(error)
                : withTargetHealth(ctx, lb.targetGroupArn, error),
            )
            .catch((error: unknown) => withStoppedTaskLogs(ctx, error));
        }
        // CloudFront's URL when it is in front: the load balancer then answers only CloudFront.
        const url = await stackServiceUrl(ctx);
        return {
          value: { url },
          summary: `deployment ${started.deploymentId ?? '(none listed)'} completed`,
        };
      },
    },
    verify: {
      kind: 'check',
      title: 'Call the service with the current token',
      after: ['rollout'],
      run: async (input) => {
        if (ctx.dryRun) return { value: { verified: false }, summary: DRY_RUN_SUMMARY };
        const { url } = input.get('rollout');
        if (!settings.verify || url === undefined) {
          const why = url === undefined ? 'no load balancer found' : '--no-verify';
          return { value: { verified: false }, summary: `skipped (${why})` };
        }
        const { token } = await readTokenSecret(ctx);
        const result = await verifyEndpoint({
          url: `${url}/`,
          token,
          expectStatus: 200,
          timeoutMs: verifyTimeout(remaining()),
          clock: ctx.clock,
          report: input.report,
        });
        return {
          value: { verified: true },
          summary: `HTTP ${result.status} after ${result.attempts} attempt(s)`,
        };
      },
    },
  };
}

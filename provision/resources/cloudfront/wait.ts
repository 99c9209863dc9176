/**
 * Waiting for a distribution to reach Deployed (after a create, an update
 * or a disable). "When the status is Deployed, the distribution's
 * information is fully propagated to all CloudFront edge locations":
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DistributionSummary.html
 *
 * Not the SDK's waitUntilDistributionDeployed: it sleeps on the wall clock
 * (no StackContext clock, so unit tests would wait for real), polls at
 * most once a minute, has no hook for progress lines, and treats every
 * error, AccessDenied included, as "not yet" until its 35 minutes are up
 * (@aws-sdk/client-cloudfront dist-es/waiters/waitForDistributionDeployed.js).
 * The same GetDistribution poll on the context's clock has none of that.
 */
import { GetDistributionCommand } from '@aws-sdk/client-cloudfront';
import type { StackContext } from '../../context.js';
import { isNotCreatedYet } from '../../plan.js';
import { isNotFound, pollUntil } from '../../retry.js';

/** The SDK waiter's own budget (35 polls, 60 s apart); deployments usually take minutes. */
export const DEPLOY_TIMEOUT_MS = 35 * 60_000;
export const DEPLOY_POLL_INTERVAL_MS = 15_000;
const PROGRESS_EVERY_MS = 60_000;

export interface DeployWait {
  /** The ETag the last read returned: the If-Match for a delete right after. */
  readonly etag?: string;
  /** The distribution disappeared while waited for (someone else deleted it). */
  readonly gone: boolean;
}

export interface DeployWaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

function minutes(ms: number): string {
  const total = Math.round(ms / 1000);
  return total < 60 ? `${total} s` : `${Math.floor(total / 60)} min ${total % 60} s`;
}

export async function waitForDistributionDeployed(
  ctx: StackContext,
  id: string,
  options: DeployWaitOptions = {},
): Promise<DeployWait> {
  // Dry run of a distribution that does not exist yet: nothing to wait for.
  if (isNotCreatedYet(id)) return { gone: false };
  const started = ctx.clock.now();
  let lastReport = Number.NEGATIVE_INFINITY;
  let result: DeployWait = { gone: false };
  await pollUntil(
    ctx.clock,
    {
      what: `waiting for CloudFront distribution ${id} to deploy (re-run the command to keep waiting)`,
      timeoutMs: options.timeoutMs ?? DEPLOY_TIMEOUT_MS,
      intervalMs: options.intervalMs ?? DEPLOY_POLL_INTERVAL_MS,
    },
    async () => {
      try {
        const out = await ctx.clients.cloudfront.send(new GetDistributionCommand({ Id: id }));
        const status = out.Distribution?.Status ?? 'unknown';
        result = { gone: false, ...(out.ETag === undefined ? {} : { etag: out.ETag }) };
        const elapsed = ctx.clock.now() - started;
        if (status !== 'Deployed' && elapsed - lastReport >= PROGRESS_EVERY_MS) {
          ctx.report.progress(
            `CloudFront distribution ${id}: ${status} for ${minutes(elapsed)} ` +
              `(a deployment usually takes a few minutes)`,
          );
          lastReport = elapsed;
        }
        return { done: status === 'Deployed', state: status };
      } catch (error) {
        if (!isNotFound(error)) throw error;
        result = { gone: true };
        return { done: true, state: 'deleted' };
      }
    },
  );
  return result;
}

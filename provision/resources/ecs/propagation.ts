/**
 * Retrying ECS calls while what they depend on is moments old: IAM roles
 * (the service-linked role, the task execution role) and a new listener.
 */
import type { Task } from '@aws-sdk/client-ecs';
import type { StackContext } from '../../context.js';
import { hasErrorCode, messageMatches, retry } from '../../retry.js';

// IAM is eventually consistent: for up to a minute or two after the roles
// are created, ECS can still fail to assume them
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
const IAM_PROPAGATION_MESSAGE =
  /unable to assume (the )?(service linked )?role|ECS was unable to assume|service role being passed|verify that the ECS service linked role exists/i;

export function isIamPropagationError(error: unknown): boolean {
  return (
    hasErrorCode(error, 'InvalidParameterException', 'ClientException', 'AccessDeniedException') &&
    messageMatches(error, IAM_PROPAGATION_MESSAGE)
  );
}

// How a task that could not use its execution role stops: ECS could not
// assume it, or the role could assume but not yet read the secret (or the
// registry auth) at task start, e.g. "ResourceInitializationError: unable to
// pull secrets or registry auth: ... AccessDeniedException: User: ... is not
// authorized to perform: secretsmanager:GetSecretValue"
// (https://github.com/aws/copilot-cli/issues/5752).
const IAM_PROPAGATION_STOP =
  /ECS was unable to assume the role|ResourceInitializationError: unable to pull secrets or registry auth:.*AccessDenied/is;

/** Whether a stopped task stopped because its execution role could not be used (yet). */
export function isIamPropagationStop(task: Task): boolean {
  const reasons = [task.stoppedReason, ...(task.containers ?? []).map((c) => c.reason)];
  return reasons.some((reason) => reason !== undefined && IAM_PROPAGATION_STOP.test(reason));
}

// Right after CreateListener, CreateService can still answer that the target
// group has no load balancer for a few seconds; terraform retries it
// (https://github.com/hashicorp/terraform-provider-aws/issues/3495, fixed by
// https://github.com/hashicorp/terraform-provider-aws/pull/3535).
const TARGET_GROUP_NOT_ATTACHED_MESSAGE = /does not have an associated load balancer/i;

export function isTargetGroupNotAttachedError(error: unknown): boolean {
  return (
    hasErrorCode(error, 'InvalidParameterException') &&
    messageMatches(error, TARGET_GROUP_NOT_ATTACHED_MESSAGE)
  );
}

function retryWhilePropagating<T>(
  ctx: StackContext,
  what: string,
  timeoutMs: number | undefined,
  isRetryable: (error: unknown) => boolean,
  fn: () => Promise<T>,
): Promise<T> {
  return retry(
    ctx.clock,
    {
      what,
      timeoutMs: timeoutMs ?? 120_000,
      initialDelayMs: 5_000,
      maxDelayMs: 15_000,
      isRetryable,
      onRetry: (error, _attempt, elapsed) =>
        ctx.report.progress(
          isTargetGroupNotAttachedError(error)
            ? `Waiting for the new listener to attach the target group to the load balancer (${Math.round(elapsed / 1000)} s)`
            : `Waiting for IAM roles to propagate before ECS can use them (${Math.round(elapsed / 1000)} s)`,
        ),
    },
    fn,
  );
}

/**
 * Retries `fn` while ECS cannot yet assume a role created moments before
 * (its own service-linked role, or the task execution role): about two
 * minutes by default, with a visible message.
 */
export function retryWhileIamPropagates<T>(
  ctx: StackContext,
  what: string,
  timeoutMs: number | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  return retryWhilePropagating(ctx, what, timeoutMs, isIamPropagationError, fn);
}

/** CreateService/UpdateService: both roles and the listener may be moments old. */
export function retryWhileServiceDependenciesPropagate<T>(
  ctx: StackContext,
  what: string,
  timeoutMs: number | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  return retryWhilePropagating(
    ctx,
    what,
    timeoutMs,
    (error) => isIamPropagationError(error) || isTargetGroupNotAttachedError(error),
    fn,
  );
}

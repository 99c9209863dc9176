/**
 * Retrying and error inspection shared by every AWS module. Time comes from
 * the context so unit tests run retries in zero wall-clock time.
 */

export interface Clock {
  sleep(ms: number): Promise<void>;
  now(): number;
}

export const realClock: Clock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
};

/** The AWS error code: SDK v3 puts it in `name`; some services also set `Code`. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const record = error as { name?: unknown; Code?: unknown; code?: unknown };
    if (typeof record.Code === 'string') return record.Code;
    if (typeof record.name === 'string' && record.name !== 'Error') return record.name;
    if (typeof record.code === 'string') return record.code;
  }
  return 'Unknown';
}

/**
 * The note the SDK appends to an answer it could not parse
 * (@smithy/core, middleware-serde/deserializerMiddleware.js), written for
 * the developer of a program, not for its user.
 */
const DESERIALIZATION_NOTE =
  /\s*Deserialization error: to see the raw response, inspect the hidden field \{error\}\.\$response on this object\.?/;

/** An error's message; an answer the SDK could not parse is said so, without the SDK's note to developers. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (!DESERIALIZATION_NOTE.test(text)) return text;
  const said = text.replace(DESERIALIZATION_NOTE, '').trim();
  return (
    `the answer was not in the AWS API's format (${said}); ` +
    'an endpoint that does not serve this API (a proxy, or an emulator without it) may have answered'
  );
}

const UNREACHABLE_CODES = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET'];

/**
 * The socket error code when the endpoint could not be reached at all, read
 * from the error's own code, never from text inside another error's message.
 */
export function unreachableCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE_CODES.includes(code) ? code : undefined;
}

export function hasErrorCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes(errorCode(error));
}

export function messageMatches(error: unknown, pattern: RegExp): boolean {
  return pattern.test(errorMessage(error));
}

export interface RetryOptions {
  /** What is being waited for, shown to the user while retrying. */
  readonly what: string;
  readonly isRetryable: (error: unknown) => boolean;
  readonly timeoutMs: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onRetry?: (error: unknown, attempt: number, elapsedMs: number) => void;
}

export class RetryTimeoutError extends Error {
  constructor(
    what: string,
    elapsedMs: number,
    readonly lastError: unknown,
  ) {
    super(
      `Gave up ${what} after ${Math.round(elapsedMs / 1000)} s; last error: ${errorCode(lastError)}: ${errorMessage(lastError)}`,
    );
    this.name = 'RetryTimeoutError';
  }
}

/** Calls `fn` until it succeeds, a non-retryable error occurs, or time runs out. */
export async function retry<T>(
  clock: Clock,
  options: RetryOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const started = clock.now();
  let delay = options.initialDelayMs ?? 2_000;
  const maxDelay = options.maxDelayMs ?? 20_000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (!options.isRetryable(error)) throw error;
      const elapsed = clock.now() - started;
      if (elapsed + delay > options.timeoutMs)
        throw new RetryTimeoutError(options.what, elapsed, error);
      options.onRetry?.(error, attempt, elapsed);
      await clock.sleep(delay);
      delay = Math.min(maxDelay, Math.round(delay * 1.6));
    }
  }
}

export interface PollOptions {
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

export class PollTimeoutError extends Error {
  constructor(what: string, elapsedMs: number, lastState: string) {
    super(`Timed out after ${Math.round(elapsedMs / 1000)} s ${what}; last state: ${lastState}`);
    this.name = 'PollTimeoutError';
  }
}

/**
 * Polls `check` until it reports done. `check` returns a state description
 * (for the timeout message) and whether the wait is over.
 */
export async function pollUntil(
  clock: Clock,
  options: PollOptions,
  check: () => Promise<{ done: boolean; state: string }>,
): Promise<void> {
  const started = clock.now();
  for (;;) {
    const { done, state } = await check();
    if (done) return;
    const elapsed = clock.now() - started;
    if (elapsed + options.intervalMs > options.timeoutMs) {
      throw new PollTimeoutError(options.what, elapsed, state);
    }
    await clock.sleep(options.intervalMs);
  }
}

/**
 * Every "does not exist" answer of the services the tool calls, in one
 * place: a describe that finds nothing and a delete of what is already gone
 * mean the same to every module. (The EC2 codes right after a create are
 * eventual consistency, not absence: network code retries those first.)
 */
const NOT_FOUND_CODES = new Set([
  // EC2 (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
  'InvalidAssociationID.NotFound',
  // DetachInternetGateway of a gateway already detached
  'Gateway.NotAttached',
  'InvalidGroup.NotFound',
  'InvalidGroupId.NotFound',
  'InvalidInternetGatewayID.NotFound',
  'InvalidNetworkInterfaceID.NotFound',
  'InvalidPermission.NotFound',
  'InvalidRouteTableID.NotFound',
  'InvalidRouteTableId.NotFound',
  'InvalidSecurityGroupID.NotFound',
  'InvalidSubnetID.NotFound',
  'InvalidSubnetId.NotFound',
  'InvalidVpcID.NotFound',
  // Elastic Load Balancing v2 (the SDK names them with and without "Exception")
  'ListenerNotFound',
  'ListenerNotFoundException',
  'LoadBalancerNotFound',
  'LoadBalancerNotFoundException',
  'TargetGroupNotFound',
  'TargetGroupNotFoundException',
  // ECS
  'ClusterNotFoundException',
  'ServiceNotFoundException',
  // a service already deleted (DRAINING or INACTIVE), as DeleteService answers it
  'ServiceNotActiveException',
  'TaskDefinitionNotFoundException',
  // ECR
  'ImageNotFoundException',
  'LifecyclePolicyNotFoundException',
  'RepositoryNotFoundException',
  // CloudFront (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_GetDistribution.html)
  'NoSuchDistribution',
  // IAM
  'NoSuchEntity',
  'NoSuchEntityException',
  // Secrets Manager, CloudWatch Logs and most JSON services
  'ResourceNotFoundException',
  // Application Auto Scaling (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeleteScalingPolicy.html)
  'ObjectNotFoundException',
  // CloudWatch (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html)
  'ResourceNotFound',
  // SNS (https://docs.aws.amazon.com/sns/latest/api/API_GetTopicAttributes.html)
  'NotFound',
  'NotFoundException',
]);

export function isNotFound(error: unknown): boolean {
  return NOT_FOUND_CODES.has(errorCode(error));
}

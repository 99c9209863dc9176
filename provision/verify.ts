import { get as httpsGet } from 'node:https';
import type { Reporter } from './context.js';
import type { Clock } from './retry.js';
import { errorMessage } from './retry.js';

export class VerificationError extends Error {
  constructor(
    url: string,
    expectStatus: number,
    detail: string,
    /**
     * True when the service answered with a wrong status; false when it
     * could not be reached (DNS, network, 5xx) before the deadline, which
     * says little about the service itself.
     */
    readonly definitive: boolean,
  ) {
    super(`The service did not answer ${expectStatus} at ${url} with the token: ${detail}`);
    this.name = 'VerificationError';
  }
}

/**
 * fetch for the load balancer's URL. An HTTPS listener presents the
 * certificate of the user's domain, which never names the load balancer's own
 * DNS name, so plain fetch would refuse every attempt: for https the chain is
 * still verified, the host name is not. `ca` is for tests.
 */
export function loadBalancerFetch(options: { ca?: string } = {}): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    return new Promise<Response>((resolve, reject) => {
      const request = httpsGet(
        url,
        {
          headers,
          checkServerIdentity: () => undefined,
          ...(options.ca === undefined ? {} : { ca: options.ca }),
          ...(init?.signal ? { signal: init.signal } : {}),
        },
        (response) => {
          response.resume();
          response.once('error', reject);
          response.once('end', () =>
            resolve(new Response(null, { status: response.statusCode ?? 502 })),
          );
        },
      );
      request.once('error', reject);
    });
  };
}

export interface VerifyOptions {
  readonly url: string;
  readonly token: string;
  readonly expectStatus: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly report: Reporter;
  readonly fetchImpl?: typeof fetch;
}

/**
 * Calls the service through the load balancer. A new ALB's name may not
 * resolve for a minute or two and targets may still be registering, so
 * resolution errors and 5xx are retried until the deadline.
 */
export async function verifyEndpoint(
  options: VerifyOptions,
): Promise<{ status: number; attempts: number }> {
  const doFetch = options.fetchImpl ?? loadBalancerFetch();
  const started = options.clock.now();
  let last = 'no attempt made';
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await doFetch(options.url, {
        headers: { Authorization: `Token ${options.token}` },
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      if (response.status === options.expectStatus)
        return { status: response.status, attempts: attempt };
      last = `HTTP ${response.status}`;
      // A 401/403 will not fix itself, unlike a 502/503 from targets still registering.
      if (response.status < 500 && response.status !== 404) {
        throw new VerificationError(
          options.url,
          options.expectStatus,
          `got ${last}, expected ${options.expectStatus}`,
          true,
        );
      }
    } catch (error) {
      if (error instanceof VerificationError) throw error;
      last = errorMessage(error);
      const cause = (error as { cause?: unknown }).cause;
      if (cause !== undefined) last += ` (${errorMessage(cause)})`;
    }
    if (options.clock.now() - started > options.timeoutMs) {
      throw new VerificationError(
        options.url,
        options.expectStatus,
        `still failing after ${Math.round(options.timeoutMs / 1000)} s; last result: ${last}`,
        false,
      );
    }
    if (attempt === 1 || attempt % 6 === 0) {
      options.report.progress(`waiting for ${options.url} to answer (last result: ${last})`);
    }
    await options.clock.sleep(5_000);
  }
}

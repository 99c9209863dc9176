import { get as httpsGet } from 'node:https';
import type { LookupFunction } from 'node:net';
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

/** Test hooks: a CA to trust and a resolver, so a local server can stand in for a real host. */
export interface TlsTestOptions {
  readonly ca?: string;
  readonly lookup?: LookupFunction;
}

/**
 * fetch over node:https, answering only the status (all the checks read).
 * `relaxHostName` keeps the chain check and skips the name check.
 */
function httpsFetch(relaxHostName: boolean, options: TlsTestOptions): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    return new Promise<Response>((resolve, reject) => {
      const request = httpsGet(
        url,
        {
          headers,
          ...(relaxHostName ? { checkServerIdentity: () => undefined } : {}),
          ...(options.ca === undefined ? {} : { ca: options.ca }),
          ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
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

/**
 * fetch for the load balancer's own URL. Its HTTPS listener presents the
 * certificate of the user's domain (--certificate-arn), which never names the
 * load balancer's own DNS name, so plain fetch would refuse every attempt:
 * for https the chain is still verified, the host name is not.
 */
export function loadBalancerFetch(options: TlsTestOptions = {}): typeof fetch {
  return httpsFetch(true, options);
}

/**
 * A load balancer's own DNS name ends with "<region>.elb.amazonaws.com"
 * (https://docs.aws.amazon.com/elasticloadbalancing/2012-06-01/APIReference/API_CreateLoadBalancer.html),
 * ".elb.amazonaws.com.cn" in the China regions.
 */
const LOAD_BALANCER_HOST = /\.elb\.amazonaws\.com(\.cn)?$/i;

/** Only a load balancer's own name is called with a certificate that names another host. */
export function relaxesHostName(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'https:' && LOAD_BALANCER_HOST.test(parsed.hostname);
}

/**
 * The default fetch of the checks, which send the live token. Full TLS
 * verification, chain and host name, for every https URL (the CloudFront
 * *.cloudfront.net name has a publicly valid certificate), except the load
 * balancer's own name, where the user's certificate cannot name it: anyone
 * able to present some other trusted certificate for a CloudFront URL would
 * otherwise receive the token.
 */
export function verificationFetch(options: TlsTestOptions = {}): typeof fetch {
  const strict = httpsFetch(false, options);
  const relaxed = httpsFetch(true, options);
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return relaxesHostName(url) ? relaxed(input, init) : strict(input, init);
  };
}

/**
 * How long the final check waits for the service to answer, whatever is
 * left of --timeout: by then the rollout has completed, and what is left to
 * wait for is a new name resolving and the targets' first health checks
 * (tens of seconds, a few minutes for a brand-new name).
 */
export const VERIFY_TIMEOUT_MS = 5 * 60_000;

/**
 * A name that does not resolve is retried for this long only: a brand-new
 * load balancer or distribution name can take a minute or two to resolve
 * from everywhere; after that, retrying does not help (a typo in a hosts
 * file, a DNS filter, a proxy), and the user should be told at once.
 */
export const DNS_FAILURE_LIMIT_MS = 2 * 60_000;

/** The check's own bound within what is left of --timeout. */
export function verifyTimeout(remainingMs: number): number {
  return Math.min(remainingMs, VERIFY_TIMEOUT_MS);
}

const DNS_FAILURES = ['ENOTFOUND', 'EAI_AGAIN'];

/** The resolver's code when a request failed because the name did not resolve. */
function dnsFailure(error: unknown): string | undefined {
  for (let at: unknown = error; at !== undefined && at !== null;) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && DNS_FAILURES.includes(code)) return code;
    at = (at as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface VerifyOptions {
  readonly url: string;
  /** Sent as `Authorization: Token ...`; undefined sends no Authorization header. */
  readonly token: string | undefined;
  readonly expectStatus: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly report: Reporter;
  readonly fetchImpl?: typeof fetch;
}

/**
 * Calls the service (through CloudFront or the load balancer). A new name may not
 * resolve for a minute or two and targets may still be registering, so
 * resolution errors (for DNS_FAILURE_LIMIT_MS at most) and 5xx are retried
 * until the deadline; the progress line says what it waits for and until when.
 */
export async function verifyEndpoint(
  options: VerifyOptions,
): Promise<{ status: number; attempts: number }> {
  const doFetch = options.fetchImpl ?? verificationFetch();
  const started = options.clock.now();
  const until = started + options.timeoutMs;
  const expected = `${options.expectStatus}${options.token === undefined ? ' without the token' : ' with the token'}`;
  let last = 'no attempt made';
  let unresolvedSince: number | undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await doFetch(options.url, {
        headers: options.token === undefined ? {} : { Authorization: `Token ${options.token}` },
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
      unresolvedSince = undefined;
    } catch (error) {
      if (error instanceof VerificationError) throw error;
      last = errorMessage(error);
      const cause = (error as { cause?: unknown }).cause;
      if (cause !== undefined) last += ` (${errorMessage(cause)})`;
      unresolvedSince =
        dnsFailure(error) === undefined ? undefined : (unresolvedSince ?? options.clock.now());
      if (
        unresolvedSince !== undefined &&
        options.clock.now() - unresolvedSince >= DNS_FAILURE_LIMIT_MS
      ) {
        throw new VerificationError(
          options.url,
          options.expectStatus,
          `its name has not resolved from this machine for ${Math.round(DNS_FAILURE_LIMIT_MS / 1000)} s (${last}); ` +
            'a new name resolves within a minute or two, so check this machine\'s DNS, VPN or proxy, then "npx iclinic-deploy status"',
          false,
        );
      }
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
      options.report.progress(
        `waiting for ${options.url} to answer ${expected} (last result: ${last})`,
        until,
      );
    }
    await options.clock.sleep(5_000);
  }
}

/** What calling the load balancer's own name from here gave. */
export type DirectOutcome =
  | { readonly reached: true; readonly status: number }
  | { readonly reached: false; readonly detail: string };

export type DirectCheck = (url: string) => Promise<DirectOutcome>;

export const DIRECT_TIMEOUT_MS = 10_000;

/**
 * One request to the load balancer's own name, without the token (it must
 * not travel in clear text to prove a point). Behind CloudFront the security
 * group drops packets from anywhere but CloudFront's edges, so from this
 * machine the usual answer is a timeout; from inside the prefix list, the
 * listener's fixed 403.
 */
export function callDirectly(fetchImpl: typeof fetch = fetch): DirectCheck {
  return async (url) => {
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(DIRECT_TIMEOUT_MS) });
      await response.arrayBuffer();
      return { reached: true, status: response.status };
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      const detail = errorMessage(error) + (cause === undefined ? '' : ` (${errorMessage(cause)})`);
      return { reached: false, detail };
    }
  };
}

export interface CloudFrontVerifyOptions extends Omit<VerifyOptions, 'expectStatus' | 'token'> {
  readonly token: string;
  /** The load balancer's own URL, which must refuse. */
  readonly directUrl: string;
  readonly directCheck?: DirectCheck;
}

/** Refused means the listener's 403 or no answer at all; anything else reached the service. */
export function directRefused(outcome: DirectOutcome): boolean {
  return !outcome.reached || outcome.status === 403;
}

/**
 * The three checks behind CloudFront: the CloudFront URL with the token
 * answers 200, without it 401, and the load balancer's own name refuses
 * (checked meanwhile). Returns the summary line.
 */
export async function verifyThroughCloudFront(options: CloudFrontVerifyOptions): Promise<string> {
  const check = options.directCheck ?? callDirectly(options.fetchImpl);
  const [withToken, direct] = await Promise.all([
    verifyEndpoint({ ...options, expectStatus: 200 }),
    check(options.directUrl),
  ]);
  await verifyEndpoint({ ...options, token: undefined, expectStatus: 401 });
  if (!directRefused(direct)) {
    const status = direct.reached ? direct.status : 0;
    throw new VerificationError(
      options.directUrl,
      403,
      `the load balancer answered HTTP ${status} at its own name, so requests can go around ` +
        `CloudFront; run "npx iclinic-deploy up" again to put back its security group rule and listener rule`,
      true,
    );
  }
  const how = direct.reached ? `HTTP ${direct.status}` : 'no answer';
  return `HTTP ${withToken.status} with the token, 401 without, load balancer direct: ${how}`;
}

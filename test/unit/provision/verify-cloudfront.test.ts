import { describe, expect, it } from 'vitest';
import {
  VerificationError,
  callDirectly,
  directRefused,
  verifyThroughCloudFront,
  type DirectOutcome,
} from '../../../provision/verify.js';
import { FakeClock, RecordingReporter } from '../support/context.js';

const CLOUDFRONT = 'https://d111111abcdef8.cloudfront.net/';
const ALB = 'http://iclinic-alb-1.us-east-1.elb.amazonaws.com/';

/** Answers 200 with the right token and 401 without one, like the service behind CloudFront. */
function cloudFrontFetch() {
  const seen: { url: string; authorization: string | null }[] = [];
  const impl = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const authorization = new Headers(init?.headers).get('authorization');
    seen.push({ url: String(input), authorization });
    return Promise.resolve(
      new Response(null, { status: authorization === 'Token t0k' ? 200 : 401 }),
    );
  };
  return { impl: impl as typeof fetch, seen };
}

function options(direct: DirectOutcome) {
  const fetched = cloudFrontFetch();
  return {
    fetched,
    run: () =>
      verifyThroughCloudFront({
        url: CLOUDFRONT,
        directUrl: ALB,
        token: 't0k',
        timeoutMs: 60_000,
        clock: new FakeClock(),
        report: new RecordingReporter(),
        fetchImpl: fetched.impl,
        directCheck: () => Promise.resolve(direct),
      }),
  };
}

describe('verifyThroughCloudFront', () => {
  it('passes with 200 through CloudFront with the token, 401 without, and no answer from the load balancer', async () => {
    const { run, fetched } = options({
      reached: false,
      detail: 'The operation was aborted due to timeout',
    });
    await expect(run()).resolves.toBe(
      'HTTP 200 with the token, 401 without, load balancer direct: no answer',
    );
    expect(fetched.seen).toEqual([
      { url: CLOUDFRONT, authorization: 'Token t0k' },
      { url: CLOUDFRONT, authorization: null },
    ]);
  });

  it("accepts the listener's 403 as refused", async () => {
    await expect(options({ reached: true, status: 403 }).run()).resolves.toMatch(
      /direct: HTTP 403$/,
    );
  });

  it('fails, definitively, when the load balancer answers around CloudFront', async () => {
    const error = await options({ reached: true, status: 401 })
      .run()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).definitive).toBe(true);
    expect((error as Error).message).toMatch(
      /answered HTTP 401 at its own name.*around CloudFront/,
    );
  });
});

describe('callDirectly', () => {
  it('sends no token to the load balancer (it would travel in clear text)', async () => {
    let authorization: string | null = 'unset';
    const impl = ((_: string, init?: RequestInit) => {
      authorization = new Headers(init?.headers).get('authorization');
      return Promise.resolve(new Response(null, { status: 403 }));
    }) as unknown as typeof fetch;
    await expect(callDirectly(impl)(ALB)).resolves.toEqual({ reached: true, status: 403 });
    expect(authorization).toBeNull();
  });

  it('reports a refused connection as not reached', async () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 3.3.3.3:80'), { code: 'ECONNREFUSED' }),
    });
    const outcome = await callDirectly((() => Promise.reject(refused)) as unknown as typeof fetch)(
      ALB,
    );
    expect(outcome).toEqual({
      reached: false,
      detail: 'fetch failed (connect ECONNREFUSED 3.3.3.3:80)',
    });
    expect(directRefused(outcome)).toBe(true);
  });

  it('counts a 200 or 401 from the load balancer as reached, not refused', () => {
    expect(directRefused({ reached: true, status: 200 })).toBe(false);
    expect(directRefused({ reached: true, status: 401 })).toBe(false);
  });
});

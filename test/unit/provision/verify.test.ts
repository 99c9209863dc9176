import { describe, expect, it } from 'vitest';
import { VerificationError, verifyEndpoint } from '../../../provision/verify.js';
import { FakeClock, RecordingReporter } from '../support/context.js';

type Step = number | Error;

/** A fetch that answers the given statuses (or throws the given errors) in order, then repeats the last. */
function scriptedFetch(steps: readonly Step[]) {
  const requests: { url: string; authorization: string | null }[] = [];
  let index = 0;
  const impl = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    requests.push({ url: String(input), authorization: headers.get('authorization') });
    const step = steps[Math.min(index, steps.length - 1)];
    index += 1;
    if (step === undefined) throw new Error('no scripted answer');
    if (step instanceof Error) return Promise.reject(step);
    return Promise.resolve(new Response(step === 204 ? null : 'body', { status: step }));
  };
  return { impl: impl as typeof fetch, requests };
}

function resolutionError(): Error {
  const cause = Object.assign(new Error('getaddrinfo ENOTFOUND iclinic-alb.example.com'), {
    code: 'ENOTFOUND',
  });
  return new TypeError('fetch failed', { cause });
}

const URL_ = 'http://iclinic-alb.example.com/';

function options(
  fetchImpl: typeof fetch,
  overrides: { expectStatus?: number; timeoutMs?: number } = {},
) {
  const clock = new FakeClock();
  const report = new RecordingReporter();
  return {
    clock,
    report,
    settings: {
      url: URL_,
      token: 'tok-abc',
      expectStatus: overrides.expectStatus ?? 200,
      timeoutMs: overrides.timeoutMs ?? 180_000,
      clock,
      report,
      fetchImpl,
    },
  };
}

describe('verifyEndpoint', () => {
  it('sends the token as "Authorization: Token <t>"', async () => {
    const fake = scriptedFetch([200]);
    await verifyEndpoint(options(fake.impl).settings);
    expect(fake.requests).toEqual([{ url: URL_, authorization: 'Token tok-abc' }]);
  });

  it('retries fetch errors and 503 until it gets 200', async () => {
    const fake = scriptedFetch([resolutionError(), resolutionError(), 503, 502, 200]);
    const { settings, clock } = options(fake.impl);
    const result = await verifyEndpoint(settings);
    expect(result).toEqual({ status: 200, attempts: 5 });
    expect(clock.slept).toEqual([5_000, 5_000, 5_000, 5_000]);
  });

  it('retries a 404 from a listener whose rule is not in place yet', async () => {
    const fake = scriptedFetch([404, 200]);
    await expect(verifyEndpoint(options(fake.impl).settings)).resolves.toEqual({
      status: 200,
      attempts: 2,
    });
  });

  it('reports the last result including the error cause while waiting', async () => {
    const fake = scriptedFetch([resolutionError(), 200]);
    const { settings, report } = options(fake.impl);
    await verifyEndpoint(settings);
    expect(report.progressLines[0]).toMatch(/fetch failed \(getaddrinfo ENOTFOUND/);
  });

  it('fails at once on 401 when 200 is expected', async () => {
    const fake = scriptedFetch([401, 200]);
    const { settings, clock } = options(fake.impl);
    await expect(verifyEndpoint(settings)).rejects.toThrow(/got HTTP 401, expected 200/);
    expect(fake.requests).toHaveLength(1);
    expect(clock.slept).toEqual([]);
  });

  it('fails at once on 200 when 401 is expected', async () => {
    const fake = scriptedFetch([200]);
    const { settings } = options(fake.impl, { expectStatus: 401 });
    await expect(verifyEndpoint(settings)).rejects.toThrow(/got HTTP 200, expected 401/);
  });

  it('succeeds when expecting 401 and getting 401', async () => {
    const fake = scriptedFetch([503, 401]);
    const { settings } = options(fake.impl, { expectStatus: 401 });
    await expect(verifyEndpoint(settings)).resolves.toEqual({ status: 401, attempts: 2 });
  });

  it('times out with a message including the last result', async () => {
    const fake = scriptedFetch([resolutionError(), 503]);
    const { settings, clock } = options(fake.impl, { timeoutMs: 60_000 });
    const started = clock.now();
    const error = await verifyEndpoint(settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as Error).message).toMatch(/still failing after 60 s; last result: HTTP 503/);
    expect(clock.now() - started).toBeGreaterThan(60_000);
    expect(clock.now() - started).toBeLessThanOrEqual(70_000);
  });

  it('says what it waits for, and when it gives up, so a live list can count down', async () => {
    const fake = scriptedFetch([503, 200]);
    const { settings, report, clock } = options(fake.impl, { timeoutMs: 300_000 });
    const started = clock.now();
    await verifyEndpoint(settings);
    expect(report.progressLines).toEqual([
      `waiting for ${URL_} to answer 200 with the token (last result: HTTP 503)`,
    ]);
    expect(report.progressUntil).toEqual([started + 300_000]);
  });

  it('stops retrying a name that has not resolved for two minutes, and says to check this machine', async () => {
    const fake = scriptedFetch([resolutionError()]);
    const { settings, clock } = options(fake.impl, { timeoutMs: 300_000 });
    const started = clock.now();
    const error = await verifyEndpoint(settings).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as VerificationError).definitive).toBe(false);
    expect((error as Error).message).toMatch(
      /its name has not resolved from this machine for 120 s .*ENOTFOUND.*check this machine's DNS, VPN or proxy/,
    );
    expect(clock.now() - started).toBeLessThanOrEqual(125_000);
  });

  it('does not put the token into the timeout message', async () => {
    const fake = scriptedFetch([503]);
    const { settings } = options(fake.impl, { timeoutMs: 10_000 });
    const error = await verifyEndpoint(settings).catch((e: unknown) => e);
    expect((error as Error).message).not.toContain('tok-abc');
  });
});

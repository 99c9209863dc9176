import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadBalancerFetch,
  relaxesHostName,
  VerificationError,
  verificationFetch,
  verifyEndpoint,
} from '../../../provision/verify.js';
import { selfSignedCertificate } from '../../support/certificate.js';
import { FakeClock, RecordingReporter } from '../support/context.js';

/** A certificate for a domain that is not the address the test connects to. */
function certificateFor(domain: string): { cert: string; key: string } {
  const { certPath, keyPath } = selfSignedCertificate(domain, `DNS:${domain}`);
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

describe('loadBalancerFetch over HTTPS', () => {
  let server: Server;
  let url: string;
  let tls: { cert: string; key: string };
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    tls = certificateFor('api.example.test');
    server = createServer(tls, (req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(req.headers.authorization === 'Token right' ? 200 : 401).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  });

  afterAll(() => server.close());

  it("accepts a listener whose certificate names the user's domain, not the address called", async () => {
    const response = await loadBalancerFetch({ ca: tls.cert })(url, {
      headers: { Authorization: 'Token right' },
    });
    expect(response.status).toBe(200);
    expect(seen.at(-1)).toBe('Token right');
  });

  it('reports the status the listener answered', async () => {
    const response = await loadBalancerFetch({ ca: tls.cert })(url, {
      headers: { Authorization: 'Token wrong' },
    });
    expect(response.status).toBe(401);
  });

  it('still refuses a certificate no trusted authority signed', async () => {
    const other = certificateFor('api.example.test');
    await expect(loadBalancerFetch({ ca: other.cert })(url)).rejects.toThrow(/self.signed|verify/i);
  });
});

/** Resolves every name to 127.0.0.1, so a local server stands in for a real host. */
const toLocalServer: LookupFunction = (_hostname, options, callback) => {
  if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

describe('verificationFetch, the default of every check that sends the token', () => {
  let server: Server;
  let port: number;
  let tls: { cert: string; key: string };
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    tls = certificateFor('api.example.test');
    server = createServer(tls, (req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(req.headers.authorization === 'Token right' ? 200 : 401).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(() => server.close());

  const verify = (host: string) =>
    verifyEndpoint({
      url: `https://${host}:${port}/`,
      token: 'right',
      expectStatus: 200,
      timeoutMs: 0,
      clock: new FakeClock(),
      report: new RecordingReporter(),
      fetchImpl: verificationFetch({ ca: tls.cert, lookup: toLocalServer }),
    });

  it('refuses a CloudFront URL whose certificate names another host, and never sends the token', async () => {
    seen.length = 0;
    const error = await verify('d111abcdef8.cloudfront.net').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerificationError);
    expect((error as Error).message).toMatch(/does not match certificate's altnames/);
    expect(seen).toEqual([]);
  });

  it("refuses the user's own domain when its certificate names another host", async () => {
    await expect(verify('api.other.test')).rejects.toThrow(/altnames/);
  });

  it('accepts a host the certificate names', async () => {
    await expect(verify('api.example.test')).resolves.toEqual({ status: 200, attempts: 1 });
  });

  it("keeps the chain-only check for the load balancer's own name (its certificate is the user's domain)", async () => {
    await expect(verify('iclinic-alb-1.us-east-1.elb.amazonaws.com')).resolves.toEqual({
      status: 200,
      attempts: 1,
    });
  });
});

describe('relaxesHostName', () => {
  it("relaxes only for a load balancer's own https name", () => {
    expect(relaxesHostName('https://iclinic-alb-1.us-east-1.elb.amazonaws.com/')).toBe(true);
    expect(relaxesHostName('https://iclinic-alb-1.cn-north-1.elb.amazonaws.com.cn/')).toBe(true);
  });

  it('checks everything else fully: CloudFront, a custom domain, a look-alike name', () => {
    expect(relaxesHostName('https://d111abcdef8.cloudfront.net/')).toBe(false);
    expect(relaxesHostName('https://api.example.com/')).toBe(false);
    expect(relaxesHostName('https://elb.amazonaws.com.attacker.test/')).toBe(false);
  });
});

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBalancerFetch } from '../../../provision/verify.js';
import { selfSignedCertificate } from '../../support/certificate.js';

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

import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as LoadBalancerModule from '../../../../provision/resources/load-balancer/index.js';

const found = vi.hoisted(() => ({
  distribution: undefined as { domainName: string } | undefined,
  loadBalancer: { listeners: [] } as {
    dnsName?: string;
    listeners: { port: number; protocol: string; arn: string }[];
  },
}));
vi.mock('../../../../provision/resources/cloudfront/index.js', () => ({
  describeDistribution: vi.fn(async () => found.distribution),
}));
// Only the AWS read is replaced: the URL is built by the real loadBalancerUrl.
vi.mock('../../../../provision/resources/load-balancer/index.js', async (importOriginal) => ({
  ...(await importOriginal<typeof LoadBalancerModule>()),
  describeLoadBalancer: vi.fn(async () => found.loadBalancer),
}));

const { stackServiceUrl } = await import('../../../../provision/commands/service-url.js');
const { testContext } = await import('../../support/context.js');

const DNS_NAME = 'iclinic-alb-1.us-east-1.elb.amazonaws.com';
const listener = (port: number, protocol: string) => ({ port, protocol, arn: `arn:${port}` });

beforeEach(() => {
  found.distribution = undefined;
  found.loadBalancer = { dnsName: DNS_NAME, listeners: [listener(80, 'HTTP')] };
});

describe('stackServiceUrl', () => {
  it('is CloudFront’s HTTPS name when a distribution is in front, never the load balancer’s', async () => {
    found.distribution = { domainName: 'd111111abcdef8.cloudfront.net' };
    expect(await stackServiceUrl(testContext().ctx)).toBe('https://d111111abcdef8.cloudfront.net');
  });

  it('is the load balancer’s http URL when there is no distribution (--plain-http)', async () => {
    expect(await stackServiceUrl(testContext().ctx)).toBe(`http://${DNS_NAME}`);
  });

  it('is the load balancer’s https URL when it serves HTTPS itself (--certificate-arn)', async () => {
    found.loadBalancer = {
      dnsName: DNS_NAME,
      listeners: [listener(443, 'HTTPS'), listener(80, 'HTTP')],
    };
    expect(await stackServiceUrl(testContext().ctx)).toBe(`https://${DNS_NAME}`);
  });

  it('is undefined when neither a distribution nor a load balancer exists', async () => {
    found.loadBalancer = { listeners: [] };
    expect(await stackServiceUrl(testContext().ctx)).toBeUndefined();
  });
});

import { beforeEach, describe, expect, it, vi } from 'vitest';

const distribution = vi.hoisted(() => ({
  current: undefined as { domainName: string } | undefined,
}));
vi.mock('../../../../provision/resources/cloudfront/index.js', () => ({
  describeDistribution: vi.fn(async () => distribution.current),
}));
vi.mock('../../../../provision/resources/load-balancer/index.js', () => ({
  describeLoadBalancer: vi.fn(async () => ({
    dnsName: 'iclinic-alb-1.us-east-1.elb.amazonaws.com',
    listeners: [{ protocol: 'HTTP' }],
  })),
  loadBalancerUrl: (lb: { dnsName: string }) => `http://${lb.dnsName}`,
}));

const { stackServiceUrl } = await import('../../../../provision/commands/service-url.js');
const { testContext } = await import('../../support/context.js');

beforeEach(() => {
  distribution.current = undefined;
});

describe('stackServiceUrl', () => {
  it('is CloudFront’s HTTPS name when a distribution is in front, never the load balancer’s', async () => {
    distribution.current = { domainName: 'd111111abcdef8.cloudfront.net' };
    expect(await stackServiceUrl(testContext().ctx)).toBe('https://d111111abcdef8.cloudfront.net');
  });

  it('is the load balancer’s URL when there is no distribution (--plain-http)', async () => {
    expect(await stackServiceUrl(testContext().ctx)).toBe(
      'http://iclinic-alb-1.us-east-1.elb.amazonaws.com',
    );
  });
});

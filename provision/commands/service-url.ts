/**
 * The URL a user calls, without a trailing slash: CloudFront's when a
 * distribution is in front (the load balancer then admits only CloudFront,
 * so its own name answers nobody else), else the load balancer's; undefined
 * when neither exists. The one place that decides it, for up, status,
 * set-token and rollback.
 */
import type { StackContext } from '../context.js';
import { describeDistribution } from '../resources/cloudfront/index.js';
import { describeLoadBalancer, loadBalancerUrl } from '../resources/load-balancer/index.js';

export function serviceUrlOf(
  lb: Parameters<typeof loadBalancerUrl>[0],
  distribution: { readonly domainName: string } | undefined,
): string | undefined {
  if (distribution !== undefined) return `https://${distribution.domainName}`;
  return lb.dnsName === undefined ? undefined : loadBalancerUrl(lb);
}

export async function stackServiceUrl(ctx: StackContext): Promise<string | undefined> {
  const [lb, distribution] = await Promise.all([
    describeLoadBalancer(ctx),
    describeDistribution(ctx),
  ]);
  return serviceUrlOf(lb, distribution);
}

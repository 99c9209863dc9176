/**
 * The URL a user calls, without a trailing slash: CloudFront's when a
 * distribution is in front (the load balancer then admits only CloudFront,
 * so its own name answers nobody else), else the load balancer's; undefined
 * when neither exists.
 */
import type { StackContext } from '../context.js';
import { describeDistribution } from '../resources/cloudfront.js';
import { describeLoadBalancer, loadBalancerUrl } from '../resources/load-balancer/index.js';

export async function stackServiceUrl(ctx: StackContext): Promise<string | undefined> {
  const distribution = await describeDistribution(ctx);
  if (distribution !== undefined) return `https://${distribution.domainName}`;
  const lb = await describeLoadBalancer(ctx);
  return lb.dnsName === undefined ? undefined : loadBalancerUrl(lb);
}

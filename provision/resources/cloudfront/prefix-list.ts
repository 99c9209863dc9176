/**
 * The AWS-managed prefix list of CloudFront's origin-facing servers, so the
 * load balancer's security group admits CloudFront and nobody else.
 *
 * "The CloudFront managed prefix list contains the IP address ranges of all
 * of CloudFront's globally distributed origin-facing servers":
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/LocationsOfEdgeServers.html#managed-prefix-list
 *
 * The list's id differs from region to region, so it is looked up by name,
 * never written down.
 */
import {
  paginateDescribeManagedPrefixLists,
  type IpPermission,
  type ManagedPrefixList,
} from '@aws-sdk/client-ec2';
import type { StackContext } from '../../context.js';
import { errorMessage, hasErrorCode } from '../../retry.js';
import { CloudFrontRegionUnsupportedError } from './errors.js';

export const CLOUDFRONT_PREFIX_LIST_NAME = 'com.amazonaws.global.cloudfront.origin-facing';

/**
 * A rule that references a prefix list counts as the list's weight (for an
 * AWS-managed list) against the security group's rules quota. CloudFront's
 * list weighs 55: https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html#aws-managed-prefix-list-weights
 * The default quota is 60 inbound rules per security group (it was 50 in
 * older accounts; Service Quotas "Inbound or outbound rules per security
 * group"): https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
 * So the load balancer's group holds this one rule and at most 5 more
 * inbound rules: keep it to the CloudFront rule alone. A second CloudFront
 * rule (say on 443) would weigh another 55 and exceed the quota, and an
 * account whose quota is below 55 refuses even the first
 * (RulesPerSecurityGroupLimitExceeded).
 */
export const CLOUDFRONT_PREFIX_LIST_WEIGHT = 55;
export const DEFAULT_INBOUND_RULES_QUOTA = 60;

export interface CloudFrontPrefixList {
  readonly id: string;
  /** What AWS reports; AWS-managed lists count by weight, not by this. */
  readonly maxEntries: number | undefined;
}

function toPrefixList(list: ManagedPrefixList): CloudFrontPrefixList | undefined {
  if (list.PrefixListId === undefined) return undefined;
  return { id: list.PrefixListId, maxEntries: list.MaxEntries };
}

/** Read-only: the id of CloudFront's origin-facing prefix list in the context's region. */
export async function findCloudFrontPrefixList(ctx: StackContext): Promise<CloudFrontPrefixList> {
  const pages = paginateDescribeManagedPrefixLists(
    { client: ctx.clients.ec2 },
    { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_PREFIX_LIST_NAME] }] },
  );
  try {
    for await (const page of pages) {
      // The filter is exact on AWS; checking the name again keeps a lax
      // emulator (or a customer-managed list of a similar name) out.
      const found = (page.PrefixLists ?? []).find(
        (list) => list.PrefixListName === CLOUDFRONT_PREFIX_LIST_NAME,
      );
      const prefixList = found === undefined ? undefined : toPrefixList(found);
      if (prefixList !== undefined) return prefixList;
    }
  } catch (error) {
    if (!hasErrorCode(error, 'InvalidAction')) throw error;
    const found = `DescribeManagedPrefixLists answered InvalidAction: ${errorMessage(error)}`;
    throw new CloudFrontRegionUnsupportedError(ctx.region, CLOUDFRONT_PREFIX_LIST_NAME, found);
  }
  const found = 'DescribeManagedPrefixLists found no list of that name';
  throw new CloudFrontRegionUnsupportedError(ctx.region, CLOUDFRONT_PREFIX_LIST_NAME, found);
}

export const CLOUDFRONT_RULE_DESCRIPTION = 'CloudFront origin-facing servers only';

/**
 * The inbound rule the load balancer's security group should have instead
 * of 0.0.0.0/0: TCP on the listener port from CloudFront's prefix list.
 */
export function cloudFrontIngressPermission(prefixListId: string, port = 80): IpPermission {
  return {
    IpProtocol: 'tcp',
    FromPort: port,
    ToPort: port,
    PrefixListIds: [{ PrefixListId: prefixListId, Description: CLOUDFRONT_RULE_DESCRIPTION }],
  };
}

/** Whether the group's inbound permissions already admit CloudFront on the port (drift check). */
export function admitsCloudFront(
  permissions: readonly IpPermission[],
  prefixListId: string,
  port = 80,
): boolean {
  return permissions.some(
    (p) =>
      p.IpProtocol === 'tcp' &&
      p.FromPort === port &&
      p.ToPort === port &&
      (p.PrefixListIds ?? []).some((entry) => entry.PrefixListId === prefixListId),
  );
}

/** Inbound permissions open to the whole internet, which CloudFront makes unnecessary (to revoke). */
export function openToTheInternet(permissions: readonly IpPermission[]): IpPermission[] {
  return permissions
    .filter(
      (p) =>
        (p.IpRanges ?? []).some((r) => r.CidrIp === '0.0.0.0/0') ||
        (p.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === '::/0'),
    )
    .map((p) => ({
      ...(p.IpProtocol === undefined ? {} : { IpProtocol: p.IpProtocol }),
      ...(p.FromPort === undefined ? {} : { FromPort: p.FromPort }),
      ...(p.ToPort === undefined ? {} : { ToPort: p.ToPort }),
      IpRanges: (p.IpRanges ?? []).filter((r) => r.CidrIp === '0.0.0.0/0'),
      Ipv6Ranges: (p.Ipv6Ranges ?? []).filter((r) => r.CidrIpv6 === '::/0'),
    }));
}

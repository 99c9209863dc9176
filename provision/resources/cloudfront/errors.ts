/**
 * CloudFront's refusals that no retry and no IAM change can fix, worded
 * once for the user (cli/errors.ts passes these through as they are).
 */
import { errorMessage, hasErrorCode } from '../../retry.js';

/** The two other modes of `up`, which need no CloudFront at all. */
const WITHOUT_CLOUDFRONT =
  `"npx iclinic-deploy up --plain-http" (HTTP on the load balancer's name; the token travels in ` +
  `clear text, for tests only) or "npx iclinic-deploy up --certificate-arn <ACM certificate ARN>" ` +
  `(HTTPS on your own domain)`;

/**
 * A brand-new (or free-tier, or personal) account gets, on its first
 * CreateDistribution(WithTags): "403 AccessDenied: Your account must be
 * verified before you can add new CloudFront resources. To verify your
 * account, please contact AWS Support ... and include this error message."
 * The same code as a missing IAM permission, so the message tells them apart.
 * Reported in https://github.com/aws-samples/aws-cdk-examples/issues/279,
 * https://github.com/hashicorp/terraform-provider-aws/pull/36663 (acceptance
 * test logs), https://github.com/anomalyco/sst/issues/3704 (2024, a new
 * free-tier account) and
 * https://github.com/aws-solutions/workload-discovery-on-aws/issues/12
 * (answered with a Support case).
 */
const NOT_VERIFIED = /must be verified/i;

export function isAccountNotVerified(error: unknown): boolean {
  return hasErrorCode(error, 'AccessDenied') && NOT_VERIFIED.test(errorMessage(error));
}

export class CloudFrontAccountNotVerifiedError extends Error {
  constructor(stack: string, awsMessage: string) {
    super(
      `CloudFront refused to create the distribution of stack ${stack}: "${awsMessage}". ` +
        `AWS lets a new account create CloudFront resources only after it has verified the account; ` +
        `this is not a missing IAM permission, and retrying will not help. Only AWS Support lifts it: ` +
        `open a case in the Support Center (Account and billing) with the message above, and run ` +
        `"npx iclinic-deploy up" again once AWS confirms. Meanwhile, deploy without CloudFront: ` +
        `${WITHOUT_CLOUDFRONT}. What this run created is reused by the next "up" and removed ` +
        `by "npx iclinic-deploy down".`,
    );
    this.name = 'CloudFrontAccountNotVerifiedError';
  }
}

/**
 * CloudFront mode locks the load balancer to CloudFront with the managed
 * prefix list com.amazonaws.global.cloudfront.origin-facing, which AWS does
 * not offer everywhere: "available for use in all AWS Regions except for
 * Asia Pacific (Jakarta) (ap-southeast-3)" (CloudFront Developer Guide,
 * LocationsOfEdgeServers, "Use the CloudFront managed prefix list",
 * awsdocs/amazon-cloudfront-developer-guide doc_source/LocationsOfEdgeServers.md,
 * 2023), and where managed prefix lists themselves are not launched
 * DescribeManagedPrefixLists answers InvalidAction
 * (https://github.com/aws/aws-sdk-go/issues/3828, ap-northeast-3 in 2021).
 * Without the list the load balancer would have to stay open to the
 * internet behind a CloudFront URL, so `up` stops and offers the modes that
 * need no list.
 */
export class CloudFrontRegionUnsupportedError extends Error {
  constructor(region: string, listName: string, found: string) {
    super(
      `CloudFront mode is not available in region ${region}: the AWS-managed prefix list ${listName}, ` +
        `which limits the load balancer to CloudFront's servers, does not exist there (${found}). ` +
        `Deploy in ${region} without CloudFront: ${WITHOUT_CLOUDFRONT}; or deploy in a region that ` +
        `has the list, such as --region us-east-1.`,
    );
    this.name = 'CloudFrontRegionUnsupportedError';
  }
}

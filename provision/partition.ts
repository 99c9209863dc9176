/**
 * The ARN partition of a region: `arn:PARTITION:service:region:account:...`
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
 * The prefixes are the region patterns of the SDK's partition table
 * (@aws-sdk/core, partitionsInfo.regionRegex): GovCloud and China regions
 * have their own partition, and an ARN written with "aws" there names
 * nothing, so a policy built with it would grant nothing.
 */
const PARTITION_BY_REGION_PREFIX: readonly (readonly [RegExp, string])[] = [
  [/^us-gov-/, 'aws-us-gov'],
  [/^cn-/, 'aws-cn'],
  [/^us-isob-/, 'aws-iso-b'],
  [/^us-isof-/, 'aws-iso-f'],
  [/^us-iso-/, 'aws-iso'],
  [/^eu-isoe-/, 'aws-iso-e'],
  [/^eusc-/, 'aws-eusc'],
];

export function partitionOf(region: string): string {
  return PARTITION_BY_REGION_PREFIX.find(([prefix]) => prefix.test(region))?.[1] ?? 'aws';
}

/**
 * HTTPS by default with nothing to own: a CloudFront distribution in front
 * of the load balancer, on CloudFront's *.cloudfront.net name and
 * certificate.
 *
 * Why a public load balancer locked to CloudFront, and not CloudFront VPC
 * origins with an internal one (which would leave no public load balancer
 * at all, https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html):
 * - moto, against which every AWS path of this tool is tested end to end,
 *   has no VPC origins (no CreateVpcOrigin route in moto/cloudfront/urls.py
 *   of moto 5.2.5); a design we could only test on a real account would be
 *   the one part of `up` nobody runs in CI.
 * - VPC origins want the load balancer in private subnets; the stack has
 *   public subnets only (Fargate tasks pull images through the internet
 *   gateway, no NAT gateway to pay for), and a VPC origin is a second
 *   resource with its own deploy wait and its own ENIs in the subnets that
 *   `down` must outlive before the VPC can go.
 * - AWS documents the public variant as the way to restrict an
 *   internet-facing ALB: a custom header CloudFront adds, a listener that
 *   forwards only with it, and the origin-facing managed prefix list in the
 *   security group:
 *   https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/restrict-access-to-load-balancer.html
 *   https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/LocationsOfEdgeServers.html#managed-prefix-list
 * The cost of that choice: CloudFront reaches the load balancer over HTTP
 * on 80 (cloudfront-config.ts says why not HTTPS), so the token is
 * encrypted from the client to the edge and travels in clear between the
 * edge and the load balancer.
 */
import {
  CreateDistributionWithTagsCommand,
  DeleteDistributionCommand,
  GetDistributionConfigCommand,
  ListTagsForResourceCommand,
  UpdateDistributionCommand,
  paginateListDistributions,
  type DistributionConfig,
  type DistributionSummary,
} from '@aws-sdk/client-cloudfront';
import type { Converged, Removal, StackContext } from '../../context.js';
import { STACK_TAG_KEY } from '../../names.js';
import { ChangeSet, NOT_CREATED_YET, isNotCreatedYet, type Change } from '../../plan.js';
import { errorMessage, hasErrorCode, isNotFound } from '../../retry.js';
import {
  REGION_TAG_KEY,
  convergedConfig,
  desiredDistributionConfig,
  disabledConfig,
  distributionComment,
  distributionTags,
  newOriginSecret,
  originSecretOf,
  type DistributionSettings,
} from './config.js';
import { distributionDrift } from './drift.js';
import { CloudFrontAccountNotVerifiedError, isAccountNotVerified } from './errors.js';
import type { OriginSecret } from './listener.js';
import { waitForDistributionDeployed } from './wait.js';

export { waitForDistributionDeployed } from './wait.js';
export type { DistributionSettings } from './config.js';
export { CloudFrontAccountNotVerifiedError, CloudFrontRegionUnsupportedError } from './errors.js';

export const DISTRIBUTION_KIND = 'CloudFront distribution';

export interface DistributionInfo {
  readonly id: string;
  readonly arn: string;
  readonly domainName: string;
  /** InProgress or Deployed. */
  readonly status: string;
  readonly config: DistributionConfig;
  /** From GetDistributionConfig: the If-Match for the next update or delete. */
  readonly etag: string;
}

export interface DistributionRef {
  readonly id: string;
  readonly arn: string;
  readonly domainName: string;
  /** What `up` prints and the checks call: https://<id>.cloudfront.net/ */
  readonly url: string;
  /** For the load balancer's listener rule; never printed or logged. */
  readonly originSecret: OriginSecret;
}

function matchesStack(
  tags: readonly { Key?: string; Value?: string }[],
  stack: string,
  region: string,
): boolean {
  const value = (key: string): string | undefined => tags.find((t) => t.Key === key)?.Value;
  return value(STACK_TAG_KEY) === stack && value(REGION_TAG_KEY) === region;
}

async function findStackDistribution(ctx: StackContext): Promise<DistributionSummary | undefined> {
  const comment = distributionComment(ctx.names, ctx.region);
  // ListDistributions carries no tags; the comment narrows the candidates so
  // that only they cost a ListTagsForResource, and the tags decide.
  for await (const page of paginateListDistributions({ client: ctx.clients.cloudfront }, {})) {
    for (const summary of page.DistributionList?.Items ?? []) {
      if (summary.Comment !== comment || summary.ARN === undefined) continue;
      const tags = await ctx.clients.cloudfront.send(
        new ListTagsForResourceCommand({ Resource: summary.ARN }),
      );
      if (matchesStack(tags.Tags?.Items ?? [], ctx.names.stack, ctx.region)) return summary;
    }
  }
  return undefined;
}

/** Read-only: the stack's distribution and its config, or undefined. */
export async function describeDistribution(
  ctx: StackContext,
): Promise<DistributionInfo | undefined> {
  const summary = await findStackDistribution(ctx);
  if (summary?.Id === undefined) return undefined;
  try {
    const out = await ctx.clients.cloudfront.send(
      new GetDistributionConfigCommand({ Id: summary.Id }),
    );
    if (out.DistributionConfig === undefined || out.ETag === undefined) return undefined;
    return {
      id: summary.Id,
      arn: summary.ARN ?? '',
      domainName: summary.DomainName ?? '',
      status: summary.Status ?? 'unknown',
      config: out.DistributionConfig,
      etag: out.ETag,
    };
  } catch (error) {
    // Deleted between the list and the read (a concurrent `down`).
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Pure: what ensureDistribution would change. */
export function planDistribution(
  current: DistributionInfo | undefined,
  settings: DistributionSettings,
  stack: string,
): Change[] {
  const changes = new ChangeSet();
  if (current === undefined) {
    changes.create(
      DISTRIBUTION_KIND,
      stack,
      'https:// on *.cloudfront.net, no caching, HTTP to the load balancer',
    );
    return [...changes.list];
  }
  for (const drift of distributionDrift(current.config, settings)) {
    changes.update(DISTRIBUTION_KIND, current.id, drift.detail, drift.from, drift.to);
  }
  return [...changes.list];
}

function refOf(id: string, arn: string, domainName: string, secret: OriginSecret): DistributionRef {
  const url = isNotCreatedYet(domainName) ? NOT_CREATED_YET : `https://${domainName}/`;
  return { id, arn, domainName, url, originSecret: secret };
}

function placeholderSecret(secret: OriginSecret | undefined): OriginSecret {
  return secret ?? { headerName: newOriginSecret().headerName, value: NOT_CREATED_YET };
}

async function createDistribution(
  ctx: StackContext,
  settings: DistributionSettings,
): Promise<DistributionRef> {
  const secret = newOriginSecret();
  const callerReference = `${ctx.names.stack}-${ctx.region}-${ctx.clock.now()}`;
  const config = desiredDistributionConfig(
    ctx.names,
    ctx.region,
    settings,
    secret,
    callerReference,
  );
  const out = await ctx.clients.cloudfront
    .send(
      new CreateDistributionWithTagsCommand({
        DistributionConfigWithTags: {
          DistributionConfig: config,
          Tags: { Items: distributionTags(ctx.names, ctx.region) },
        },
      }),
    )
    .catch((error: unknown) => {
      if (isAccountNotVerified(error)) {
        throw new CloudFrontAccountNotVerifiedError(ctx.names.stack, errorMessage(error));
      }
      throw error;
    });
  const created = out.Distribution;
  if (created?.Id === undefined || created.DomainName === undefined) {
    throw new Error(
      `CloudFront created a distribution for stack ${ctx.names.stack} but returned no id or domain ` +
        `name; run "npx iclinic-deploy up" again, it finds the distribution by its tags.`,
    );
  }
  return refOf(created.Id, created.ARN ?? '', created.DomainName, secret);
}

/**
 * Puts back what drifted. The ETag of the read is the If-Match; if someone
 * changed the distribution in between (PreconditionFailed), read and try
 * once more.
 */
async function updateDistribution(
  ctx: StackContext,
  current: DistributionInfo,
  settings: DistributionSettings,
): Promise<OriginSecret> {
  let found = current;
  for (let attempt = 1; ; attempt += 1) {
    const secret = originSecretOf(found.config) ?? newOriginSecret();
    try {
      await ctx.clients.cloudfront.send(
        new UpdateDistributionCommand({
          Id: found.id,
          IfMatch: found.etag,
          DistributionConfig: convergedConfig(found.config, settings, secret),
        }),
      );
      return secret;
    } catch (error) {
      if (attempt >= 2 || !hasErrorCode(error, 'PreconditionFailed', 'InvalidIfMatchVersion')) {
        throw error;
      }
      const again = await describeDistribution(ctx);
      if (again === undefined) throw error;
      found = again;
    }
  }
}

/**
 * Converges the stack's distribution. It does not wait for the deployment:
 * `up` runs waitForDistributionDeployed as its own step, beside the ECS
 * rollout, so the two slow waits overlap.
 */
export async function ensureDistribution(
  ctx: StackContext,
  settings: DistributionSettings,
): Promise<Converged<DistributionRef>> {
  // Before the load balancer exists (dry run) there is no origin to look
  // for, but the distribution may exist already (its origin then drifts).
  const current = await describeDistribution(ctx);
  const changes = planDistribution(current, settings, ctx.names.stack);
  if (ctx.dryRun) {
    if (current === undefined) {
      return {
        changes,
        value: refOf(
          NOT_CREATED_YET,
          NOT_CREATED_YET,
          NOT_CREATED_YET,
          placeholderSecret(undefined),
        ),
      };
    }
    const secret = placeholderSecret(originSecretOf(current.config));
    return { changes, value: refOf(current.id, current.arn, current.domainName, secret) };
  }
  if (isNotCreatedYet(settings.originDomainName)) {
    throw new Error(
      `Cannot put CloudFront in front of the load balancer of stack ${ctx.names.stack}: its DNS name ` +
        `is not known yet (received ${settings.originDomainName}). This is a bug in the step order: ` +
        `the distribution step must run after the load balancer step.`,
    );
  }
  if (current === undefined) return { changes, value: await createDistribution(ctx, settings) };
  const secret =
    changes.length === 0
      ? placeholderSecret(originSecretOf(current.config))
      : await updateDistribution(ctx, current, settings);
  return { changes, value: refOf(current.id, current.arn, current.domainName, secret) };
}

/**
 * What CloudFront answers when the distribution moved on since it was read:
 * a stale ETag (PreconditionFailed, InvalidIfMatchVersion; a concurrent `up`
 * or a console edit) or a disable still propagating
 * (DistributionNotDisabled), https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_UpdateDistribution.html
 * and API_DeleteDistribution.html "Errors". Another look and try is the fix.
 */
const REFUSED_CODES = ['DistributionNotDisabled', 'PreconditionFailed', 'InvalidIfMatchVersion'];
const REMOVE_ATTEMPTS = 3;

async function disable(ctx: StackContext, found: DistributionInfo): Promise<void> {
  if (found.config.Enabled !== true) return;
  ctx.report.progress(`disabling CloudFront distribution ${found.id} before deleting it`);
  await ctx.clients.cloudfront.send(
    new UpdateDistributionCommand({
      Id: found.id,
      IfMatch: found.etag,
      DistributionConfig: disabledConfig(found.config),
    }),
  );
}

/** One pass: disable if enabled, wait until Deployed, delete with the ETag the wait read. */
async function disableAndDelete(ctx: StackContext, found: DistributionInfo): Promise<void> {
  await disable(ctx, found);
  const deployed = await waitForDistributionDeployed(ctx, found.id);
  if (deployed.gone) return;
  await ctx.clients.cloudfront.send(
    new DeleteDistributionCommand({ Id: found.id, IfMatch: deployed.etag ?? found.etag }),
  );
}

/**
 * Disable, wait until Deployed, delete. Each step looks first, so an
 * interrupted `down` resumes where it stopped (an already-disabled
 * distribution goes straight to the wait: a disable may still be
 * propagating, and AWS refuses the delete until it has,
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteDistribution.html).
 * A refused disable or delete (stale ETag, still InProgress) is retried from
 * a fresh read; a distribution already gone is not an error.
 */
export async function removeDistribution(ctx: StackContext): Promise<Removal> {
  let found = await describeDistribution(ctx);
  if (found === undefined) return { changes: [] };
  const changes = new ChangeSet().delete(DISTRIBUTION_KIND, found.id).list;
  if (ctx.dryRun) return { changes };
  for (let attempt = 1; ; attempt += 1) {
    try {
      await disableAndDelete(ctx, found);
      return { changes };
    } catch (error) {
      if (isNotFound(error)) return { changes };
      if (attempt >= REMOVE_ATTEMPTS || !hasErrorCode(error, ...REFUSED_CODES)) throw error;
      ctx.report.progress(
        `CloudFront refused to change distribution ${found.id} yet (${(error as Error).name}); ` +
          `reading it again and trying once more`,
      );
      const again = await describeDistribution(ctx);
      if (again === undefined) return { changes };
      found = again;
    }
  }
}

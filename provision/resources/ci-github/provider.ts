/**
 * The account's IAM OpenID Connect provider for GitHub Actions. There is one
 * per account (IAM refuses a second provider with the same URL:
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html),
 * shared by every stack and by whatever else the account deploys from
 * GitHub. So one found in the account is reused as it is, never changed;
 * one this tool creates carries the tag that lets `down` remove it, and only
 * once no role in the account trusts it any more.
 */
import {
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  GetOpenIDConnectProviderCommand,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { Converged, Removal, StackContext } from '../../context.js';
import { ChangeSet, type Change } from '../../plan.js';
import { hasErrorCode, isNotFound } from '../../retry.js';
import { decodePolicyDocument } from '../roles/policies.js';
import { GITHUB_OIDC_HOST, GITHUB_OIDC_URL, STS_AUDIENCE } from './github.js';
import { trustsProvider } from './trust.js';

export const OIDC_PROVIDER = 'OIDC provider';

/** The tag that marks a provider this tool created (and so may delete). */
export const CREATED_BY_TAG = { Key: 'managed-by', Value: 'iclinic-deploy' } as const;

export interface ProviderState {
  readonly arn: string;
  readonly audiences: readonly string[];
  readonly createdByTool: boolean;
}

/** The provider's ARN is fixed by the account and the issuer's host name. */
export function providerArn(partition: string, account: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${GITHUB_OIDC_HOST}`;
}

/** The provider's ARN in the caller's account and partition (arn:aws-cn:..., arn:aws-us-gov:...). */
export async function accountProviderArn(ctx: StackContext): Promise<string> {
  const identity = await ctx.clients.sts.send(new GetCallerIdentityCommand({}));
  const partition = identity.Arn?.split(':')[1] || 'aws';
  if (identity.Account === undefined) throw new Error('STS returned no account id for the caller.');
  return providerArn(partition, identity.Account);
}

/** Read-only: the provider, or undefined when the account has none for GitHub. */
export async function describeProvider(
  ctx: StackContext,
  arn: string,
): Promise<ProviderState | undefined> {
  try {
    const found = await ctx.clients.iam.send(
      new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
    );
    return {
      arn,
      audiences: found.ClientIDList ?? [],
      createdByTool: (found.Tags ?? []).some(
        (t) => t.Key === CREATED_BY_TAG.Key && t.Value === CREATED_BY_TAG.Value,
      ),
    };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export class ProviderAudienceError extends Error {
  constructor(state: ProviderState) {
    super(
      `The account's OIDC provider ${state.arn} does not list the audience ${STS_AUDIENCE} ` +
        `(it lists: ${state.audiences.join(', ') || 'none'}), so GitHub's tokens for AWS would be refused. ` +
        'iclinic-deploy does not change a provider it finds in the account; add the audience with ' +
        `"aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${state.arn} ` +
        `--client-id ${STS_AUDIENCE}" and run the command again.`,
    );
    this.name = 'ProviderAudienceError';
  }
}

/** Pure: a missing provider is created; one that exists is only checked. */
export function planProvider(arn: string, current: ProviderState | undefined): Change[] {
  if (current === undefined) {
    return [
      ...new ChangeSet().create(OIDC_PROVIDER, GITHUB_OIDC_HOST, `audience ${STS_AUDIENCE}`).list,
    ];
  }
  if (!current.audiences.includes(STS_AUDIENCE)) throw new ProviderAudienceError(current);
  return [];
}

/**
 * No thumbprint is sent. ThumbprintList is optional, and for GitHub (as for
 * Auth0, GitLab and Google) AWS verifies the provider's certificate against
 * its library of trusted root CAs, not a thumbprint; a thumbprint, if given,
 * is kept but not used
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html,
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateOpenIDConnectProviderThumbprint.html;
 * since 6 July 2023: https://github.com/aws-actions/configure-aws-credentials/issues/763).
 */
async function createProvider(ctx: StackContext): Promise<void> {
  try {
    await ctx.clients.iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: GITHUB_OIDC_URL,
        ClientIDList: [STS_AUDIENCE],
        Tags: [{ ...CREATED_BY_TAG }],
      }),
    );
  } catch (error) {
    // Another run (another stack's `ci github`) created it since the look.
    if (!hasErrorCode(error, 'EntityAlreadyExists', 'EntityAlreadyExistsException')) throw error;
  }
}

export interface ProviderValue {
  readonly arn: string;
  /** Whether it was there before this tool's first run: then it is never deleted. */
  readonly createdByTool: boolean;
}

export async function ensureProvider(
  ctx: StackContext,
  arn: string,
): Promise<Converged<ProviderValue>> {
  const current = await describeProvider(ctx, arn);
  const changes = planProvider(arn, current);
  if (current !== undefined)
    return { changes, value: { arn, createdByTool: current.createdByTool } };
  if (!ctx.dryRun) await createProvider(ctx);
  // The ARN is the account's and the host's, known before the provider exists.
  return { changes, value: { arn, createdByTool: true } };
}

/** Read-only: the names of the roles in the account whose trust policy names the provider. */
export async function rolesTrusting(ctx: StackContext, arn: string): Promise<string[]> {
  const names: string[] = [];
  // ListRoles returns each role's trust policy (URL-encoded)
  // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html).
  for await (const page of paginateListRoles({ client: ctx.clients.iam }, {})) {
    for (const role of page.Roles ?? []) {
      const trust = decodePolicyDocument(role.AssumeRolePolicyDocument);
      if (role.RoleName !== undefined && trustsProvider(trust, arn)) names.push(role.RoleName);
    }
  }
  return names;
}

/**
 * Deletes the provider when this tool created it and no other role trusts
 * it; otherwise leaves it and says why. `leaving` is the stack's deploy
 * role, removed just before (or, in a dry run, about to be): it does not
 * count, which also covers IAM still listing it for a moment after the
 * delete (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
 */
export async function removeProvider(
  ctx: StackContext,
  arn: string,
  leaving: string,
): Promise<Removal> {
  const current = await describeProvider(ctx, arn);
  if (current === undefined) return { changes: [] };
  if (!current.createdByTool) {
    ctx.report.progress(
      `kept the OIDC provider ${arn}: it was in the account before iclinic-deploy`,
    );
    return { changes: [] };
  }
  const trusting = (await rolesTrusting(ctx, arn)).filter((name) => name !== leaving);
  if (trusting.length > 0) {
    ctx.report.progress(
      `kept the OIDC provider ${arn}: roles ${trusting.join(', ')} still trust it`,
    );
    return { changes: [] };
  }
  const changes = [
    ...new ChangeSet().delete(OIDC_PROVIDER, GITHUB_OIDC_HOST, 'no role trusts it').list,
  ];
  if (ctx.dryRun) return { changes };
  try {
    await ctx.clients.iam.send(
      new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }),
    );
  } catch (error) {
    if (isNotFound(error)) return { changes: [] };
    throw error;
  }
  return { changes };
}

import {
  CreateDistributionWithTagsCommand,
  DeleteDistributionCommand,
  GetDistributionCommand,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  ListTagsForResourceCommand,
  UpdateDistributionCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  CloudFrontAccountNotVerifiedError,
  ensureDistribution,
  removeDistribution,
  waitForDistributionDeployed,
} from '../../../../../provision/resources/cloudfront/index.js';
import {
  ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
  CACHING_DISABLED_POLICY_ID,
  desiredDefaultBehavior,
  desiredDistributionConfig,
  desiredOrigin,
} from '../../../../../provision/resources/cloudfront/config.js';
import { awsError, mutatingOperations, operations, testContext } from '../../../support/context.js';

const ALB = 'iclinic-alb-123.us-east-1.elb.amazonaws.com';
const SETTINGS = { originDomainName: ALB, originProtocolPolicy: 'http-only' } as const;
const ID = 'E2EXAMPLE';
const ARN = `arn:aws:cloudfront::123456789012:distribution/${ID}`;
const SECRET = 'a'.repeat(64);
/** As CloudFront words it (aws-samples/aws-cdk-examples#279, terraform-provider-aws#36663). */
const NOT_VERIFIED_MESSAGE =
  'Your account must be verified before you can add new CloudFront resources. To verify your ' +
  'account, please contact AWS Support (https://console.aws.amazon.com/support/home#/) and include ' +
  'this error message.';

function storedConfig(): DistributionConfig {
  const { ctx } = testContext();
  return desiredDistributionConfig(
    ctx.names,
    ctx.region,
    SETTINGS,
    { headerName: 'X-Origin-Verify', value: SECRET },
    'ref-1',
  );
}

/** An account holding the stack's distribution, with the given config and status. */
function withDistribution(config: DistributionConfig, status = 'Deployed') {
  const setup = testContext();
  const { cloudfront } = setup.mocks;
  cloudfront.on(ListDistributionsCommand).resolves({
    DistributionList: {
      Items: [
        { Id: 'OTHER', ARN: 'arn:other', Comment: 'someone else', DomainName: 'o.cloudfront.net' },
        {
          Id: ID,
          ARN,
          Comment: 'iclinic-deploy stack iclinic in us-east-1',
          DomainName: 'd111.cloudfront.net',
          Status: status,
        },
      ],
    } as never,
  });
  cloudfront.on(ListTagsForResourceCommand).resolves({
    Tags: {
      Items: [
        { Key: 'iclinic-deploy:stack', Value: 'iclinic' },
        { Key: 'iclinic-deploy:region', Value: 'us-east-1' },
      ],
    },
  });
  cloudfront
    .on(GetDistributionConfigCommand)
    .resolves({ DistributionConfig: config, ETag: 'ETAG-1' });
  return setup;
}

describe('ensureDistribution', () => {
  it('creates a tagged distribution with CachingDisabled, AllViewerExceptHostHeader, all methods and HTTPS redirect', async () => {
    const { ctx, mocks } = testContext();
    mocks.cloudfront
      .on(ListDistributionsCommand)
      .resolves({ DistributionList: { Items: [] } as never });
    mocks.cloudfront.on(CreateDistributionWithTagsCommand).resolves({
      Distribution: { Id: ID, ARN, DomainName: 'd111.cloudfront.net' } as never,
      ETag: 'ETAG-1',
    });

    const result = await ensureDistribution(ctx, SETTINGS);

    const input = mocks.cloudfront.commandCalls(CreateDistributionWithTagsCommand)[0]?.args[0]
      .input;
    const config = input?.DistributionConfigWithTags?.DistributionConfig;
    const behavior = config?.DefaultCacheBehavior;
    expect(behavior?.CachePolicyId).toBe(CACHING_DISABLED_POLICY_ID);
    expect(behavior?.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID);
    expect(behavior?.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(behavior?.AllowedMethods?.Items).toEqual([
      'GET',
      'HEAD',
      'OPTIONS',
      'PUT',
      'POST',
      'PATCH',
      'DELETE',
    ]);
    const origin = config?.Origins?.Items?.[0];
    expect(origin?.DomainName).toBe(ALB);
    expect(origin?.CustomOriginConfig?.OriginProtocolPolicy).toBe('http-only');
    expect(origin?.CustomOriginConfig?.HTTPPort).toBe(80);
    expect(config?.ViewerCertificate).toEqual({ CloudFrontDefaultCertificate: true });
    const header = origin?.CustomHeaders?.Items?.[0];
    expect(header?.HeaderName).toBe('X-Origin-Verify');
    expect(header?.HeaderValue).toMatch(/^[0-9a-f]{64}$/);
    expect(input?.DistributionConfigWithTags?.Tags?.Items).toEqual(
      expect.arrayContaining([
        { Key: 'iclinic-deploy:stack', Value: 'iclinic' },
        { Key: 'iclinic-deploy:region', Value: 'us-east-1' },
      ]),
    );
    expect(result.changes.map((c) => c.action)).toEqual(['create']);
    expect(result.value.url).toBe('https://d111.cloudfront.net/');
    expect(result.value.originSecret.value).toBe(header?.HeaderValue);
  });

  it("turns CloudFront's refusal of an unverified account into the error that says what to do", async () => {
    const { ctx, mocks } = testContext();
    mocks.cloudfront
      .on(ListDistributionsCommand)
      .resolves({ DistributionList: { Items: [] } as never });
    mocks.cloudfront
      .on(CreateDistributionWithTagsCommand)
      .rejects(awsError('AccessDenied', NOT_VERIFIED_MESSAGE));

    const error = await ensureDistribution(ctx, SETTINGS).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CloudFrontAccountNotVerifiedError);
    expect((error as Error).message).toContain(`"${NOT_VERIFIED_MESSAGE}"`);
  });

  it('lets an AccessDenied for a missing IAM permission through as AWS worded it', async () => {
    const { ctx, mocks } = testContext();
    mocks.cloudfront
      .on(ListDistributionsCommand)
      .resolves({ DistributionList: { Items: [] } as never });
    const denied = awsError(
      'AccessDenied',
      'User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: cloudfront:CreateDistribution',
    );
    mocks.cloudfront.on(CreateDistributionWithTagsCommand).rejects(denied);

    await expect(ensureDistribution(ctx, SETTINGS)).rejects.toBe(denied);
  });

  it('puts back a changed viewer protocol policy with the ETag it read, keeping the secret', async () => {
    const drifted = storedConfig();
    drifted.DefaultCacheBehavior = {
      ...desiredDefaultBehavior(),
      ViewerProtocolPolicy: 'allow-all',
    };
    const { ctx, mocks } = withDistribution(drifted);
    mocks.cloudfront.on(UpdateDistributionCommand).resolves({ ETag: 'ETAG-2' });

    const result = await ensureDistribution(ctx, SETTINGS);

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'CloudFront distribution',
        name: ID,
        detail: 'viewer protocol policy',
        from: 'allow-all',
        to: 'redirect-to-https',
      },
    ]);
    const update = mocks.cloudfront.commandCalls(UpdateDistributionCommand)[0]?.args[0].input;
    expect(update?.IfMatch).toBe('ETAG-1');
    expect(update?.DistributionConfig?.CallerReference).toBe('ref-1');
    expect(update?.DistributionConfig?.DefaultCacheBehavior?.ViewerProtocolPolicy).toBe(
      'redirect-to-https',
    );
    expect(
      update?.DistributionConfig?.Origins?.Items?.[0]?.CustomHeaders?.Items?.[0]?.HeaderValue,
    ).toBe(SECRET);
  });

  it('makes no mutating call when the distribution is converged', async () => {
    const { ctx, mocks } = withDistribution(storedConfig());
    const result = await ensureDistribution(ctx, SETTINGS);
    expect(result.changes).toEqual([]);
    expect(mutatingOperations(mocks.cloudfront)).toEqual([]);
    // Only the stack's candidate (by comment) costs a tag lookup.
    expect(mocks.cloudfront.commandCalls(ListTagsForResourceCommand)).toHaveLength(1);
  });

  it('returns the origin header value the distribution already has on a second run', async () => {
    const { ctx } = withDistribution(storedConfig());
    const result = await ensureDistribution(ctx, SETTINGS);
    expect(result.value.originSecret).toEqual({ headerName: 'X-Origin-Verify', value: SECRET });
  });

  it('plans the creation and sends no mutating call in a dry run on an empty account', async () => {
    const { ctx, mocks } = testContext();
    mocks.cloudfront
      .on(ListDistributionsCommand)
      .resolves({ DistributionList: { Items: [] } as never });
    const result = await ensureDistribution(
      { ...ctx, dryRun: true },
      { originDomainName: NOT_CREATED_YET, originProtocolPolicy: 'http-only' },
    );
    expect(result.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create CloudFront distribution',
    ]);
    expect(result.value.id).toBe(NOT_CREATED_YET);
    expect(result.value.originSecret.value).toBe(NOT_CREATED_YET);
    expect(mutatingOperations(mocks.cloudfront)).toEqual([]);
  });

  it('never puts the secret in a change when the header drifted', async () => {
    const drifted = storedConfig();
    drifted.Origins = {
      Quantity: 1,
      Items: [
        {
          ...desiredOrigin(SETTINGS, { headerName: 'X-Origin-Verify', value: SECRET }),
          CustomHeaders: { Quantity: 0, Items: [] },
        },
      ],
    };
    const { ctx, mocks } = withDistribution(drifted);
    mocks.cloudfront.on(UpdateDistributionCommand).resolves({ ETag: 'ETAG-2' });
    const result = await ensureDistribution(ctx, SETTINGS);
    const sent =
      mocks.cloudfront.commandCalls(UpdateDistributionCommand)[0]?.args[0].input.DistributionConfig
        ?.Origins?.Items?.[0]?.CustomHeaders?.Items?.[0]?.HeaderValue ?? '';
    expect(sent).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(result.changes)).not.toContain(sent);
    expect(result.value.originSecret.value).toBe(sent);
  });
});

describe('waitForDistributionDeployed', () => {
  it('polls while InProgress and returns the ETag once Deployed, with a progress line', async () => {
    const { ctx, mocks, report } = testContext();
    mocks.cloudfront
      .on(GetDistributionCommand)
      .resolvesOnce({ Distribution: { Status: 'InProgress' } as never, ETag: 'E1' })
      .resolvesOnce({ Distribution: { Status: 'InProgress' } as never, ETag: 'E1' })
      .resolves({ Distribution: { Status: 'Deployed' } as never, ETag: 'E2' });

    const result = await waitForDistributionDeployed(ctx, ID);

    expect(result).toEqual({ gone: false, etag: 'E2' });
    expect(mocks.cloudfront.commandCalls(GetDistributionCommand)).toHaveLength(3);
    expect(report.progressLines[0]).toMatch(/E2EXAMPLE: InProgress/);
  });

  it('gives up with a message that says re-running keeps waiting', async () => {
    const { ctx, mocks } = testContext();
    mocks.cloudfront
      .on(GetDistributionCommand)
      .resolves({ Distribution: { Status: 'InProgress' } as never, ETag: 'E1' });
    await expect(waitForDistributionDeployed(ctx, ID, { timeoutMs: 60_000 })).rejects.toThrow(
      /re-run the command to keep waiting.*InProgress/,
    );
  });
});

describe('removeDistribution', () => {
  it('disables an enabled distribution, waits until Deployed and deletes with the new ETag', async () => {
    const { ctx, mocks } = withDistribution(storedConfig());
    mocks.cloudfront.on(UpdateDistributionCommand).resolves({ ETag: 'ETAG-2' });
    mocks.cloudfront
      .on(GetDistributionCommand)
      .resolvesOnce({ Distribution: { Status: 'InProgress' } as never, ETag: 'ETAG-2' })
      .resolves({ Distribution: { Status: 'Deployed' } as never, ETag: 'ETAG-2' });
    mocks.cloudfront.on(DeleteDistributionCommand).resolves({});

    const result = await removeDistribution(ctx);

    expect(mutatingOperations(mocks.cloudfront)).toEqual([
      'UpdateDistribution',
      'DeleteDistribution',
    ]);
    const update = mocks.cloudfront.commandCalls(UpdateDistributionCommand)[0]?.args[0].input;
    expect(update?.DistributionConfig?.Enabled).toBe(false);
    expect(update?.IfMatch).toBe('ETAG-1');
    expect(mocks.cloudfront.commandCalls(DeleteDistributionCommand)[0]?.args[0].input).toEqual({
      Id: ID,
      IfMatch: 'ETAG-2',
    });
    expect(result.changes).toEqual([
      { action: 'delete', kind: 'CloudFront distribution', name: ID },
    ]);
  });

  it('resumes on an already-disabled distribution: no second disable, straight to wait and delete', async () => {
    const { ctx, mocks } = withDistribution({ ...storedConfig(), Enabled: false }, 'InProgress');
    mocks.cloudfront
      .on(GetDistributionCommand)
      .resolvesOnce({ Distribution: { Status: 'InProgress' } as never, ETag: 'ETAG-1' })
      .resolves({ Distribution: { Status: 'Deployed' } as never, ETag: 'ETAG-1' });
    mocks.cloudfront.on(DeleteDistributionCommand).resolves({});

    await removeDistribution(ctx);

    expect(mutatingOperations(mocks.cloudfront)).toEqual(['DeleteDistribution']);
    expect(operations(mocks.cloudfront).filter((op) => op === 'GetDistribution')).toHaveLength(2);
  });

  it('retries a delete refused while the distribution is still in progress after another wait', async () => {
    const { ctx, mocks } = withDistribution({ ...storedConfig(), Enabled: false });
    mocks.cloudfront
      .on(GetDistributionCommand)
      .resolvesOnce({ Distribution: { Status: 'Deployed' } as never, ETag: 'ETAG-1' })
      .resolvesOnce({ Distribution: { Status: 'InProgress' } as never, ETag: 'ETAG-1' })
      .resolves({ Distribution: { Status: 'Deployed' } as never, ETag: 'ETAG-3' });
    mocks.cloudfront
      .on(DeleteDistributionCommand)
      .rejectsOnce(
        awsError(
          'DistributionNotDisabled',
          'The distribution you are trying to delete has not been disabled.',
        ),
      )
      .resolves({});

    await removeDistribution(ctx);

    const deletes = mocks.cloudfront.commandCalls(DeleteDistributionCommand);
    expect(deletes.map((call) => call.args[0].input.IfMatch)).toEqual(['ETAG-1', 'ETAG-3']);
  });

  it('reads the distribution again and retries a disable refused for a stale ETag', async () => {
    const { ctx, mocks } = withDistribution(storedConfig());
    mocks.cloudfront
      .on(GetDistributionConfigCommand)
      .resolvesOnce({ DistributionConfig: storedConfig(), ETag: 'ETAG-1' })
      .resolves({ DistributionConfig: storedConfig(), ETag: 'ETAG-2' });
    mocks.cloudfront
      .on(UpdateDistributionCommand)
      .rejectsOnce(
        awsError(
          'PreconditionFailed',
          'The precondition given in one or more of the request-header fields evaluated to false.',
        ),
      )
      .resolves({ ETag: 'ETAG-3' });
    mocks.cloudfront
      .on(GetDistributionCommand)
      .resolves({ Distribution: { Status: 'Deployed' } as never, ETag: 'ETAG-3' });
    mocks.cloudfront.on(DeleteDistributionCommand).resolves({});

    await removeDistribution(ctx);

    const disables = mocks.cloudfront.commandCalls(UpdateDistributionCommand);
    expect(disables.map((call) => call.args[0].input.IfMatch)).toEqual(['ETAG-1', 'ETAG-2']);
    expect(mocks.cloudfront.commandCalls(DeleteDistributionCommand)[0]?.args[0].input).toEqual({
      Id: ID,
      IfMatch: 'ETAG-3',
    });
  });

  it('gives up on a disable still refused after three fresh reads', async () => {
    const { ctx, mocks } = withDistribution(storedConfig());
    const stale = awsError(
      'InvalidIfMatchVersion',
      'The If-Match version is missing or not valid.',
    );
    mocks.cloudfront.on(UpdateDistributionCommand).rejects(stale);

    await expect(removeDistribution(ctx)).rejects.toBe(stale);
    expect(mocks.cloudfront.commandCalls(UpdateDistributionCommand)).toHaveLength(3);
    expect(mocks.cloudfront.commandCalls(DeleteDistributionCommand)).toHaveLength(0);
  });

  it('makes no mutating call when there is no distribution (down twice)', async () => {
    const { ctx, mocks } = testContext();
    mocks.cloudfront
      .on(ListDistributionsCommand)
      .resolves({ DistributionList: { Items: [] } as never });
    expect(await removeDistribution(ctx)).toEqual({ changes: [] });
    expect(mutatingOperations(mocks.cloudfront)).toEqual([]);
  });

  it('returns the delete change without disabling or deleting in a dry run', async () => {
    const { ctx, mocks } = withDistribution(storedConfig());
    const result = await removeDistribution({ ...ctx, dryRun: true });
    expect(result.changes).toHaveLength(1);
    expect(mutatingOperations(mocks.cloudfront)).toEqual([]);
  });
});

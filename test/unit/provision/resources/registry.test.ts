import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  type Repository,
} from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../provision/plan.js';
import {
  decodeAuthorization,
  ensureRepository,
  imageTagExists,
  LIFECYCLE_POLICY,
  parseEcrImage,
  registryLogin,
  removeRepository,
  stackImageExists,
} from '../../../../provision/resources/registry.js';
import { awsError, mutatingOperations, operations, testContext } from '../../support/context.js';

const repository: Repository = {
  repositoryName: 'iclinic/api',
  repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api',
  repositoryArn: 'arn:aws:ecr:us-east-1:123456789012:repository/iclinic/api',
  imageScanningConfiguration: { scanOnPush: true },
  imageTagMutability: 'IMMUTABLE',
};
const repoNotFound = () => awsError('RepositoryNotFoundException', 'repository does not exist');
const value = { repositoryUri: repository.repositoryUri, repositoryArn: repository.repositoryArn };

describe('ensureRepository', () => {
  it('creates the repository with scan on push, immutable tags, stack tags and the lifecycle policy', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).rejects(repoNotFound());
    mocks.ecr.on(CreateRepositoryCommand).resolves({ repository });
    mocks.ecr
      .on(GetLifecyclePolicyCommand)
      .rejects(awsError('LifecyclePolicyNotFoundException', 'no policy'));
    mocks.ecr.on(PutLifecyclePolicyCommand).resolves({});
    const result = await ensureRepository(ctx);
    expect(result.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create ECR repository',
      'create lifecycle policy',
    ]);
    expect(result.value).toEqual(value);
    expect(mocks.ecr.commandCalls(CreateRepositoryCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'iclinic/api',
      imageScanningConfiguration: { scanOnPush: true },
      imageTagMutability: 'IMMUTABLE',
      tags: [
        { Key: 'iclinic-deploy:stack', Value: 'iclinic' },
        { Key: 'managed-by', Value: 'iclinic-deploy' },
      ],
    });
    const policy = mocks.ecr.commandCalls(PutLifecyclePolicyCommand)[0]?.args[0].input;
    expect(policy?.repositoryName).toBe('iclinic/api');
    expect(JSON.parse(policy?.lifecyclePolicyText ?? '')).toEqual(LIFECYCLE_POLICY);
  });

  it('keeps the 10 most recent images', () => {
    expect(LIFECYCLE_POLICY.rules[0]?.selection).toEqual({
      tagStatus: 'any',
      countType: 'imageCountMoreThan',
      countNumber: 10,
    });
  });

  it('makes no mutating call when the repository and its policy are as desired', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [repository] });
    mocks.ecr
      .on(GetLifecyclePolicyCommand)
      .resolves({ lifecyclePolicyText: JSON.stringify(LIFECYCLE_POLICY) });
    const result = await ensureRepository(ctx);
    expect(result).toEqual({ changes: [], value });
    expect(mutatingOperations(mocks.ecr)).toEqual([]);
  });

  it('turns scan on push back on', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ ...repository, imageScanningConfiguration: { scanOnPush: false } }],
    });
    mocks.ecr.on(PutImageScanningConfigurationCommand).resolves({});
    mocks.ecr
      .on(GetLifecyclePolicyCommand)
      .resolves({ lifecyclePolicyText: JSON.stringify(LIFECYCLE_POLICY) });
    const result = await ensureRepository(ctx);
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'ECR repository',
        name: 'iclinic/api',
        detail: 'scan on push',
        from: 'off',
        to: 'on',
      },
    ]);
    expect(mutatingOperations(mocks.ecr)).toEqual(['PutImageScanningConfiguration']);
    expect(mocks.ecr.commandCalls(PutImageScanningConfigurationCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'iclinic/api',
      imageScanningConfiguration: { scanOnPush: true },
    });
  });

  it('puts back a lifecycle policy that was changed by hand', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [repository] });
    mocks.ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: '{"rules":[]}' });
    mocks.ecr.on(PutLifecyclePolicyCommand).resolves({});
    const result = await ensureRepository(ctx);
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'lifecycle policy',
        name: 'iclinic/api',
        detail: 'rules',
        from: 'no rules',
        to: 'keep the 10 most recent images',
      },
    ]);
    expect(mutatingOperations(mocks.ecr)).toEqual(['PutLifecyclePolicy']);
  });
});

describe('imageTagExists', () => {
  it('is true when ECR describes the tag', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageTags: ['abc'] }] });
    await expect(imageTagExists(ctx, 'abc')).resolves.toBe(true);
  });

  it('is false on ImageNotFoundException', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeImagesCommand).rejects(awsError('ImageNotFoundException', 'not found'));
    await expect(imageTagExists(ctx, 'abc')).resolves.toBe(false);
  });

  it('rethrows other errors', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeImagesCommand).rejects(awsError('AccessDeniedException', 'denied'));
    await expect(imageTagExists(ctx, 'abc')).rejects.toThrow('denied');
  });
});

const STACK_IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api';
const DIGEST = `sha256:${'ab'.repeat(32)}`;

describe('parseEcrImage', () => {
  it('reads account, region, repository and tag', () => {
    expect(parseEcrImage(`${STACK_IMAGE}:0123abcd-amd64`)).toEqual({
      registryId: '123456789012',
      region: 'us-east-1',
      repositoryName: 'iclinic/api',
      imageTag: '0123abcd-amd64',
    });
  });

  it('reads a digest reference', () => {
    expect(parseEcrImage(`${STACK_IMAGE}@${DIGEST}`)).toMatchObject({ imageDigest: DIGEST });
  });

  it('is undefined for another registry', () => {
    expect(parseEcrImage('public.ecr.aws/nginx/nginx:1.27')).toBeUndefined();
    expect(parseEcrImage('ghcr.io/acme/api:v1')).toBeUndefined();
  });
});

describe('stackImageExists', () => {
  it("asks ECR for the tag in the stack's repository", async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageTags: ['v1'] }] });
    await expect(stackImageExists(ctx, `${STACK_IMAGE}:v1`)).resolves.toBe(true);
    expect(mocks.ecr.commandCalls(DescribeImagesCommand)[0]?.args[0].input).toEqual({
      registryId: '123456789012',
      repositoryName: 'iclinic/api',
      imageIds: [{ imageTag: 'v1' }],
    });
  });

  it('is false when the lifecycle policy expired the image', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr
      .on(DescribeImagesCommand)
      .rejects(
        awsError(
          'ImageNotFoundException',
          "The image with imageId {imageDigest:'null', imageTag:'v1'} does not exist",
        ),
      );
    await expect(stackImageExists(ctx, `${STACK_IMAGE}@${DIGEST}`)).resolves.toBe(false);
  });

  it('is undefined, without a call, for an image in another repository or region', async () => {
    const { ctx, mocks } = testContext();
    await expect(
      stackImageExists(ctx, '123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/api:v1'),
    ).resolves.toBeUndefined();
    await expect(
      stackImageExists(ctx, '123456789012.dkr.ecr.eu-west-1.amazonaws.com/iclinic/api:v1'),
    ).resolves.toBeUndefined();
    expect(mocks.ecr.calls()).toHaveLength(0);
  });
});

describe('decodeAuthorization', () => {
  it('decodes base64 "AWS:password" and strips the scheme from the endpoint', () => {
    const token = Buffer.from('AWS:pa:ss=word').toString('base64');
    const expiresAt = new Date('2026-01-01T12:00:00Z');
    expect(
      decodeAuthorization(token, 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com', expiresAt),
    ).toEqual({
      username: 'AWS',
      password: 'pa:ss=word',
      registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      expiresAt,
    });
  });

  it('strips http:// and a trailing slash too', () => {
    const token = Buffer.from('AWS:p').toString('base64');
    expect(decodeAuthorization(token, 'http://localhost:4566/').registry).toBe('localhost:4566');
  });

  it('rejects a token that is not user:password', () => {
    expect(() =>
      decodeAuthorization(Buffer.from('nocolon').toString('base64'), 'https://x'),
    ).toThrow(/not "user:password"/);
  });
});

describe('registryLogin', () => {
  it('decodes the first authorization data entry', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:secret').toString('base64'),
          proxyEndpoint: 'https://r.example.com',
        },
      ],
    });
    await expect(registryLogin(ctx)).resolves.toMatchObject({
      username: 'AWS',
      password: 'secret',
      registry: 'r.example.com',
    });
  });

  it('fails naming the permission when no token comes back', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(GetAuthorizationTokenCommand).resolves({ authorizationData: [] });
    await expect(registryLogin(ctx)).rejects.toThrow(/ecr:GetAuthorizationToken/);
  });
});

describe('removeRepository', () => {
  it('deletes the repository with force', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [repository] });
    mocks.ecr.on(DeleteRepositoryCommand).resolves({});
    const result = await removeRepository(ctx);
    expect(result.changes).toEqual([
      { action: 'delete', kind: 'ECR repository', name: 'iclinic/api', detail: 'with its images' },
    ]);
    expect(mocks.ecr.commandCalls(DeleteRepositoryCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'iclinic/api',
      force: true,
    });
  });

  it('makes no mutating call when the repository is absent', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).rejects(repoNotFound());
    await expect(removeRepository(ctx)).resolves.toEqual({ changes: [] });
    expect(operations(mocks.ecr)).toEqual(['DescribeRepositories']);
  });
});

describe('ensureRepository and removeRepository in a dry run', () => {
  it('plans nothing and makes no mutating call on a converged repository', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [repository] });
    mocks.ecr
      .on(GetLifecyclePolicyCommand)
      .resolves({ lifecyclePolicyText: JSON.stringify(LIFECYCLE_POLICY) });
    const result = await ensureRepository({ ...ctx, dryRun: true });
    expect(result).toEqual({ changes: [], value });
    expect(mutatingOperations(mocks.ecr)).toEqual([]);
  });

  it('plans the repository and its lifecycle policy on an empty account, with the URI not created yet', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).rejects(repoNotFound());
    const result = await ensureRepository({ ...ctx, dryRun: true });
    expect(result).toEqual({
      value: { repositoryUri: NOT_CREATED_YET, repositoryArn: NOT_CREATED_YET },
      changes: [
        {
          action: 'create',
          kind: 'ECR repository',
          name: 'iclinic/api',
          detail: 'scan on push, immutable tags',
        },
        {
          action: 'create',
          kind: 'lifecycle policy',
          name: 'iclinic/api',
          detail: 'keep the 10 most recent images',
        },
      ],
    });
    expect(mutatingOperations(mocks.ecr)).toEqual([]);
  });

  it('plans scan on push "off" to "on" without turning it on', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).resolves({
      repositories: [{ ...repository, imageScanningConfiguration: { scanOnPush: false } }],
    });
    mocks.ecr
      .on(GetLifecyclePolicyCommand)
      .resolves({ lifecyclePolicyText: JSON.stringify(LIFECYCLE_POLICY) });
    const result = await ensureRepository({ ...ctx, dryRun: true });
    expect(result.changes).toMatchObject([{ detail: 'scan on push', from: 'off', to: 'on' }]);
    expect(mutatingOperations(mocks.ecr)).toEqual([]);
  });

  it('removeRepository names the repository it would delete and deletes nothing', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [repository] });
    const result = await removeRepository({ ...ctx, dryRun: true });
    expect(result.changes).toEqual([
      { action: 'delete', kind: 'ECR repository', name: 'iclinic/api', detail: 'with its images' },
    ]);
    expect(mutatingOperations(mocks.ecr)).toEqual([]);
  });
});

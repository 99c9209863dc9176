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
import {
  decodeAuthorization,
  ensureRepository,
  imageTagExists,
  LIFECYCLE_POLICY,
  registryLogin,
  removeRepository,
} from '../../../provision/registry.js';
import { awsError, mutatingOperations, operations, testContext } from '../support/context.js';

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
    expect(result.outcome).toBe('created');
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
    expect(result).toEqual({ outcome: 'unchanged', changes: [], value });
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
    expect(result.outcome).toBe('updated');
    expect(result.changes).toEqual(['turned scan on push back on']);
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
    expect(result.outcome).toBe('updated');
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
    expect(result.removed).toHaveLength(1);
    expect(mocks.ecr.commandCalls(DeleteRepositoryCommand)[0]?.args[0].input).toEqual({
      repositoryName: 'iclinic/api',
      force: true,
    });
  });

  it('makes no mutating call when the repository is absent', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecr.on(DescribeRepositoriesCommand).rejects(repoNotFound());
    await expect(removeRepository(ctx)).resolves.toEqual({ removed: [] });
    expect(operations(mocks.ecr)).toEqual(['DescribeRepositories']);
  });
});

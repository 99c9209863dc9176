import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { ensureLogGroup, removeLogGroup } from '../../../provision/logs.js';
import { awsError, mutatingOperations, testContext } from '../support/context.js';

const ARN = 'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/iclinic/api';

describe('ensureLogGroup', () => {
  it('creates a tagged log group with the retention', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [] })
      .resolves({
        logGroups: [{ logGroupName: '/ecs/iclinic/api', arn: `${ARN}:*`, retentionInDays: 14 }],
      });
    mocks.logs.on(CreateLogGroupCommand).resolves({});
    mocks.logs.on(PutRetentionPolicyCommand).resolves({});

    const result = await ensureLogGroup(ctx, { retentionDays: 14 });

    expect(result).toMatchObject({
      outcome: 'created',
      value: { name: '/ecs/iclinic/api', arn: ARN },
    });
    expect(mocks.logs.commandCalls(CreateLogGroupCommand)[0]?.args[0].input.tags).toMatchObject({
      'iclinic-deploy:stack': 'iclinic',
    });
    expect(
      mocks.logs.commandCalls(PutRetentionPolicyCommand)[0]?.args[0].input.retentionInDays,
    ).toBe(14);
  });

  it('ignores a longer name that shares the prefix', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupName: '/ecs/iclinic/api-old', arn: 'x', retentionInDays: 14 }],
    });
    mocks.logs.on(CreateLogGroupCommand).resolves({});
    mocks.logs.on(PutRetentionPolicyCommand).resolves({});
    expect((await ensureLogGroup(ctx, { retentionDays: 14 })).outcome).toBe('created');
  });

  it('only puts the retention policy when it drifted', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupName: '/ecs/iclinic/api', arn: ARN, retentionInDays: 3 }],
    });
    mocks.logs.on(PutRetentionPolicyCommand).resolves({});
    const result = await ensureLogGroup(ctx, { retentionDays: 14 });
    expect(result.outcome).toBe('updated');
    expect(mutatingOperations(mocks.logs)).toEqual(['PutRetentionPolicy']);
  });

  it('makes no mutating call when it matches', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupName: '/ecs/iclinic/api', arn: ARN, retentionInDays: 14 }],
    });
    expect((await ensureLogGroup(ctx, { retentionDays: 14 })).outcome).toBe('unchanged');
    expect(mutatingOperations(mocks.logs)).toEqual([]);
  });

  it('rejects a retention CloudWatch does not accept', async () => {
    const { ctx } = testContext();
    await expect(ensureLogGroup(ctx, { retentionDays: 10 })).rejects.toThrow(
      /Invalid log retention 10 days/,
    );
  });
});

describe('removeLogGroup', () => {
  it('makes no mutating call when the log group does not exist', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    expect((await removeLogGroup(ctx)).removed).toEqual([]);
    expect(mocks.logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
  });

  it('is safe when the log group disappears between the look and the delete', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        { logGroupName: ctx.names.logGroup, arn: 'arn:aws:logs:us-east-1:1:log-group:x:*' },
      ],
    });
    mocks.logs.on(DeleteLogGroupCommand).rejects(awsError('ResourceNotFoundException', 'gone'));
    expect((await removeLogGroup(ctx)).removed).toEqual([]);
  });
});

import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  ensureLogGroup,
  planLogGroup,
  removeLogGroup,
} from '../../../../../provision/resources/logs/index.js';
import { awsError, mutatingOperations, testContext } from '../../../support/context.js';

const NAME = '/ecs/iclinic/api';
const ARN = `arn:aws:logs:us-east-1:123456789012:log-group:${NAME}`;

function withLogGroup(retentionInDays: number | undefined, dryRun = false) {
  const t = testContext();
  t.mocks.logs.on(DescribeLogGroupsCommand).resolves({
    logGroups: [{ logGroupName: NAME, arn: `${ARN}:*`, retentionInDays }],
  });
  t.mocks.logs.on(PutRetentionPolicyCommand).resolves({});
  t.mocks.logs.on(DeleteLogGroupCommand).resolves({});
  return { ...t, ctx: { ...t.ctx, dryRun } };
}

describe('planLogGroup', () => {
  it('plans the creation with its retention when the log group is missing', () => {
    expect(planLogGroup(NAME, undefined, { retentionDays: 14 })).toEqual([
      { action: 'create', kind: 'log group', name: NAME, detail: 'retention 14 days' },
    ]);
  });

  it('plans a retention drift as "7 days" → "14 days"', () => {
    const current = { name: NAME, arn: ARN, retentionDays: 7 };
    expect(planLogGroup(NAME, current, { retentionDays: 14 })).toEqual([
      {
        action: 'update',
        kind: 'log group',
        name: NAME,
        detail: 'retention',
        from: '7 days',
        to: '14 days',
      },
    ]);
  });

  it('names a log group without retention as "never expire"', () => {
    const current = { name: NAME, arn: ARN, retentionDays: undefined };
    expect(planLogGroup(NAME, current, { retentionDays: 14 })[0]?.from).toBe('never expire');
  });

  it('plans nothing when the retention matches', () => {
    const current = { name: NAME, arn: ARN, retentionDays: 14 };
    expect(planLogGroup(NAME, current, { retentionDays: 14 })).toEqual([]);
  });
});

describe('ensureLogGroup', () => {
  it('creates a tagged log group with the retention', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [] })
      .resolves({ logGroups: [{ logGroupName: NAME, arn: `${ARN}:*`, retentionInDays: 14 }] });
    mocks.logs.on(CreateLogGroupCommand).resolves({});
    mocks.logs.on(PutRetentionPolicyCommand).resolves({});

    const result = await ensureLogGroup(ctx, { retentionDays: 14 });

    expect(result.changes.map((c) => c.action)).toEqual(['create']);
    expect(result.value).toEqual({ name: NAME, arn: ARN, retentionDays: 14 });
    expect(mocks.logs.commandCalls(CreateLogGroupCommand)[0]?.args[0].input.tags).toMatchObject({
      'iclinic-deploy:stack': 'iclinic',
    });
    expect(
      mocks.logs.commandCalls(PutRetentionPolicyCommand)[0]?.args[0].input.retentionInDays,
    ).toBe(14);
  });

  it('finds the log group on a later page of DescribeLogGroups', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [{ logGroupName: `${NAME}-a` }], nextToken: 'page-2' })
      .resolves({ logGroups: [{ logGroupName: NAME, arn: `${ARN}:*`, retentionInDays: 14 }] });

    const result = await ensureLogGroup(ctx, { retentionDays: 14 });

    expect(result.changes).toEqual([]);
    expect(mocks.logs.commandCalls(DescribeLogGroupsCommand)[1]?.args[0].input.nextToken).toBe(
      'page-2',
    );
  });

  it('ignores a longer name that shares the prefix', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [{ logGroupName: `${NAME}-old`, arn: 'x', retentionInDays: 14 }],
    });
    mocks.logs.on(CreateLogGroupCommand).resolves({});
    mocks.logs.on(PutRetentionPolicyCommand).resolves({});
    const result = await ensureLogGroup(ctx, { retentionDays: 14 });
    expect(result.changes.map((c) => c.action)).toEqual(['create']);
  });

  it('only puts the retention policy when it drifted', async () => {
    const { ctx, mocks } = withLogGroup(3);
    const result = await ensureLogGroup(ctx, { retentionDays: 14 });
    expect(result.changes).toMatchObject([{ action: 'update', from: '3 days', to: '14 days' }]);
    expect(mutatingOperations(mocks.logs)).toEqual(['PutRetentionPolicy']);
  });

  it('makes no mutating call when it matches', async () => {
    const { ctx, mocks } = withLogGroup(14);
    expect((await ensureLogGroup(ctx, { retentionDays: 14 })).changes).toEqual([]);
    expect(mutatingOperations(mocks.logs)).toEqual([]);
  });

  it('in a dry run plans the retention drift and puts no policy', async () => {
    const { ctx, mocks } = withLogGroup(7, true);
    const result = await ensureLogGroup(ctx, { retentionDays: 14 });
    expect(result.changes).toMatchObject([{ action: 'update', from: '7 days', to: '14 days' }]);
    expect(result.value.retentionDays).toBe(7);
    expect(mutatingOperations(mocks.logs)).toEqual([]);
  });

  it('in a dry run on an empty account plans the creation and returns no ARN yet', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    const result = await ensureLogGroup({ ...ctx, dryRun: true }, { retentionDays: 14 });
    expect(result.changes.map((c) => c.action)).toEqual(['create']);
    expect(result.value).toEqual({ name: NAME, arn: NOT_CREATED_YET, retentionDays: undefined });
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
  it('deletes the log group and returns its delete', async () => {
    const { ctx, mocks } = withLogGroup(14);
    expect((await removeLogGroup(ctx)).changes).toEqual([
      { action: 'delete', kind: 'log group', name: NAME },
    ]);
    expect(mutatingOperations(mocks.logs)).toEqual(['DeleteLogGroup']);
  });

  it('in a dry run returns the delete and deletes nothing', async () => {
    const { ctx, mocks } = withLogGroup(14, true);
    expect((await removeLogGroup(ctx)).changes).toEqual([
      { action: 'delete', kind: 'log group', name: NAME },
    ]);
    expect(mutatingOperations(mocks.logs)).toEqual([]);
  });

  it('makes no mutating call when the log group does not exist', async () => {
    const { ctx, mocks } = testContext();
    mocks.logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
    expect((await removeLogGroup(ctx)).changes).toEqual([]);
    expect(mocks.logs.commandCalls(DeleteLogGroupCommand)).toHaveLength(0);
  });

  it('is safe when the log group disappears between the look and the delete', async () => {
    const { ctx, mocks } = withLogGroup(14);
    mocks.logs.on(DeleteLogGroupCommand).rejects(awsError('ResourceNotFoundException', 'gone'));
    expect((await removeLogGroup(ctx)).changes).toEqual([]);
  });
});

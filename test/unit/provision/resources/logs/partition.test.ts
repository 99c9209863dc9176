import {
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { ensureLogGroup } from '../../../../../provision/resources/logs/index.js';
import { testContext } from '../../../support/context.js';

describe('ensureLogGroup outside the commercial partition', () => {
  it('gives the log group an arn:aws-us-gov: ARN in us-gov-west-1 when the describe reports none', async () => {
    const { ctx, mocks } = testContext();
    const name = ctx.names.logGroup;
    mocks.logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [] })
      .resolves({ logGroups: [{ logGroupName: name, retentionInDays: 14 }] });
    mocks.logs.on(CreateLogGroupCommand).resolves({});
    mocks.logs.on(PutRetentionPolicyCommand).resolves({});

    const result = await ensureLogGroup({ ...ctx, region: 'us-gov-west-1' }, { retentionDays: 14 });

    expect(result.value.arn).toBe(`arn:aws-us-gov:logs:us-gov-west-1:*:log-group:${name}`);
  });
});

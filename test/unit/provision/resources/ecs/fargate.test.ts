import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
} from '@aws-sdk/client-service-quotas';
import { describe, expect, it } from 'vitest';
import {
  checkFargateVcpuQuota,
  validateFargateSize,
} from '../../../../../provision/resources/ecs/index.js';
import { awsError, testContext } from '../../../support/context.js';

describe('validateFargateSize', () => {
  it('rejects an invalid cpu/memory pair listing the valid memory sizes', () => {
    expect(() => validateFargateSize(256, 4096)).toThrow(/256 CPU.*512, 1024, 2048 MiB/);
  });

  it('accepts a valid pair', () => {
    expect(() => validateFargateSize(512, 2048)).not.toThrow();
  });
});

describe('checkFargateVcpuQuota', () => {
  it('fails with a clear message when the quota is below the need', async () => {
    const { ctx, mocks } = testContext();
    mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 0.5 } });
    await expect(checkFargateVcpuQuota(ctx, 1)).rejects.toThrow(
      /quota .* is 0\.5.*needs 1 vCPU.*L-3032A538/s,
    );
  });

  it('falls back to the AWS default when the account has no applied value', async () => {
    const { ctx, mocks } = testContext();
    mocks.quotas
      .on(GetServiceQuotaCommand)
      .rejects(awsError('NoSuchResourceException', 'no applied quota'));
    mocks.quotas.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { Value: 0.25 } });
    await expect(checkFargateVcpuQuota(ctx, 1)).rejects.toThrow(/quota .* is 0\.25/s);
  });

  it('warns and continues when the quota API is unavailable', async () => {
    const { ctx, mocks, report } = testContext();
    mocks.quotas
      .on(GetServiceQuotaCommand)
      .rejects(awsError('AccessDeniedException', 'not allowed'));
    await expect(checkFargateVcpuQuota(ctx, 1)).resolves.toBeUndefined();
    expect(report.warnings.join()).toMatch(/Fargate vCPU quota/);
  });
});

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

/**
 * The Linux task sizes of the AWS table, written out again here (not read
 * from FARGATE_SIZES): [CPU units, smallest MiB, largest MiB, step MiB].
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
const AWS_TABLE: readonly (readonly [number, number, number, number])[] = [
  [512, 1024, 4096, 1024],
  [1024, 2048, 8192, 1024],
  [2048, 4096, 16384, 1024],
  [4096, 8192, 30720, 1024],
  [8192, 16384, 61440, 4096],
  [16384, 32768, 122880, 8192],
];

describe('validateFargateSize', () => {
  it('rejects an invalid cpu/memory pair listing the valid memory sizes', () => {
    expect(() => validateFargateSize(256, 4096)).toThrow(/256 CPU.*512, 1024, 2048 MiB/);
  });

  it('accepts 256 CPU units with 512, 1024 or 2048 MiB, and nothing else', () => {
    for (const memory of [512, 1024, 2048]) validateFargateSize(256, memory);
    for (const memory of [256, 768, 1536, 3072, 4096]) {
      expect(() => validateFargateSize(256, memory), `${memory} MiB`).toThrow(
        `Invalid Fargate memory ${memory} MiB for 256 CPU units`,
      );
    }
  });

  it.each(AWS_TABLE)(
    'accepts %i CPU units with every size from %i to %i MiB in steps of %i, and no other',
    (cpu, smallest, largest, step) => {
      for (let memory = smallest; memory <= largest; memory += step) {
        validateFargateSize(cpu, memory);
      }
      for (const memory of [smallest - step, largest + step, smallest + step / 2]) {
        expect(() => validateFargateSize(cpu, memory), `${memory} MiB`).toThrow(
          `Invalid Fargate memory ${memory} MiB for ${cpu} CPU units`,
        );
      }
    },
  );

  it('rejects a CPU size Fargate does not offer, listing the ones it does', () => {
    for (const cpu of [0, 128, 300, 768, 32768]) {
      expect(() => validateFargateSize(cpu, 2048), `${cpu} CPU`).toThrow(
        `Invalid Fargate CPU ${cpu}: use one of 256, 512, 1024, 2048, 4096, 8192, 16384 CPU units`,
      );
    }
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

  it('passes quietly when the quota covers the need, exactly or with room to spare', async () => {
    for (const quota of [1, 6]) {
      const { ctx, mocks, report } = testContext();
      mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: quota } });
      await expect(checkFargateVcpuQuota(ctx, 1)).resolves.toBeUndefined();
      expect(report.warnings).toEqual([]);
      expect(mocks.quotas.commandCalls(GetServiceQuotaCommand)[0]?.args[0].input).toEqual({
        ServiceCode: 'fargate',
        QuotaCode: 'L-3032A538',
      });
    }
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

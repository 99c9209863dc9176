import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
} from '@aws-sdk/client-service-quotas';
import type { StackContext } from '../../context.js';
import { errorCode, errorMessage, hasErrorCode } from '../../retry.js';

function range(from: number, to: number, step: number): number[] {
  const values: number[] = [];
  for (let v = from; v <= to; v += step) values.push(v);
  return values;
}

/**
 * Fargate accepts only these CPU units / memory MiB pairs (Linux):
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
 */
export const FARGATE_SIZES: ReadonlyMap<number, readonly number[]> = new Map([
  [256, [512, 1024, 2048]],
  [512, range(1024, 4096, 1024)],
  [1024, range(2048, 8192, 1024)],
  [2048, range(4096, 16384, 1024)],
  [4096, range(8192, 30720, 1024)],
  [8192, range(16384, 61440, 4096)],
  [16384, range(32768, 122880, 8192)],
]);

export function validateFargateSize(cpu: number, memory: number): void {
  const allowed = FARGATE_SIZES.get(cpu);
  if (!allowed) {
    throw new Error(
      `Invalid Fargate CPU ${cpu}: use one of ${[...FARGATE_SIZES.keys()].join(', ')} CPU units ` +
        `(1024 units = 1 vCPU; 256 is the smallest and cheapest).`,
    );
  }
  if (!allowed.includes(memory)) {
    throw new Error(
      `Invalid Fargate memory ${memory} MiB for ${cpu} CPU units: with ${cpu} CPU Fargate accepts ` +
        `${allowed.join(', ')} MiB. Change the memory setting to one of these, or pick another CPU size.`,
    );
  }
}

// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html
export const FARGATE_VCPU_QUOTA_CODE = 'L-3032A538';

export class FargateQuotaError extends Error {
  constructor(quota: number, needed: number) {
    super(
      `This account's Fargate On-Demand vCPU quota in this region is ${quota}, but the deployment needs ` +
        `${needed} vCPU at its peak (old and new tasks run side by side during a rolling deploy). ` +
        `Request an increase of quota ${FARGATE_VCPU_QUOTA_CODE} ("Fargate On-Demand vCPU resource count") ` +
        `in the Service Quotas console, or lower the task CPU or --max-tasks.`,
    );
    this.name = 'FargateQuotaError';
  }
}

/**
 * New accounts can have a quota below 1 vCPU, which shows up only as a
 * rollout stuck on "reached the limit on the number of vCPUs"; checking
 * first turns that into a clear message. The check is advisory: when the
 * quota API cannot answer (no permission, emulator) the run goes on.
 */
export async function checkFargateVcpuQuota(ctx: StackContext, neededVcpu: number): Promise<void> {
  let quota: number | undefined;
  const which = { ServiceCode: 'fargate', QuotaCode: FARGATE_VCPU_QUOTA_CODE };
  try {
    const out = await ctx.clients.quotas
      .send(new GetServiceQuotaCommand(which))
      .catch((error: unknown) => {
        // A quota never adjusted in the account may have no applied value.
        if (hasErrorCode(error, 'NoSuchResourceException')) {
          return ctx.clients.quotas.send(new GetAWSDefaultServiceQuotaCommand(which));
        }
        throw error;
      });
    quota = out.Quota?.Value;
  } catch (error) {
    ctx.report.warn(
      `Could not read the Fargate vCPU quota (${errorCode(error)}: ${errorMessage(error)}); ` +
        `continuing without checking it.`,
    );
    return;
  }
  if (quota === undefined) {
    ctx.report.warn('The Fargate vCPU quota came back empty; continuing without checking it.');
    return;
  }
  if (quota < neededVcpu) throw new FargateQuotaError(quota, neededVcpu);
}

import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  paginateDescribeLogGroups,
  PutRetentionPolicyCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Converged, Removal, StackContext } from '../../context.js';
import { stackTags } from '../../names.js';
import { partitionOf } from '../../partition.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { hasErrorCode, isNotFound } from '../../retry.js';

export interface LogGroupSettings {
  readonly retentionDays: number;
}

export interface LogGroupInfo {
  readonly name: string;
  /** ARN without the trailing `:*`, the form IAM policies and ECS expect. */
  readonly arn: string;
  readonly retentionDays: number | undefined;
}

const KIND = 'log group';

// CloudWatch Logs accepts only these retention values; anything else is
// rejected by AWS with a terse InvalidParameterException (moto accepts it).
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
const VALID_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

export function validateRetentionDays(days: number): void {
  if (!VALID_RETENTION_DAYS.includes(days)) {
    throw new Error(
      `Invalid log retention ${days} days: CloudWatch Logs accepts only ${VALID_RETENTION_DAYS.join(', ')}. ` +
        `Pick one of these values (14 is the default).`,
    );
  }
}

function toInfo(group: LogGroup): LogGroupInfo {
  const name = group.logGroupName ?? '';
  const arn = (group.arn ?? '').replace(/:\*$/, '');
  return { name, arn, retentionDays: group.retentionInDays };
}

/** Read-only: the stack's log group, or undefined when it does not exist. */
export async function describeLogGroup(ctx: StackContext): Promise<LogGroupInfo | undefined> {
  const name = ctx.names.logGroup;
  // The prefix filter also matches longer names (e.g. another stack's
  // "/ecs/foo/api-x"), so the exact name is checked afterwards.
  const pages = paginateDescribeLogGroups(
    { client: ctx.clients.logs },
    { logGroupNamePrefix: name },
  );
  for await (const page of pages) {
    const found = (page.logGroups ?? []).find((g) => g.logGroupName === name);
    if (found) return toInfo(found);
  }
  return undefined;
}

function retentionText(days: number | undefined): string {
  return days === undefined ? 'never expire' : `${days} days`;
}

/** Pure: what ensureLogGroup would change. */
export function planLogGroup(
  name: string,
  current: LogGroupInfo | undefined,
  settings: LogGroupSettings,
): Change[] {
  const changes = new ChangeSet();
  if (current === undefined) {
    changes.create(KIND, name, `retention ${retentionText(settings.retentionDays)}`);
  } else if (current.retentionDays !== settings.retentionDays) {
    changes.update(
      KIND,
      name,
      'retention',
      retentionText(current.retentionDays),
      retentionText(settings.retentionDays),
    );
  }
  return [...changes.list];
}

async function createLogGroup(ctx: StackContext): Promise<void> {
  const tags = Object.fromEntries(stackTags(ctx.names.stack).map((t) => [t.Key, t.Value]));
  try {
    await ctx.clients.logs.send(
      new CreateLogGroupCommand({ logGroupName: ctx.names.logGroup, tags }),
    );
  } catch (error) {
    // A concurrent or interrupted run may have created it between the
    // describe and the create; the retention is set next either way.
    if (!hasErrorCode(error, 'ResourceAlreadyExistsException')) throw error;
  }
}

export async function ensureLogGroup(
  ctx: StackContext,
  settings: LogGroupSettings,
): Promise<Converged<LogGroupInfo>> {
  validateRetentionDays(settings.retentionDays);
  const name = ctx.names.logGroup;
  const current = await describeLogGroup(ctx);
  const changes = planLogGroup(name, current, settings);
  if (ctx.dryRun || changes.length === 0) {
    return { changes, value: current ?? { name, arn: NOT_CREATED_YET, retentionDays: undefined } };
  }
  if (current === undefined) await createLogGroup(ctx);
  await ctx.clients.logs.send(
    new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: settings.retentionDays }),
  );
  const arn = current?.arn ?? (await describeLogGroup(ctx))?.arn;
  return {
    changes,
    value: {
      name,
      // An emulator may not report the ARN; IAM then gets the wildcard-account form.
      arn: arn || `arn:${partitionOf(ctx.region)}:logs:${ctx.region}:*:log-group:${name}`,
      retentionDays: settings.retentionDays,
    },
  };
}

export async function removeLogGroup(ctx: StackContext): Promise<Removal> {
  const name = ctx.names.logGroup;
  // Looking first keeps a repeated `down` free of mutating calls.
  if ((await describeLogGroup(ctx)) === undefined) return { changes: [] };
  const changes = [...new ChangeSet().delete(KIND, name).list];
  if (ctx.dryRun) return { changes };
  try {
    await ctx.clients.logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
    return { changes };
  } catch (error) {
    if (isNotFound(error)) return { changes: [] };
    throw error;
  }
}

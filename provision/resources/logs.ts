import {
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  PutRetentionPolicyCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import type { Ensured, Removed, StackContext } from '../context.js';
import { stackTags } from '../names.js';
import { hasErrorCode } from '../retry.js';

export interface LogGroupSettings {
  readonly retentionDays: number;
}

export interface LogGroupInfo {
  readonly name: string;
  /** ARN without the trailing `:*`, the form IAM policies and ECS expect. */
  readonly arn: string;
  readonly retentionDays: number | undefined;
}

// CloudWatch Logs accepts only these retention values; anything else is
// rejected by AWS with a terse InvalidParameterException (moto accepts it).
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
  let nextToken: string | undefined;
  do {
    const page = await ctx.clients.logs.send(
      new DescribeLogGroupsCommand({
        logGroupNamePrefix: name,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    const found = (page.logGroups ?? []).find((g) => g.logGroupName === name);
    if (found) return toInfo(found);
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

function logGroupArnFor(ctx: StackContext, existingArn: string | undefined): string {
  return existingArn ?? `arn:aws:logs:${ctx.region}:*:log-group:${ctx.names.logGroup}`;
}

export function planLogGroup(
  current: LogGroupInfo | undefined,
  settings: LogGroupSettings,
): string[] {
  if (!current) return [`create log group with ${settings.retentionDays}-day retention`];
  if (current.retentionDays !== settings.retentionDays) {
    return [
      `set log group retention ${current.retentionDays ?? 'never expire'} -> ${settings.retentionDays} days`,
    ];
  }
  return [];
}

export async function ensureLogGroup(
  ctx: StackContext,
  settings: LogGroupSettings,
): Promise<Ensured<LogGroupInfo>> {
  validateRetentionDays(settings.retentionDays);
  const name = ctx.names.logGroup;
  const current = await describeLogGroup(ctx);

  if (!current) {
    const tags = Object.fromEntries(stackTags(ctx.names.stack).map((t) => [t.Key, t.Value]));
    try {
      await ctx.clients.logs.send(new CreateLogGroupCommand({ logGroupName: name, tags }));
    } catch (error) {
      // A concurrent or interrupted run may have created it between the
      // describe and the create; converge the retention below either way.
      if (!hasErrorCode(error, 'ResourceAlreadyExistsException')) throw error;
    }
    await ctx.clients.logs.send(
      new PutRetentionPolicyCommand({
        logGroupName: name,
        retentionInDays: settings.retentionDays,
      }),
    );
    const created = await describeLogGroup(ctx);
    return {
      outcome: 'created',
      changes: [`log group ${name}: created with ${settings.retentionDays}-day retention`],
      value: {
        name,
        arn: logGroupArnFor(ctx, created?.arn || undefined),
        retentionDays: settings.retentionDays,
      },
    };
  }

  const changes = planLogGroup(current, settings).map((c) => `log group ${name}: ${c}`);
  if (changes.length === 0) {
    return { outcome: 'unchanged', changes: [], value: current };
  }
  await ctx.clients.logs.send(
    new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: settings.retentionDays }),
  );
  return {
    outcome: 'updated',
    changes,
    value: { ...current, retentionDays: settings.retentionDays },
  };
}

export async function removeLogGroup(ctx: StackContext): Promise<Removed> {
  const name = ctx.names.logGroup;
  // Looking first keeps a repeated `down` free of mutating calls.
  if ((await describeLogGroup(ctx)) === undefined) return { removed: [] };
  try {
    await ctx.clients.logs.send(new DeleteLogGroupCommand({ logGroupName: name }));
    return { removed: [`log group ${name}`] };
  } catch (error) {
    if (hasErrorCode(error, 'ResourceNotFoundException')) return { removed: [] };
    throw error;
  }
}

/**
 * Hear when it breaks: three CloudWatch alarms on the target group (targets
 * failing their health check, no healthy target at all, and the share of
 * requests the tasks answer with 5xx), all notifying one SNS topic, and an
 * email subscription to it when the user gives an address.
 */
import {
  DeleteAlarmsCommand,
  PutMetricAlarmCommand,
  paginateDescribeAlarms,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  SubscribeCommand,
  paginateListSubscriptionsByTopic,
  paginateListTopics,
} from '@aws-sdk/client-sns';
import type { Converged, Removal, StackContext } from '../../context.js';
import { stackTags } from '../../names.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../../plan.js';
import { isNotFound } from '../../retry.js';
import {
  errorRateAlarm,
  metricDimensions,
  noHealthyTargetAlarm,
  unhealthyAlarm,
  type AlarmInput,
} from './definitions.js';

export {
  ERROR_RATE_MIN_REQUESTS,
  ERROR_RATE_THRESHOLD_PERCENT,
  metricDimensions,
} from './definitions.js';

export interface AlarmSettings {
  /** ARNs of the stack's load balancer and target group (may be NOT_CREATED_YET in a dry run). */
  readonly loadBalancerArn: string;
  readonly targetGroupArn: string;
  /** Subscribe this address to the topic; AWS mails it a confirmation link first. */
  readonly email?: string;
}

export interface EmailSubscription {
  readonly address: string;
  /** AWS lists an unconfirmed email subscription with this placeholder instead of an ARN. */
  readonly pendingConfirmation: boolean;
}

export interface AlarmsInfo {
  readonly topicArn: string | undefined;
  readonly emails: readonly EmailSubscription[];
  readonly alarms: readonly MetricAlarm[];
}

export interface AlarmsRef {
  readonly topicArn: string;
  readonly alarmNames: readonly string[];
  /**
   * True when this run subscribed an address: AWS has mailed it a link and
   * sends nothing until it is clicked (the CLI says so).
   */
  readonly confirmationMailSent: boolean;
  readonly email: EmailSubscription | undefined;
}

export function alarmNames(ctx: Pick<StackContext, 'names'>): {
  unhealthy: string;
  errorRate: string;
  noHealthy: string;
} {
  return {
    unhealthy: `${ctx.names.stack}-unhealthy-targets`,
    errorRate: `${ctx.names.stack}-target-5xx-rate`,
    noHealthy: `${ctx.names.stack}-no-healthy-targets`,
  };
}

export function topicName(ctx: Pick<StackContext, 'names'>): string {
  return `${ctx.names.stack}-alarms`;
}

const EMAIL_PATTERN = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function validateAlarmEmail(address: string): void {
  if (!EMAIL_PATTERN.test(address)) {
    throw new Error(
      `Invalid --alarm-email ${JSON.stringify(address)}: give one email address, e.g. --alarm-email ops@example.com.`,
    );
  }
}

function desiredAlarms(
  ctx: Pick<StackContext, 'names'>,
  settings: AlarmSettings,
  topicArn: string,
): { inputs: AlarmInput[]; dimensionsKnown: boolean } {
  const found = metricDimensions(settings.loadBalancerArn, settings.targetGroupArn);
  const dimensions = found ?? [];
  const names = alarmNames(ctx);
  const actions = { AlarmActions: [topicArn], OKActions: [topicArn] };
  return {
    inputs: [
      { ...unhealthyAlarm(names.unhealthy, dimensions), ...actions },
      { ...errorRateAlarm(names.errorRate, dimensions), ...actions },
      { ...noHealthyTargetAlarm(names.noHealthy, dimensions), ...actions },
    ],
    dimensionsKnown: found !== undefined,
  };
}

type AlarmShape = Pick<
  MetricAlarm,
  | 'Namespace'
  | 'MetricName'
  | 'Dimensions'
  | 'Statistic'
  | 'Period'
  | 'EvaluationPeriods'
  | 'DatapointsToAlarm'
  | 'Threshold'
  | 'ComparisonOperator'
  | 'TreatMissingData'
  | 'AlarmActions'
  | 'OKActions'
  | 'Metrics'
>;

const sortedDimensions = (dims: readonly { Name?: string; Value?: string }[] | undefined) =>
  [...(dims ?? [])]
    .map((d) => `${d.Name ?? ''}=${d.Value ?? ''}`)
    .sort()
    .join(',');

/** The settings this tool owns, as short strings, so AWS's defaults and ordering do not read as drift. */
function alarmSettings(alarm: AlarmShape, withMetrics: boolean): Record<string, string> {
  const metrics = (alarm.Metrics ?? []).map((m) =>
    [
      m.Id,
      m.Expression ?? '',
      m.MetricStat?.Metric?.MetricName ?? '',
      m.MetricStat?.Stat ?? '',
      m.MetricStat?.Period ?? '',
      withMetrics ? sortedDimensions(m.MetricStat?.Metric?.Dimensions) : '',
    ].join(' '),
  );
  const fields: Record<string, unknown> = {
    metric: [alarm.Namespace, alarm.MetricName, alarm.Statistic, alarm.Period].join(' ').trim(),
    'metric math': metrics.join('; '),
    threshold: `${alarm.ComparisonOperator ?? ''} ${alarm.Threshold ?? ''}`,
    'evaluation periods': `${alarm.DatapointsToAlarm ?? alarm.EvaluationPeriods} of ${alarm.EvaluationPeriods}`,
    'missing data': alarm.TreatMissingData ?? 'missing',
    'alarm actions': [...(alarm.AlarmActions ?? [])].sort().join(','),
    'OK actions': [...(alarm.OKActions ?? [])].sort().join(','),
  };
  if (withMetrics) fields.dimensions = sortedDimensions(alarm.Dimensions);
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)]));
}

function alarmDrift(current: MetricAlarm, desired: AlarmInput, dimensionsKnown: boolean): Change[] {
  const changes = new ChangeSet();
  const found = alarmSettings(current, dimensionsKnown);
  const wanted = alarmSettings(desired, dimensionsKnown);
  for (const key of Object.keys(wanted)) {
    // An ARN of a topic still to be created cannot be compared yet.
    if (key.endsWith('actions') && wanted[key]?.includes(NOT_CREATED_YET)) continue;
    if (found[key] !== wanted[key]) {
      changes.update('alarm', desired.AlarmName, key, found[key] || 'none', wanted[key] || 'none');
    }
  }
  return [...changes.list];
}

/** Read-only: the topic, its email subscriptions and the stack's alarms. */
export async function describeAlarms(ctx: StackContext): Promise<AlarmsInfo> {
  const suffix = `:${topicName(ctx)}`;
  let topicArn: string | undefined;
  for await (const page of paginateListTopics({ client: ctx.clients.sns }, {})) {
    topicArn ??= page.Topics?.find((t) => t.TopicArn?.endsWith(suffix))?.TopicArn;
  }
  const emails: EmailSubscription[] = [];
  if (topicArn !== undefined) {
    for await (const page of paginateListSubscriptionsByTopic(
      { client: ctx.clients.sns },
      { TopicArn: topicArn },
    )) {
      for (const s of page.Subscriptions ?? []) {
        if (s.Protocol !== 'email' || s.Endpoint === undefined) continue;
        emails.push({
          address: s.Endpoint,
          pendingConfirmation: s.SubscriptionArn === 'PendingConfirmation',
        });
      }
    }
  }
  const names = Object.values(alarmNames(ctx));
  const alarms: MetricAlarm[] = [];
  for await (const page of paginateDescribeAlarms(
    { client: ctx.clients.cloudwatch },
    { AlarmNames: names, AlarmTypes: ['MetricAlarm'] },
  )) {
    alarms.push(...(page.MetricAlarms ?? []).filter((a) => names.includes(a.AlarmName ?? '')));
  }
  return { topicArn, emails, alarms };
}

const sameAddress = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Pure: what ensureAlarms would change, in order. Other subscriptions are left alone. */
export function planAlarms(
  ctx: Pick<StackContext, 'names'>,
  current: AlarmsInfo,
  settings: AlarmSettings,
): Change[] {
  const changes = new ChangeSet();
  if (current.topicArn === undefined) changes.create('SNS topic', topicName(ctx));
  if (settings.email !== undefined) {
    const email = settings.email;
    if (!current.emails.some((e) => sameAddress(e.address, email))) {
      changes.create('email subscription', email, 'AWS mails a confirmation link');
    }
  }
  const { inputs, dimensionsKnown } = desiredAlarms(
    ctx,
    settings,
    current.topicArn ?? NOT_CREATED_YET,
  );
  for (const desired of inputs) {
    const existing = current.alarms.find((a) => a.AlarmName === desired.AlarmName);
    if (existing === undefined) {
      changes.create('alarm', desired.AlarmName, desired.AlarmDescription);
    } else {
      changes.add(...alarmDrift(existing, desired, dimensionsKnown));
    }
  }
  return [...changes.list];
}

export async function ensureAlarms(
  ctx: StackContext,
  settings: AlarmSettings,
): Promise<Converged<AlarmsRef>> {
  if (settings.email !== undefined) validateAlarmEmail(settings.email);
  const current = await describeAlarms(ctx);
  const changes = planAlarms(ctx, current, settings);
  const subscribing = changes.some((c) => c.kind === 'email subscription');
  const existingEmail = current.emails.find(
    (e) => settings.email !== undefined && sameAddress(e.address, settings.email),
  );
  const names = Object.values(alarmNames(ctx));
  const valueWith = (topicArn: string): AlarmsRef => ({
    topicArn,
    alarmNames: names,
    confirmationMailSent: subscribing,
    email: subscribing
      ? { address: settings.email ?? '', pendingConfirmation: true }
      : existingEmail,
  });
  if (ctx.dryRun || changes.length === 0) {
    return { changes, value: valueWith(current.topicArn ?? NOT_CREATED_YET) };
  }

  let topicArn = current.topicArn;
  if (topicArn === undefined) {
    // CreateTopic is idempotent for the same name and attributes
    // (https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html).
    const created = await ctx.clients.sns.send(
      new CreateTopicCommand({ Name: topicName(ctx), Tags: stackTags(ctx.names.stack) }),
    );
    if (created.TopicArn === undefined) {
      throw new Error(`CreateTopic ${topicName(ctx)} returned no ARN; run the command again.`);
    }
    topicArn = created.TopicArn;
  }
  if (subscribing) {
    await ctx.clients.sns.send(
      new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint: settings.email }),
    );
  }
  const { inputs } = desiredAlarms(ctx, settings, topicArn);
  for (const input of inputs) {
    if (!changes.some((c) => c.kind === 'alarm' && c.name === input.AlarmName)) continue;
    await ctx.clients.cloudwatch.send(
      new PutMetricAlarmCommand({ ...input, Tags: stackTags(ctx.names.stack) }),
    );
  }
  return { changes, value: valueWith(topicArn) };
}

/** Alarms first (they notify the topic), then the topic, which takes its subscriptions with it. */
export async function removeAlarms(ctx: StackContext): Promise<Removal> {
  const current = await describeAlarms(ctx);
  const changes = new ChangeSet();
  const alarmNamesFound = current.alarms.map((a) => a.AlarmName ?? '');
  for (const name of alarmNamesFound) changes.delete('alarm', name);
  if (current.topicArn !== undefined) {
    const subscriptions = current.emails.length;
    changes.delete(
      'SNS topic',
      topicName(ctx),
      subscriptions > 0 ? `with its ${subscriptions} email subscription(s)` : undefined,
    );
  }
  if (ctx.dryRun) return { changes: changes.list };

  const ignoreGone = (error: unknown): void => {
    if (!isNotFound(error)) throw error;
  };
  if (alarmNamesFound.length > 0) {
    await ctx.clients.cloudwatch
      .send(new DeleteAlarmsCommand({ AlarmNames: alarmNamesFound }))
      .catch(ignoreGone);
  }
  if (current.topicArn !== undefined) {
    // DeleteTopic also deletes its subscriptions (https://docs.aws.amazon.com/sns/latest/api/API_DeleteTopic.html).
    await ctx.clients.sns
      .send(new DeleteTopicCommand({ TopicArn: current.topicArn }))
      .catch(ignoreGone);
  }
  return { changes: changes.list };
}

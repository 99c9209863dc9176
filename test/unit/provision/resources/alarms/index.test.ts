import {
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  SubscribeCommand,
  type Subscription,
} from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  ensureAlarms,
  metricDimensions,
  removeAlarms,
  type AlarmSettings,
} from '../../../../../provision/resources/alarms/index.js';
import { callInputs, mutatingOperations, testContext } from '../../../support/context.js';

const LB_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/iclinic-alb/50dc6c495c0c9188';
const TG_ARN =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/iclinic-tg/73e2d6bc24d8a067';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:iclinic-alarms';
const SETTINGS: AlarmSettings = { loadBalancerArn: LB_ARN, targetGroupArn: TG_ARN };

function accountWith(options: {
  topic?: boolean;
  subscriptions?: Subscription[];
  alarms?: MetricAlarm[];
}) {
  const { ctx, mocks } = testContext();
  mocks.sns.on(ListTopicsCommand).resolves({
    Topics: [
      { TopicArn: 'arn:aws:sns:us-east-1:123456789012:iclinic-alarms-old' },
      ...(options.topic ? [{ TopicArn: TOPIC_ARN }] : []),
    ],
  });
  mocks.sns
    .on(ListSubscriptionsByTopicCommand)
    .resolves({ Subscriptions: options.subscriptions ?? [] });
  mocks.sns.on(CreateTopicCommand).resolves({ TopicArn: TOPIC_ARN });
  mocks.sns.on(SubscribeCommand).resolves({ SubscriptionArn: 'pending confirmation' });
  mocks.sns.on(DeleteTopicCommand).resolves({});
  mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: options.alarms ?? [] });
  mocks.cloudwatch.on(PutMetricAlarmCommand).resolves({});
  mocks.cloudwatch.on(DeleteAlarmsCommand).resolves({});
  return { ctx, mocks };
}

/** The alarms as AWS lists them after a first run put them. */
async function alarmsAsCreated(): Promise<MetricAlarm[]> {
  const { ctx, mocks } = accountWith({});
  await ensureAlarms(ctx, SETTINGS);
  return mocks.cloudwatch.commandCalls(PutMetricAlarmCommand).map((call) => {
    const { Tags: _tags, ...alarm } = call.args[0].input;
    return {
      ...alarm,
      AlarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarm.AlarmName}`,
    };
  });
}

describe('metricDimensions', () => {
  it('takes the ends of the load balancer and target group ARNs', () => {
    expect(metricDimensions(LB_ARN, TG_ARN)).toEqual([
      { Name: 'LoadBalancer', Value: 'app/iclinic-alb/50dc6c495c0c9188' },
      { Name: 'TargetGroup', Value: 'targetgroup/iclinic-tg/73e2d6bc24d8a067' },
    ]);
  });
});

describe('ensureAlarms', () => {
  it('creates the topic, the subscription and the three alarms on an empty account', async () => {
    const { ctx, mocks } = accountWith({});
    const result = await ensureAlarms(ctx, { ...SETTINGS, email: 'ops@example.com' });

    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create SNS topic iclinic-alarms',
      'create email subscription ops@example.com',
      'create alarm iclinic-unhealthy-targets',
      'create alarm iclinic-target-5xx-rate',
      'create alarm iclinic-no-healthy-targets',
    ]);
    expect(result.value).toEqual({
      topicArn: TOPIC_ARN,
      alarmNames: [
        'iclinic-unhealthy-targets',
        'iclinic-target-5xx-rate',
        'iclinic-no-healthy-targets',
      ],
      confirmationMailSent: true,
      email: { address: 'ops@example.com', pendingConfirmation: true },
    });
    expect(mutatingOperations(mocks.sns)).toEqual(['CreateTopic', 'Subscribe']);
    expect(mocks.sns.commandCalls(SubscribeCommand)[0]?.args[0].input).toEqual({
      TopicArn: TOPIC_ARN,
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    const [unhealthy, errorRate] = mocks.cloudwatch
      .commandCalls(PutMetricAlarmCommand)
      .map((c) => c.args[0].input);
    expect(unhealthy).toMatchObject({
      MetricName: 'UnHealthyHostCount',
      Namespace: 'AWS/ApplicationELB',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [TOPIC_ARN],
      OKActions: [TOPIC_ARN],
    });
    expect(errorRate?.Metrics?.find((m) => m.Id === 'rate')?.Expression).toBe(
      'IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)',
    );
  });

  it('creates an alarm that fires when no target is healthy, counting no data as breaching', async () => {
    const { ctx, mocks } = accountWith({});
    const result = await ensureAlarms(ctx, SETTINGS);

    expect(result.value.alarmNames).toContain('iclinic-no-healthy-targets');
    const noHealthy = mocks.cloudwatch
      .commandCalls(PutMetricAlarmCommand)
      .map((c) => c.args[0].input)
      .find((a) => a.AlarmName === 'iclinic-no-healthy-targets');
    expect(noHealthy).toMatchObject({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HealthyHostCount',
      Dimensions: metricDimensions(LB_ARN, TG_ARN),
      Statistic: 'Minimum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [TOPIC_ARN],
      OKActions: [TOPIC_ARN],
    });
  });

  it('makes no mutating call when topic, subscription and alarms match', async () => {
    const alarms = await alarmsAsCreated();
    const { ctx, mocks } = accountWith({
      topic: true,
      alarms,
      subscriptions: [
        { Protocol: 'email', Endpoint: 'Ops@Example.com', SubscriptionArn: 'PendingConfirmation' },
      ],
    });
    const result = await ensureAlarms(ctx, { ...SETTINGS, email: 'ops@example.com' });

    expect(result.changes).toEqual([]);
    expect(result.value.confirmationMailSent).toBe(false);
    expect(result.value.email).toEqual({ address: 'Ops@Example.com', pendingConfirmation: true });
    expect([...mutatingOperations(mocks.sns), ...mutatingOperations(mocks.cloudwatch)]).toEqual([]);
  });

  it('puts back a deleted alarm and nothing else', async () => {
    const alarms = (await alarmsAsCreated()).filter(
      (a) => a.AlarmName !== 'iclinic-target-5xx-rate',
    );
    const { ctx, mocks } = accountWith({ topic: true, alarms });
    const result = await ensureAlarms(ctx, SETTINGS);

    expect(result.changes.map((c) => `${c.action} ${c.name}`)).toEqual([
      'create iclinic-target-5xx-rate',
    ]);
    expect(callInputs(mocks.cloudwatch).filter((c) => c.operation === 'PutMetricAlarm')).toEqual([
      expect.objectContaining({
        input: expect.objectContaining({ AlarmName: 'iclinic-target-5xx-rate' }),
      }),
    ]);
    expect(mutatingOperations(mocks.sns)).toEqual([]);
  });

  it('puts back a threshold changed behind its back', async () => {
    const alarms = (await alarmsAsCreated()).map((a) =>
      a.AlarmName === 'iclinic-target-5xx-rate' ? { ...a, Threshold: 50 } : a,
    );
    const { ctx, mocks } = accountWith({ topic: true, alarms });
    const result = await ensureAlarms(ctx, SETTINGS);

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'alarm',
        name: 'iclinic-target-5xx-rate',
        detail: 'threshold',
        from: 'GreaterThanThreshold 50',
        to: 'GreaterThanThreshold 5',
      },
    ]);
    expect(mutatingOperations(mocks.cloudwatch)).toEqual(['PutMetricAlarm']);
  });

  it('puts back the no-healthy-target alarm when missing data was set to not breaching', async () => {
    const alarms = (await alarmsAsCreated()).map((a) =>
      a.AlarmName === 'iclinic-no-healthy-targets' ? { ...a, TreatMissingData: 'notBreaching' } : a,
    );
    const { ctx, mocks } = accountWith({ topic: true, alarms });
    const result = await ensureAlarms(ctx, SETTINGS);

    expect(result.changes.map((c) => [c.name, c.detail, c.from, c.to])).toEqual([
      ['iclinic-no-healthy-targets', 'missing data', 'notBreaching', 'breaching'],
    ]);
    expect(mutatingOperations(mocks.cloudwatch)).toEqual(['PutMetricAlarm']);
  });

  it('plans everything without a mutating call in a dry run', async () => {
    const { ctx, mocks } = accountWith({});
    const result = await ensureAlarms(
      { ...ctx, dryRun: true },
      { loadBalancerArn: NOT_CREATED_YET, targetGroupArn: NOT_CREATED_YET, email: 'a@b.io' },
    );

    expect(result.changes).toHaveLength(5);
    expect(result.value.topicArn).toBe(NOT_CREATED_YET);
    expect([...mutatingOperations(mocks.sns), ...mutatingOperations(mocks.cloudwatch)]).toEqual([]);
  });

  it('rejects an address that is not one email address, naming it', async () => {
    const { ctx } = accountWith({});
    await expect(ensureAlarms(ctx, { ...SETTINGS, email: 'ops at example' })).rejects.toThrow(
      'Invalid --alarm-email "ops at example": give one email address, e.g. --alarm-email ops@example.com.',
    );
  });
});

describe('removeAlarms', () => {
  it('deletes the alarms, then the topic with its subscriptions', async () => {
    const alarms = await alarmsAsCreated();
    const { ctx, mocks } = accountWith({
      topic: true,
      alarms,
      subscriptions: [{ Protocol: 'email', Endpoint: 'a@b.io', SubscriptionArn: 'arn:sub' }],
    });
    const result = await removeAlarms(ctx);

    expect(result.changes).toEqual([
      { action: 'delete', kind: 'alarm', name: 'iclinic-unhealthy-targets' },
      { action: 'delete', kind: 'alarm', name: 'iclinic-target-5xx-rate' },
      { action: 'delete', kind: 'alarm', name: 'iclinic-no-healthy-targets' },
      {
        action: 'delete',
        kind: 'SNS topic',
        name: 'iclinic-alarms',
        detail: 'with its 1 email subscription(s)',
      },
    ]);
    expect(mocks.cloudwatch.commandCalls(DeleteAlarmsCommand)[0]?.args[0].input.AlarmNames).toEqual(
      ['iclinic-unhealthy-targets', 'iclinic-target-5xx-rate', 'iclinic-no-healthy-targets'],
    );
    expect(mutatingOperations(mocks.sns)).toEqual(['DeleteTopic']);
  });

  it('makes no mutating call when nothing exists', async () => {
    const { ctx, mocks } = accountWith({});
    expect((await removeAlarms(ctx)).changes).toEqual([]);
    expect([...mutatingOperations(mocks.sns), ...mutatingOperations(mocks.cloudwatch)]).toEqual([]);
  });

  it('lists the deletions without making them in a dry run', async () => {
    const { ctx, mocks } = accountWith({ topic: true, alarms: await alarmsAsCreated() });
    expect((await removeAlarms({ ...ctx, dryRun: true })).changes).toHaveLength(4);
    expect([...mutatingOperations(mocks.sns), ...mutatingOperations(mocks.cloudwatch)]).toEqual([]);
  });
});

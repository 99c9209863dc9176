import {
  DeleteScalingPolicyCommand,
  DescribeScalableTargetsCommand,
  DescribeScalingPoliciesCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { DeleteAlarmsCommand, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type InputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { ListSubscriptionsByTopicCommand, ListTopicsCommand } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { aws, endpoint, PREBUILT_IMAGE } from '../support/e2e.js';
import { requestLogLine } from '../../server/app.js';
import { spawn } from 'node:child_process';
import { CLI, cliEnv, runCli, type CliResult } from '../support/cli.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

const IMAGE_A = PREBUILT_IMAGE;
const IMAGE_B = '123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/api:v2';
// --plain-http: scaling, alarms, logs and rollback do not depend on what is in
// front of the load balancer, and the CloudFront shape (https.test.ts) adds
// a distribution to every up and down here for nothing.
const UP = ['up', '--platform', 'linux/amd64', '--plain-http', '--no-verify'];
const RESOURCE_ID = 'service/iclinic/iclinic-api';
const SCALING = { ServiceNamespace: 'ecs' as const, ResourceIds: [RESOURCE_ID] };
const ALARMS = [
  'iclinic-no-healthy-targets',
  'iclinic-target-5xx-rate',
  'iclinic-unhealthy-targets',
];
/**
 * What leftovers() lists of the scaler and the alarms after an up with
 * --alarm-email, sorted, the random suffix of the policies' own alarms
 * (PutScalingPolicy creates an AlarmHigh and an AlarmLow per policy, in
 * AWS and in moto) replaced by <id>.
 */
const TRACKING_ALARM = `alarm TargetTracking-${RESOURCE_ID}`;
const OPERATE_RESOURCES = [
  'SNS topic arn:aws:sns:us-east-1:123456789012:iclinic-alarms',
  `${TRACKING_ALARM}-AlarmHigh-<id>`,
  `${TRACKING_ALARM}-AlarmHigh-<id>`,
  `${TRACKING_ALARM}-AlarmLow-<id>`,
  `${TRACKING_ALARM}-AlarmLow-<id>`,
  'alarm iclinic-no-healthy-targets',
  'alarm iclinic-target-5xx-rate',
  'alarm iclinic-unhealthy-targets',
  `scalable target ${RESOURCE_ID}`,
  'scaling policy iclinic-cpu',
  'scaling policy iclinic-requests-per-task',
];
const TASK_ID = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const STREAM = `api/api/${TASK_ID}`;

interface JsonRecord {
  ok: boolean;
  steps: { key: string; status: string; changes?: { action: string; kind: string }[] }[];
  awsCalls: { total: number; mutating: number; byOperation: Record<string, number> };
  result?: Record<string, unknown>;
  error?: { name?: string; message: string };
}

function parse(result: CliResult): JsonRecord {
  try {
    return JSON.parse(result.stdout) as JsonRecord;
  } catch {
    throw new Error(
      `CLI printed no JSON (exit ${result.code}).\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
}

/** Runs a command that must succeed and returns its JSON record. */
async function runJson(args: string[]): Promise<JsonRecord> {
  const result = await runCli([...args, '--json'], { endpoint });
  const record = parse(result);
  expect(record.error?.message, result.stderr).toBeUndefined();
  expect(result.code).toBe(0);
  return record;
}

const up = (extra: string[] = [], image = IMAGE_A) => runJson([...UP, '--image', image, ...extra]);

async function runText(args: string[]): Promise<CliResult> {
  const result = await runCli(args, { endpoint });
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

const mutating = (record: JsonRecord) =>
  [record.awsCalls.mutating, JSON.stringify(record.awsCalls.byOperation)] as const;

async function scalableTarget() {
  const out = await aws.autoscaling.send(new DescribeScalableTargetsCommand(SCALING));
  expect(out.ScalableTargets).toHaveLength(1);
  return out.ScalableTargets?.[0];
}

async function scalingPolicies() {
  const out = await aws.autoscaling.send(
    new DescribeScalingPoliciesCommand({ ServiceNamespace: 'ecs', ResourceId: RESOURCE_ID }),
  );
  return (out.ScalingPolicies ?? [])
    .map((p) => ({
      name: p.PolicyName,
      type: p.PolicyType,
      metric:
        p.TargetTrackingScalingPolicyConfiguration?.PredefinedMetricSpecification
          ?.PredefinedMetricType,
      target: p.TargetTrackingScalingPolicyConfiguration?.TargetValue,
    }))
    .sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
}

async function stackAlarms(): Promise<string[]> {
  const out = await aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'iclinic-' }));
  return (out.MetricAlarms ?? []).map((a) => a.AlarmName ?? '').sort();
}

async function alarmTopicArn(): Promise<string | undefined> {
  const out = await aws.sns.send(new ListTopicsCommand({}));
  return out.Topics?.map((t) => t.TopicArn).find((arn) => arn?.endsWith(':iclinic-alarms'));
}

async function runningTaskDefinition() {
  const services = await aws.ecs.send(
    new DescribeServicesCommand({ cluster: 'iclinic', services: ['iclinic-api'] }),
  );
  const arn = services.services?.[0]?.taskDefinition;
  const out = await aws.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
  const container = out.taskDefinition?.containerDefinitions?.find((c) => c.name === 'api');
  return {
    arn,
    revision: out.taskDefinition?.revision,
    image: container?.image,
    secrets: container?.secrets,
  };
}

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('autoscaling and alarms', () => {
  it('up registers a 2-to-6 scalable target with request and CPU target tracking', async () => {
    await up();
    expect(await scalableTarget()).toMatchObject({ MinCapacity: 2, MaxCapacity: 6 });
    expect(await scalingPolicies()).toEqual([
      {
        name: 'iclinic-cpu',
        type: 'TargetTrackingScaling',
        metric: 'ECSServiceAverageCPUUtilization',
        target: 60,
      },
      {
        name: 'iclinic-requests-per-task',
        type: 'TargetTrackingScaling',
        metric: 'ALBRequestCountPerTarget',
        target: 3000,
      },
    ]);
  });

  it('up creates the three alarms on the SNS topic', async () => {
    await up();
    const topic = await alarmTopicArn();
    expect(topic).toBeDefined();
    const out = await aws.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ALARMS }));
    expect(out.MetricAlarms?.map((a) => [a.AlarmName, a.AlarmActions]).sort()).toEqual([
      ['iclinic-no-healthy-targets', [topic]],
      ['iclinic-target-5xx-rate', [topic]],
      ['iclinic-unhealthy-targets', [topic]],
    ]);
  });

  it('--alarm-email subscribes the address by email and says AWS mailed a confirmation link', async () => {
    const result = await runText([...UP, '--image', IMAGE_A, '--alarm-email', 'ops@example.com']);
    expect(result.stdout).toContain(
      'AWS has mailed a confirmation link to ops@example.com: no alarm email arrives until it is clicked',
    );
    const subscriptions = await aws.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: await alarmTopicArn() }),
    );
    expect(subscriptions.Subscriptions?.map((s) => [s.Protocol, s.Endpoint])).toEqual([
      ['email', 'ops@example.com'],
    ]);
    // AWS lists an unconfirmed email subscription with SubscriptionArn
    // "PendingConfirmation"; moto (5.2.5, sns/models.py subscribe) confirms
    // every subscription at once and gives it a real ARN, so the pending
    // state is covered by test/unit/provision/resources/alarms.test.ts only.
    expect(subscriptions.Subscriptions?.[0]?.SubscriptionArn).toMatch(/^arn:aws:sns:/);
  });

  it('--desired-count 3 fixes the scalable target at 3 to 3 and creates the service with 3', async () => {
    // The suite's moto reports 2 running tasks for every service
    // (MOTO_ECS_SERVICE_RUNNING=2, global-setup.ts), so a 3-task rollout
    // never completes there: stop right after the scaler is registered.
    const result = await runCli([...UP, '--image', IMAGE_A, '--desired-count', '3'], {
      endpoint,
      env: { ICLINIC_DEPLOY_FAIL_AFTER: 'autoscaling' },
    });
    expect(result.stdout + result.stderr).toContain('Injected failure after step "autoscaling"');
    expect(await scalableTarget()).toMatchObject({ MinCapacity: 3, MaxCapacity: 3 });
    const services = await aws.ecs.send(
      new DescribeServicesCommand({ cluster: 'iclinic', services: ['iclinic-api'] }),
    );
    expect(services.services?.[0]?.desiredCount).toBe(3);
  });

  it('--desired-count with --min-tasks is a usage error that makes no AWS call', async () => {
    const result = await runCli(
      [...UP, '--image', IMAGE_A, '--desired-count', '3', '--min-tasks', '2', '--json'],
      { endpoint },
    );
    expect(result.code).toBe(2);
    const record = parse(result);
    expect(record.error?.message).toMatch(/--desired-count 3 fixes the size/);
    expect(record.awsCalls.total, JSON.stringify(record.awsCalls.byOperation)).toBe(0);
  });

  it('up puts back a deleted scaling policy and a deleted alarm', async () => {
    await up();
    const before = await scalingPolicies();
    await aws.autoscaling.send(
      new DeleteScalingPolicyCommand({
        ServiceNamespace: 'ecs',
        ResourceId: RESOURCE_ID,
        ScalableDimension: 'ecs:service:DesiredCount',
        PolicyName: 'iclinic-cpu',
      }),
    );
    await aws.cloudwatch.send(
      new DeleteAlarmsCommand({ AlarmNames: ['iclinic-unhealthy-targets'] }),
    );
    expect((await scalingPolicies()).map((p) => p.name)).toEqual(['iclinic-requests-per-task']);
    expect(await stackAlarms()).toEqual(['iclinic-no-healthy-targets', 'iclinic-target-5xx-rate']);
    await up();
    expect(await scalingPolicies()).toEqual(before);
    expect(await stackAlarms()).toEqual(ALARMS);
  });

  it('up brings a desired count set to 0 by hand back to the minimum', async () => {
    await up();
    await aws.ecs.send(
      new UpdateServiceCommand({ cluster: 'iclinic', service: 'iclinic-api', desiredCount: 0 }),
    );
    const record = await up();
    const service = await aws.ecs.send(
      new DescribeServicesCommand({ cluster: 'iclinic', services: ['iclinic-api'] }),
    );
    expect(service.services?.[0]?.desiredCount).toBe(2);
    // The one change: the count, not a new deployment or anything else.
    expect(...mutating(record)).toBe(1);
    expect(record.awsCalls.byOperation['ecs:UpdateService']).toBe(1);
  });

  it('a second up after a converged one makes no mutating call', async () => {
    await up(['--alarm-email', 'ops@example.com']);
    const second = await up(['--alarm-email', 'ops@example.com']);
    expect(...mutating(second)).toBe(0);
  });

  it('down removes the scalable target, its policies, the alarms and the topic', async () => {
    await up(['--alarm-email', 'ops@example.com']);
    const operated = (await leftovers(aws, 'iclinic'))
      .filter((l) => /scal|alarm|SNS/.test(l))
      .map((l) => l.replace(/-[0-9a-f-]{36}$/, '-<id>'));
    expect(operated.sort()).toEqual(OPERATE_RESOURCES);
    await runJson(['down', '--yes']);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it('status shows the task range, the policies, the alarms and the revisions', async () => {
    await up();
    await up([], IMAGE_B);
    const { stdout } = await runText(['status']);
    const lines = stdout.split('\n');
    expect(lines).toContain('Scaling:  2 to 6 tasks (current: 2 desired)');
    expect(lines).toContain(
      '          iclinic-requests-per-task: requests per task per minute at 3000',
    );
    expect(lines).toContain('          iclinic-cpu: average CPU % at 60');
    for (const alarm of ALARMS) expect(stdout).toMatch(new RegExp(`^Alarm: +${alarm} \\S+$`, 'm'));
    expect(stdout).toMatch(/^ +2 {2}\S+ {2}\S+prebuilt\/api:v2 {2}\(running\)$/m);
    expect(stdout).toMatch(/^ +1 {2}\S+ {2}\S+prebuilt\/api:v1$/m);
  });
});

describe('logs', () => {
  const now = Date.now();
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();
  // The server's own access-log line (server/app.ts), as the awslogs driver ships it.
  const request = (secondsAgo: number, method: string, path: string, status: number) =>
    requestLogLine(at(secondsAgo), method, path, status, 1.25, `req-${secondsAgo}`);
  const events: InputLogEvent[] = [
    { timestamp: now - 300_000, message: request(300, 'GET', '/', 200) },
    { timestamp: now - 200_000, message: request(200, 'GET', '/healthz', 200) },
    { timestamp: now - 100_000, message: 'proxy said Authorization: Token abc' },
    { timestamp: now - 50_000, message: request(50, 'GET', '/', 401) },
  ];

  async function deployWithLogs(): Promise<void> {
    await up();
    await aws.logs.send(
      new CreateLogStreamCommand({ logGroupName: '/ecs/iclinic/api', logStreamName: STREAM }),
    );
    await aws.logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/iclinic/api',
        logStreamName: STREAM,
        logEvents: events,
      }),
    );
  }

  it('--since 1h prints the request lines readably and never the token', async () => {
    await deployWithLogs();
    const { stdout } = await runText(['logs', '--since', '1h']);
    expect(stdout.split('\n').filter((l) => l !== '')).toEqual([
      `${at(300)} 0f1e2d3c 200 GET / 1.25 ms`,
      `${at(200)} 0f1e2d3c 200 GET /healthz 1.25 ms`,
      `${at(100)} 0f1e2d3c proxy said Authorization: [redacted]`,
      `${at(50)} 0f1e2d3c 401 GET / 1.25 ms`,
    ]);
    expect(stdout).not.toContain('abc');
  });

  it('--follow ends with exit 0 on Ctrl-C, also when it comes twice as under npx', async () => {
    await deployWithLogs();
    const child = spawn(process.execPath, [CLI, 'logs', '--follow'], {
      env: cliEnv(['logs'], { endpoint }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await new Promise<void>((resolve) => {
      const started = () => stderr.includes('Ctrl-C stops.') && resolve();
      child.stderr.on('data', started);
    });
    // The terminal's Ctrl-C, then the copy npm forwards to its child.
    child.kill('SIGINT');
    child.kill('SIGINT');
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('close', (c, s) => resolve([c, s])),
    );
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
  });

  it('--json prints one JSON record per line', async () => {
    await deployWithLogs();
    const { stdout } = await runText(['logs', '--since', '1h', '--json']);
    const records = stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toHaveLength(4);
    expect(records[0]).toEqual({
      kind: 'request',
      time: at(300),
      task: TASK_ID,
      status: 200,
      method: 'GET',
      path: '/',
      durationMs: 1.25,
      requestId: 'req-300',
    });
    expect(records[2]).toMatchObject({
      kind: 'text',
      text: 'proxy said Authorization: [redacted]',
    });
    expect(stdout).not.toContain('Token abc');
  });

  it('--filter prints only the matching lines', async () => {
    await deployWithLogs();
    const { stdout } = await runText(['logs', '--since', '1h', '--filter', '/healthz']);
    expect(stdout.split('\n').filter((l) => l !== '')).toEqual([
      `${at(200)} 0f1e2d3c 200 GET /healthz 1.25 ms`,
    ]);
  });
});

describe('rollback', () => {
  it('redeploys the earlier image with the current secret version', async () => {
    await up();
    const first = await runningTaskDefinition();
    await up([], IMAGE_B);
    // A new token pins a new secret version in a new revision of image B.
    await runText(['set-token', 'Rollback_test_token_0123456789', '--no-verify']);
    const current = await runningTaskDefinition();
    expect(current.image).toBe(IMAGE_B);
    expect(current.secrets).not.toEqual(first.secrets);
    await runJson(['rollback', '--no-verify']);
    const rolledBack = await runningTaskDefinition();
    expect(rolledBack.revision).toBeGreaterThan(current.revision ?? 0);
    expect(rolledBack.image).toBe(IMAGE_A);
    expect(rolledBack.secrets).toEqual(current.secrets);
  });

  it('--dry-run makes no mutating call and names the change', async () => {
    await up();
    await up([], IMAGE_B);
    const before = await runningTaskDefinition();
    const result = await runCli(['rollback', '--dry-run'], { endpoint });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`image ${IMAGE_B} → ${IMAGE_A}`);
    const record = await runJson(['rollback', '--dry-run']);
    expect(...mutating(record)).toBe(0);
    expect(await runningTaskDefinition()).toEqual(before);
  });
});

import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { NOT_CREATED_YET, outcomeOf } from '../../../../../provision/plan.js';
import {
  buildTaskDefinitionInput,
  ensureTaskDefinition,
  removeTaskDefinitions,
} from '../../../../../provision/resources/ecs/index.js';
import { awsError, testContext, mutatingOperations } from '../../../support/context.js';
import { SECRET_ARN, taskSettings, TD_ARN, asDescribed, removedNames } from './fixtures.js';

describe('ensureTaskDefinition', () => {
  it('registers a hardened Fargate definition with secrets by ARN and no token in the environment', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .rejects(awsError('ClientException', 'Unable to describe task definition.'));
    mocks.ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: TD_ARN, revision: 1 } });

    const result = await ensureTaskDefinition(ctx, taskSettings);

    expect(outcomeOf(result.changes)).toBe('created');
    expect(result.value).toMatchObject({ taskDefinitionArn: TD_ARN, revision: 1 });
    const input = mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      family: 'iclinic-api',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' },
      executionRoleArn: taskSettings.executionRoleArn,
    });
    const container = input?.containerDefinitions?.[0];
    expect(container).toMatchObject({
      name: 'api',
      essential: true,
      readonlyRootFilesystem: true,
      user: '1000',
      portMappings: [{ containerPort: 8080 }],
      stopTimeout: 30,
      healthCheck: {
        command: ['CMD', 'node', 'dist/healthcheck.js'],
        interval: 10,
        timeout: 5,
        retries: 3,
        startPeriod: 10,
      },
      logConfiguration: {
        logDriver: 'awslogs',
        options: {
          'awslogs-group': '/ecs/iclinic/api',
          'awslogs-region': 'us-east-1',
          'awslogs-stream-prefix': 'api',
        },
      },
    });
    expect(container?.secrets?.map((s) => s.name)).toEqual([
      'ICLINIC_PASS',
      'ICLINIC_PASS_PREVIOUS',
      'ICLINIC_PASS_PREVIOUS_UNTIL',
    ]);
    expect(container?.secrets?.every((s) => s.valueFrom?.startsWith(SECRET_ARN))).toBe(true);
    expect(JSON.stringify(container?.environment ?? [])).not.toMatch(/ICLINIC_PASS/);
  });

  it('makes no Register call when the latest revision matches', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: asDescribed(buildTaskDefinitionInput(ctx, taskSettings)) });

    const result = await ensureTaskDefinition(ctx, taskSettings);

    expect(outcomeOf(result.changes)).toBe('unchanged');
    expect(result.value).toMatchObject({ taskDefinitionArn: TD_ARN, revision: 3 });
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('registers a new revision when the image changed', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: asDescribed(buildTaskDefinitionInput(ctx, taskSettings)) });
    mocks.ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: 'arn:new', revision: 4 } });

    const result = await ensureTaskDefinition(ctx, { ...taskSettings, image: 'repo:other' });

    expect(outcomeOf(result.changes)).toBe('updated');
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'task definition',
        name: 'iclinic-api',
        detail: 'image',
        from: taskSettings.image,
        to: 'repo:other',
      },
    ]);
  });

  it('rejects an invalid cpu/memory pair before any AWS call', async () => {
    const { ctx, mocks } = testContext();
    await expect(ensureTaskDefinition(ctx, { ...taskSettings, memory: 3000 })).rejects.toThrow(
      /Invalid Fargate memory/,
    );
    expect(mocks.ecs.calls()).toHaveLength(0);
  });
});

describe('removeTaskDefinitions', () => {
  it('deregisters every ACTIVE revision of this family only and tolerates a missing delete API', async () => {
    const { ctx, mocks, report } = testContext();
    mocks.ecs
      .on(ListTaskDefinitionsCommand, { status: 'ACTIVE' })
      .resolves({
        taskDefinitionArns: [
          'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:1',
          'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:2',
          'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api2:1',
        ],
      })
      .on(ListTaskDefinitionsCommand, { status: 'INACTIVE' })
      .resolves({ taskDefinitionArns: ['arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:1'] });
    mocks.ecs.on(DeregisterTaskDefinitionCommand).resolves({});
    mocks.ecs
      .on(DeleteTaskDefinitionsCommand)
      .rejects(awsError('UnknownOperationException', 'not here'));

    const result = await removeTaskDefinitions(ctx);

    expect(removedNames(result)).toHaveLength(2);
    expect(
      mocks.ecs
        .commandCalls(DeregisterTaskDefinitionCommand)
        .map((c) => c.args[0].input.taskDefinition),
    ).toEqual([
      'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:1',
      'arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:2',
    ]);
    expect(report.warnings.join()).toMatch(/inactive revisions/);
  });
});

describe('ensureTaskDefinition in a dry run', () => {
  it('plans a drifted setting as "key: old → new" and registers nothing', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: asDescribed(buildTaskDefinitionInput(ctx, taskSettings)) });

    const result = await ensureTaskDefinition(
      { ...ctx, dryRun: true },
      { ...taskSettings, memory: 1024 },
    );

    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'task definition',
        name: 'iclinic-api',
        detail: 'memory',
        from: '512',
        to: '1024',
      },
    ]);
    expect(result.value.taskDefinitionArn).toBe(NOT_CREATED_YET);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('plans a new revision when the execution role does not exist yet', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeTaskDefinitionCommand)
      .resolves({ taskDefinition: asDescribed(buildTaskDefinitionInput(ctx, taskSettings)) });

    const result = await ensureTaskDefinition(
      { ...ctx, dryRun: true },
      { ...taskSettings, executionRoleArn: NOT_CREATED_YET },
    );

    expect(result.changes).toEqual([
      {
        action: 'create',
        kind: 'task definition',
        name: 'iclinic-api',
        detail: 'new revision (execution role not created yet)',
      },
    ]);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });
});

describe('removeTaskDefinitions in a dry run', () => {
  it('returns the deregistrations it would make and deregisters nothing', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(ListTaskDefinitionsCommand, { status: 'ACTIVE' })
      .resolves({ taskDefinitionArns: ['arn:aws:ecs:us-east-1:1:task-definition/iclinic-api:1'] });

    const result = await removeTaskDefinitions({ ...ctx, dryRun: true });

    expect(result.changes).toEqual([
      { action: 'delete', kind: 'task definition', name: 'iclinic-api:1', detail: 'deregister' },
    ]);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });
});

// What a rollback registers (every setting of the earlier revision, the
// running revision's secret references) and how it refuses what it cannot do.
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import {
  listRevisions,
  rollback,
  rollbackInput,
  RollbackTargetError,
} from '../../../../provision/commands/rollback.js';
import { ROLLBACK_OF_TAG } from '../../../../provision/commands/rollback-target.js';
import { ecsTags, stackNames } from '../../../../provision/names.js';
import { awsError, mutatingOperations, testContext } from '../../support/context.js';

const FAMILY_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api';
const runningSecrets = [{ name: 'ICLINIC_PASS', valueFrom: 'arn:secret:token::running-version' }];

/** A revision with every field a registration takes set to something of its own. */
const earlier: TaskDefinition = {
  taskDefinitionArn: `${FAMILY_ARN}:3`,
  revision: 3,
  family: 'iclinic-api',
  status: 'ACTIVE',
  registeredAt: new Date('2026-01-01T00:00:00Z'),
  requiresAttributes: [{ name: 'ecs.capability.secrets.asm.environment-variables' }],
  compatibilities: ['EC2', 'FARGATE'],
  taskRoleArn: 'arn:aws:iam::123456789012:role/task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/iclinic-task-execution',
  networkMode: 'awsvpc',
  volumes: [{ name: 'scratch' }],
  placementConstraints: [{ type: 'memberOf', expression: 'attribute:x == y' }],
  requiresCompatibilities: ['FARGATE'],
  cpu: '256',
  memory: '512',
  pidMode: 'task',
  ipcMode: 'none',
  proxyConfiguration: { containerName: 'api', type: 'APPMESH' },
  inferenceAccelerators: [{ deviceName: 'device', deviceType: 'eia2.medium' }],
  ephemeralStorage: { sizeInGiB: 30 },
  runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' },
  containerDefinitions: [
    {
      name: 'api',
      image: 'repo/api:v1',
      secrets: [{ name: 'ICLINIC_PASS', valueFrom: 'arn:secret:token::old-version' }],
    },
    { name: 'sidecar', image: 'repo/sidecar:1' },
  ],
};

describe('rollbackInput', () => {
  it('copies every registration setting of the earlier revision, with the running secret references', () => {
    const running: TaskDefinition = {
      containerDefinitions: [
        { name: 'sidecar', image: 'repo/sidecar:1' },
        { name: 'api', image: 'repo/api:v2', secrets: runningSecrets },
      ],
    };
    const from = { definition: earlier, revision: 3, origin: 3 };
    expect(rollbackInput({ names: stackNames('iclinic', 'us-east-1') }, from, running)).toEqual({
      taskRoleArn: 'arn:aws:iam::123456789012:role/task',
      executionRoleArn: 'arn:aws:iam::123456789012:role/iclinic-task-execution',
      networkMode: 'awsvpc',
      volumes: [{ name: 'scratch' }],
      placementConstraints: [{ type: 'memberOf', expression: 'attribute:x == y' }],
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      pidMode: 'task',
      ipcMode: 'none',
      proxyConfiguration: { containerName: 'api', type: 'APPMESH' },
      inferenceAccelerators: [{ deviceName: 'device', deviceType: 'eia2.medium' }],
      ephemeralStorage: { sizeInGiB: 30 },
      runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'ARM64' },
      family: 'iclinic-api',
      containerDefinitions: [
        { name: 'api', image: 'repo/api:v1', secrets: runningSecrets },
        { name: 'sidecar', image: 'repo/sidecar:1' },
      ],
      tags: [...ecsTags('iclinic'), { key: ROLLBACK_OF_TAG, value: '3' }],
    });
  });

  it.each<[string, TaskDefinition]>([
    ['no containers', {}],
    ['no API container', { containerDefinitions: [{ name: 'sidecar', image: 'repo/sidecar:1' }] }],
  ])('gives the API container no secrets when the running revision has %s', (_, running) => {
    const from = { definition: earlier, revision: 3, origin: 3 };
    const input = rollbackInput({ names: stackNames('iclinic', 'us-east-1') }, from, running);
    expect(input.containerDefinitions?.[0]?.secrets).toEqual([]);
  });
});

/** A stack running `running` of these revisions. */
function stackWith(revisions: readonly TaskDefinition[], running: number) {
  const { ctx, mocks } = testContext();
  mocks.ecs.on(DescribeServicesCommand).resolves({
    services: [
      { serviceName: 'iclinic-api', status: 'ACTIVE', taskDefinition: `${FAMILY_ARN}:${running}` },
    ],
  });
  mocks.ecs
    .on(ListTaskDefinitionsCommand)
    .resolves({ taskDefinitionArns: revisions.map((r) => r.taskDefinitionArn ?? '') });
  mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
    taskDefinition: revisions.find(
      (r) =>
        r.taskDefinitionArn === input.taskDefinition ||
        `iclinic-api:${r.revision ?? 0}` === input.taskDefinition,
    ),
  }));
  return { ctx, mocks };
}

const revision = (n: number, image: string): TaskDefinition => ({
  taskDefinitionArn: `${FAMILY_ARN}:${n}`,
  revision: n,
  containerDefinitions: [{ name: 'api', image, secrets: runningSecrets }],
});

describe('rollback refuses', () => {
  it.each([0, -2, 1.5])('--to %s, naming the family', async (to) => {
    const { ctx, mocks } = stackWith([revision(3, 'v1'), revision(4, 'v2')], 4);
    const error = await rollback(ctx, { to }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackTargetError);
    expect((error as Error).message).toBe(
      `Invalid --to ${to}: give a revision number of iclinic-api (see "npx iclinic-deploy status").`,
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('a revision that does not exist, saying how to list them', async () => {
    const { ctx, mocks } = stackWith([revision(3, 'v1'), revision(4, 'v2')], 4);
    await expect(rollback(ctx, { to: 9 })).rejects.toThrow(
      'Revision 9 of iclinic-api does not exist (or was deregistered). Its revisions are 3, 4; pick one with "npx iclinic-deploy rollback --to N" ("npx iclinic-deploy status" shows the recent ones and their images).',
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('a running revision ECS does not describe, naming it as a RevisionNotFoundError', async () => {
    const { ctx, mocks } = stackWith([revision(3, 'v1')], 4);
    const error = await rollback(ctx).catch((e: unknown) => e);
    expect(error).toMatchObject({
      name: 'RevisionNotFoundError',
      message: `Task definition ${FAMILY_ARN}:4 was not found; run "npx iclinic-deploy status" to list revisions.`,
    });
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('a revision that does not exist in a family without active revisions, saying to deploy', async () => {
    // The service still runs revision 4, deregistered (INACTIVE revisions stay describable).
    const { ctx, mocks } = stackWith([revision(4, 'v2')], 4);
    mocks.ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [] });
    await expect(rollback(ctx, { to: 2 })).rejects.toThrow(
      new RollbackTargetError(
        'Revision 2 of iclinic-api does not exist (or was deregistered). It has no active revision; deploy with "npx iclinic-deploy up".',
      ),
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it.each([
    awsError(
      'AccessDeniedException',
      'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ecs:DescribeTaskDefinition',
    ),
    awsError('ClientException', 'a client error other than a missing revision'),
  ])('to reword any other failure to describe the --to revision ($name)', async (failure) => {
    const { ctx, mocks } = stackWith([revision(3, 'v1'), revision(4, 'v2')], 4);
    mocks.ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: 'iclinic-api:3' }, false)
      .rejects(failure);
    await expect(rollback(ctx, { to: 3 })).rejects.toBe(failure);
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('when every earlier revision has the running image and settings', async () => {
    const { ctx, mocks } = stackWith([revision(3, 'v2'), revision(4, 'v2')], 4);
    const error = await rollback(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackTargetError);
    expect((error as Error).message).toBe(
      'No revision of iclinic-api older than the running revision 4 has another image or settings; ' +
        'nothing older to roll back to. Deploy another image with "npx iclinic-deploy up", or pick a revision with "npx iclinic-deploy rollback --to N".',
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it.each([{ taskDefinition: {} }, {}])(
    'to go on when ECS registers the copy without an ARN (%o)',
    async (reply) => {
      const { ctx, mocks } = stackWith([revision(3, 'v1'), revision(4, 'v2')], 4);
      mocks.ecs.on(RegisterTaskDefinitionCommand).resolves(reply);
      await expect(rollback(ctx)).rejects.toThrow(
        'RegisterTaskDefinition for iclinic-api returned no ARN; run rollback again.',
      );
      expect(mutatingOperations(mocks.ecs)).toEqual(['RegisterTaskDefinition']);
    },
  );

  it('a service that names no task definition, as a RollbackTargetError', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [{ serviceName: 'iclinic-api', status: 'ACTIVE' }] });
    const error = await rollback(ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RollbackTargetError);
    expect((error as Error).name).toBe('RollbackTargetError');
    expect((error as Error).message).toBe(
      'Stack "iclinic" has no active service iclinic-api in us-east-1; run "npx iclinic-deploy up --region us-east-1" first.',
    );
  });
});

describe('rollback goes', () => {
  it('to revision 1 when asked, the first a family has', async () => {
    const { ctx, mocks } = stackWith([revision(1, 'v1'), revision(2, 'v2')], 2);
    mocks.ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: `${FAMILY_ARN}:3` } });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: {} });
    const result = await rollback(ctx, { to: 1 });
    expect(result).toMatchObject({ fromRevision: 1, newRevision: 3 });
  });

  it('to a revision without the API container, planning its image as none', async () => {
    const sidecarOnly: TaskDefinition = {
      taskDefinitionArn: `${FAMILY_ARN}:3`,
      revision: 3,
      containerDefinitions: [{ name: 'sidecar', image: 'repo/sidecar:1' }],
    };
    const { ctx } = stackWith([sidecarOnly, revision(4, 'v2')], 4);
    const result = await rollback({ ...ctx, dryRun: true }, { to: 3 });
    expect(result.changes.find((c) => c.detail === 'image')).toMatchObject({
      from: 'v2',
      to: 'none',
    });
  });

  it("to a revision that differs only in another container's secrets", async () => {
    const withSidecar = (n: number, sidecarSecret: string): TaskDefinition => ({
      ...revision(n, 'v2'),
      containerDefinitions: [
        ...(revision(n, 'v2').containerDefinitions ?? []),
        {
          name: 'sidecar',
          image: 'repo/sidecar:1',
          secrets: [{ name: 'SIDECAR_KEY', valueFrom: `arn:secret:sidecar::${sidecarSecret}` }],
        },
      ],
    });
    const { ctx } = stackWith([withSidecar(3, 'old'), withSidecar(4, 'new')], 4);
    const result = await rollback({ ...ctx, dryRun: true });
    expect(result.fromRevision).toBe(3);
  });

  it('back without an image change when only the settings differ', async () => {
    const bigger = { ...revision(3, 'v2'), cpu: '1024' };
    const { ctx } = stackWith([bigger, revision(4, 'v2')], 4);
    const result = await rollback({ ...ctx, dryRun: true });
    expect(result.changes.map((c) => c.detail)).toEqual([
      'copy of revision 3 with the running token',
      'task definition',
    ]);
  });

  it('back, never forward, by the revision numbers in the ARNs when DescribeTaskDefinition gives none', async () => {
    const bare = (n: number, image: string): TaskDefinition => {
      const { revision: _n, ...rest } = revision(n, image);
      return rest;
    };
    const { ctx, mocks } = stackWith([bare(3, 'v1'), bare(4, 'v2'), bare(5, 'v3')], 4);
    mocks.ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: `${FAMILY_ARN}:6` } });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: {} });
    const result = await rollback(ctx);
    const registered = mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(registered?.containerDefinitions?.[0]?.image).toBe('v1');
    expect(result.changes.at(-1)).toMatchObject({ from: 'iclinic-api:4' });
  });
});

describe('listRevisions', () => {
  it('asks ECS for the active revisions of the family, newest first, and sorts past 9', async () => {
    const revisions = [9, 10, 11].map((n) => revision(n, `v${n}`));
    const { ctx, mocks } = stackWith(revisions, 10);
    const listed = await listRevisions(ctx);
    expect(listed.map((r) => r.revision)).toEqual([11, 10, 9]);
    expect(mocks.ecs.commandCalls(ListTaskDefinitionsCommand)[0]?.args[0].input).toEqual({
      familyPrefix: 'iclinic-api',
      status: 'ACTIVE',
      sort: 'DESC',
    });
  });

  it('reads the API container among others, and copes with a revision without containers or number', async () => {
    const withSidecar: TaskDefinition = {
      taskDefinitionArn: `${FAMILY_ARN}:4`,
      revision: 4,
      containerDefinitions: [
        { name: 'sidecar', image: 'repo/sidecar:1' },
        { name: 'api', image: 'repo/api:v2', secrets: runningSecrets },
      ],
    };
    const empty: TaskDefinition = { taskDefinitionArn: `${FAMILY_ARN}:3` };
    const { ctx, mocks } = stackWith([empty, withSidecar], 4);
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    const listed = await listRevisions(ctx);
    expect(listed.map((r) => [r.revision, r.image, r.secretVersionId, r.running])).toEqual([
      [4, 'repo/api:v2', 'running-version', false],
      [3, undefined, undefined, false],
    ]);
  });

  it('describes only the newest `limit` revisions', async () => {
    const revisions = [1, 2, 3, 4, 5].map((n) => revision(n, `v${n}`));
    const { ctx, mocks } = stackWith(revisions, 5);
    const listed = await listRevisions(ctx, 2);
    expect(listed.map((r) => [r.revision, r.image, r.running])).toEqual([
      [5, 'v5', true],
      [4, 'v4', false],
    ]);
    expect(mocks.ecs.commandCalls(DescribeTaskDefinitionCommand)).toHaveLength(2);
  });
});

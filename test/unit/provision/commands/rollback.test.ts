import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
  type DescribeTaskDefinitionCommandInput,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { DescribeImagesCommand, type DescribeImagesCommandInput } from '@aws-sdk/client-ecr';
import { describe, expect, it } from 'vitest';
import {
  RollbackTargetError,
  listRevisions,
  rollback,
} from '../../../../provision/commands/rollback.js';
import { secretReferences } from '../../../../provision/resources/secret.js';
import { awsError, mutatingOperations, testContext } from '../../support/context.js';

const FAMILY_ARN = 'arn:aws:ecs:us-east-1:123456789012:task-definition/iclinic-api';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';
const REGISTERED = new Date('2026-01-01T00:00:00Z');

function revision(n: number, image: string, secretVersion: string): TaskDefinition {
  return {
    taskDefinitionArn: `${FAMILY_ARN}:${n}`,
    family: 'iclinic-api',
    revision: n,
    status: 'ACTIVE',
    registeredAt: new Date(REGISTERED.getTime() + n * 60_000),
    cpu: '256',
    memory: '512',
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: 'X86_64' },
    executionRoleArn: 'arn:aws:iam::123456789012:role/iclinic-task-execution',
    requiresAttributes: [{ name: 'ecs.capability.secrets.asm.environment-variables' }],
    compatibilities: ['EC2', 'FARGATE'],
    containerDefinitions: [
      {
        name: 'api',
        image,
        essential: true,
        portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
        secrets: secretReferences({ arn: SECRET_ARN, versionId: secretVersion }),
      },
    ],
  };
}

// 3: the old image; 4: the new image; 5: set-token on top of 4 (new secret version only).
const REVISIONS = [
  revision(3, 'repo/api:v1', 'old-version'),
  revision(4, 'repo/api:v2', 'old-version'),
  revision(5, 'repo/api:v2', 'new-version'),
];

function deployedStack(running = 5) {
  const { ctx, mocks } = testContext();
  mocks.ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: 'iclinic-api',
        status: 'ACTIVE',
        taskDefinition: `${FAMILY_ARN}:${running}`,
      },
    ],
  });
  mocks.ecs.on(ListTaskDefinitionsCommand).resolves({
    taskDefinitionArns: [
      `${FAMILY_ARN}2:9`,
      ...REVISIONS.map((r) => r.taskDefinitionArn ?? '').reverse(),
    ],
  });
  mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => {
    const n = Number(/:(\d+)$/.exec(input.taskDefinition)?.[1]);
    const found = REVISIONS.find((r) => r.revision === n);
    if (found === undefined)
      throw Object.assign(new Error('Unable to describe task definition.'), {
        name: 'ClientException',
      });
    return { taskDefinition: found };
  });
  mocks.ecs.on(RegisterTaskDefinitionCommand).resolves({
    taskDefinition: { taskDefinitionArn: `${FAMILY_ARN}:6`, revision: 6 },
  });
  mocks.ecs.on(UpdateServiceCommand).resolves({
    service: {
      deployments: [{ id: 'ecs-svc/42', status: 'PRIMARY', createdAt: REGISTERED }],
    },
  });
  return { ctx, mocks };
}

describe('listRevisions', () => {
  it("lists the family's revisions newest first with image, date and pinned secret version", async () => {
    const { ctx } = deployedStack();
    const revisions = await listRevisions(ctx);

    expect(revisions.map((r) => [r.revision, r.image, r.secretVersionId, r.running])).toEqual([
      [5, 'repo/api:v2', 'new-version', true],
      [4, 'repo/api:v2', 'old-version', false],
      [3, 'repo/api:v1', 'old-version', false],
    ]);
    expect(revisions[0]?.registeredAt).toEqual(new Date('2026-01-01T00:05:00Z'));
  });
});

describe('rollback', () => {
  it('goes back to the previous image and keeps the current secret version', async () => {
    const { ctx, mocks } = deployedStack();
    const result = await rollback(ctx);

    const input = mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    const container = input?.containerDefinitions?.[0];
    expect(container?.image).toBe('repo/api:v1');
    expect(container?.secrets).toEqual(
      secretReferences({ arn: SECRET_ARN, versionId: 'new-version' }),
    );
    expect(input).toMatchObject({ family: 'iclinic-api', cpu: '256', memory: '512' });
    expect(input).not.toHaveProperty('requiresAttributes');
    expect(input).not.toHaveProperty('revision');
    expect(result).toEqual({
      changes: [
        {
          action: 'create',
          kind: 'task definition revision',
          name: 'iclinic-api',
          detail: 'copy of revision 3 with the running token',
        },
        {
          action: 'update',
          kind: 'ECS service',
          name: 'iclinic-api',
          detail: 'image',
          from: 'repo/api:v2',
          to: 'repo/api:v1',
        },
        {
          action: 'update',
          kind: 'ECS service',
          name: 'iclinic-api',
          detail: 'task definition',
          from: 'iclinic-api:5',
          to: 'copy of iclinic-api:3',
        },
      ],
      fromRevision: 3,
      newRevision: 6,
      deploymentId: 'ecs-svc/42',
      deploymentCreatedAt: REGISTERED,
    });
  });

  it('rolls the service onto the copy without touching the desired count', async () => {
    const { ctx, mocks } = deployedStack();
    await rollback(ctx);
    expect(mocks.ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'iclinic',
      service: 'iclinic-api',
      taskDefinition: `${FAMILY_ARN}:6`,
      forceNewDeployment: true,
    });
  });

  it('refuses a revision whose image and settings are the running ones', async () => {
    const { ctx, mocks } = deployedStack();
    await expect(rollback(ctx, { to: 4 })).rejects.toThrow(
      'Revision 4 of iclinic-api has the image and settings the service runs now (revision 5); nothing to roll back.',
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('names the revisions that exist when --to gives one that does not', async () => {
    const { ctx, mocks } = deployedStack();
    await expect(rollback(ctx, { to: 99 })).rejects.toThrow(
      'Revision 99 of iclinic-api does not exist (or was deregistered). Its revisions are 3, 4, 5; pick one with "npx iclinic-deploy rollback --to N"',
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('goes to the revision given with --to', async () => {
    const { ctx, mocks } = deployedStack(3);
    const result = await rollback(ctx, { to: 5 });
    const container = mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input
      .containerDefinitions?.[0];
    expect(result.fromRevision).toBe(5);
    expect(container?.image).toBe('repo/api:v2');
    expect(container?.secrets?.[0]?.valueFrom).toBe(`${SECRET_ARN}:token::old-version`);
  });

  it('plans without a mutating call in a dry run', async () => {
    const { ctx, mocks } = deployedStack();
    const result = await rollback({ ...ctx, dryRun: true });
    expect(result.changes).toHaveLength(3);
    expect(result.deploymentId).toBeUndefined();
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('never goes forward to a revision newer than the running one', async () => {
    // 5 was registered by an `up` whose rollout the circuit breaker undid: 4 still runs.
    const revisions = [
      revision(3, 'repo/api:v1', 'old-version'),
      revision(4, 'repo/api:v2', 'old-version'),
      revision(5, 'repo/api:v3-broken', 'old-version'),
    ];
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({
      services: [
        { serviceName: 'iclinic-api', status: 'ACTIVE', taskDefinition: `${FAMILY_ARN}:4` },
      ],
    });
    mocks.ecs
      .on(ListTaskDefinitionsCommand)
      .resolves({ taskDefinitionArns: revisions.map((r) => r.taskDefinitionArn ?? '') });
    mocks.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) => ({
      taskDefinition: revisions.find((r) => r.taskDefinitionArn === input.taskDefinition),
    }));
    mocks.ecs.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: `${FAMILY_ARN}:6`, revision: 6 },
    });
    mocks.ecs.on(UpdateServiceCommand).resolves({ service: { deployments: [] } });

    const result = await rollback(ctx);

    expect(result.fromRevision).toBe(3);
    const input = mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)[0]?.args[0].input;
    expect(input?.containerDefinitions?.[0]?.image).toBe('repo/api:v1');
  });

  it('says how to deploy when there is no service', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs.on(DescribeServicesCommand).resolves({ services: [] });
    await expect(rollback(ctx)).rejects.toThrow(
      'Stack "iclinic" has no active service iclinic-api in us-east-1; run "npx iclinic-deploy up --region us-east-1" first.',
    );
  });
});

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com/iclinic/api';

/**
 * A task family kept as state: RegisterTaskDefinition adds the next revision
 * with its tags, UpdateService moves the service onto one, and ECR has every
 * image of the stack's repository but the `expired` tags.
 */
function liveFamily(tags: readonly string[], running: number, expired: readonly string[] = []) {
  const { ctx, mocks } = testContext();
  const family = new Map<number, { td: TaskDefinition; tags: Tag[] }>();
  tags.forEach((tag, i) =>
    family.set(i + 1, { td: revision(i + 1, `${ECR}:${tag}`, 'v'), tags: [] }),
  );
  const service = { running };
  mocks.ecs.on(DescribeServicesCommand).callsFake(() => ({
    services: [
      {
        serviceName: 'iclinic-api',
        status: 'ACTIVE',
        taskDefinition: `${FAMILY_ARN}:${service.running}`,
      },
    ],
  }));
  mocks.ecs.on(ListTaskDefinitionsCommand).callsFake(() => ({
    taskDefinitionArns: [...family.keys()].map((n) => `${FAMILY_ARN}:${n}`),
  }));
  mocks.ecs
    .on(DescribeTaskDefinitionCommand)
    .callsFake((input: DescribeTaskDefinitionCommandInput) => {
      const found = family.get(Number(/:(\d+)$/.exec(input.taskDefinition ?? '')?.[1]));
      if (found === undefined)
        throw awsError('ClientException', 'Unable to describe task definition.');
      return {
        taskDefinition: found.td,
        ...(input.include?.includes('TAGS') ? { tags: found.tags } : {}),
      };
    });
  mocks.ecs
    .on(RegisterTaskDefinitionCommand)
    .callsFake((input: RegisterTaskDefinitionCommandInput) => {
      const n = Math.max(...family.keys()) + 1;
      const { tags: registeredTags = [], ...rest } = input;
      const td = {
        ...rest,
        taskDefinitionArn: `${FAMILY_ARN}:${n}`,
        revision: n,
        status: 'ACTIVE',
      };
      family.set(n, { td: td as TaskDefinition, tags: registeredTags });
      return { taskDefinition: td };
    });
  mocks.ecs.on(UpdateServiceCommand).callsFake((input: UpdateServiceCommandInput) => {
    service.running = Number(/:(\d+)$/.exec(input.taskDefinition ?? '')?.[1]);
    return { service: { deployments: [{ id: `ecs-svc/${service.running}`, status: 'PRIMARY' }] } };
  });
  mocks.ecr.on(DescribeImagesCommand).callsFake((input: DescribeImagesCommandInput) => {
    const tag = input.imageIds?.[0]?.imageTag ?? '';
    if (expired.includes(tag)) {
      throw awsError(
        'ImageNotFoundException',
        `The image with imageId {imageTag:'${tag}'} does not exist`,
      );
    }
    return { imageDetails: [{ imageTags: [tag] }] };
  });
  /** An `up` of a new image: the next revision, and the service on it. */
  const deploy = (tag: string) => {
    const n = Math.max(...family.keys()) + 1;
    family.set(n, { td: revision(n, `${ECR}:${tag}`, 'v'), tags: [] });
    service.running = n;
  };
  /** Tags revision `n` as a rollback copy of `value` (whatever that names). */
  const tagAsCopy = (n: number, value: string) => {
    family.get(n)?.tags.push({ key: 'iclinic-deploy:rollback-of', value });
  };
  const registered = () =>
    mocks.ecs.commandCalls(RegisterTaskDefinitionCommand).map((c) => ({
      image: c.args[0].input.containerDefinitions?.[0]?.image?.replace(`${ECR}:`, ''),
      rollbackOf: c.args[0].input.tags?.find((t) => t.key === 'iclinic-deploy:rollback-of')?.value,
    }));
  return { ctx, mocks, service, deploy, tagAsCopy, registered };
}

describe('rollback through the deploy history', () => {
  it('goes further back on a second rollback, not to the build the first one left', async () => {
    const { ctx, registered } = liveFamily(['Z', 'A', 'B'], 3);
    await rollback(ctx);
    await rollback(ctx);
    expect(registered()).toEqual([
      { image: 'A', rollbackOf: '2' },
      { image: 'Z', rollbackOf: '1' },
    ]);
  });

  it('says there is nothing older when the first rollback went back to the oldest image', async () => {
    const { ctx, mocks, service } = liveFamily(['A', 'B'], 2);
    await rollback(ctx);
    expect(service.running).toBe(3);
    await expect(rollback(ctx)).rejects.toThrow(
      new RollbackTargetError(
        'No revision of iclinic-api older than the running revision 3 (a rollback to revision 1, so nothing after 1 counts) has another image or settings; ' +
          'nothing older to roll back to. Deploy another image with "npx iclinic-deploy up", or pick a revision with "npx iclinic-deploy rollback --to N".',
      ),
    );
    expect(mocks.ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
  });

  it('tags a copy of a copy with the original revision, so history survives an up in between', async () => {
    const { ctx, deploy, registered } = liveFamily(['Z', 'A', 'B'], 3);
    await rollback(ctx); // 4: A again
    deploy('C'); // 5
    await rollback(ctx); // 6: A, copied from 4
    await rollback(ctx); // 7: Z
    expect(registered()).toEqual([
      { image: 'A', rollbackOf: '2' },
      { image: 'A', rollbackOf: '2' },
      { image: 'Z', rollbackOf: '1' },
    ]);
  });

  it.each(['0', '2.5', '7'])(
    'counts back from the running revision when its rollback-of tag names no earlier revision (%s)',
    async (value) => {
      // 6 is an up the circuit breaker undid; 5 runs, with a tag it could not have been given.
      const { ctx, tagAsCopy, registered } = liveFamily(['A', 'B', 'C', 'D', 'E', 'F'], 5);
      tagAsCopy(5, value);
      const result = await rollback(ctx);
      expect(result.fromRevision).toBe(4);
      expect(registered()).toEqual([{ image: 'D', rollbackOf: '4' }]);
    },
  );

  it('never picks a revision newer than the running one (an up the circuit breaker undid)', async () => {
    const { ctx, registered } = liveFamily(['A', 'B', 'C'], 2);
    const result = await rollback(ctx);
    expect(result.fromRevision).toBe(1);
    expect(registered().map((r) => r.image)).toEqual(['A']);
  });
});

describe('rollback to an image the lifecycle policy expired', () => {
  const twelve = Array.from({ length: 12 }, (_, i) => `v${i + 1}`);

  it('refuses --to before registering anything, naming the image and the revisions still runnable', async () => {
    const { ctx, mocks } = liveFamily(twelve, 12, ['v1']);
    await expect(rollback(ctx, { to: 1 })).rejects.toThrow(
      new RollbackTargetError(
        `Revision 1 of iclinic-api runs image ${ECR}:v1, which is no longer in ECR repository iclinic/api ` +
          '(its lifecycle policy keeps the 10 most recent images), so its tasks could not start. ' +
          'Revisions whose image is still there: 11, 10, 9, 8, 7, 6, 5, 4, 3, 2; pick one with "npx iclinic-deploy rollback --to N".',
      ),
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });

  it('names the runnable revisions among the newest 20 only', async () => {
    const twentyFive = Array.from({ length: 25 }, (_, i) => `v${i + 1}`);
    const { ctx } = liveFamily(twentyFive, 25, ['v1']);
    const error = await rollback(ctx, { to: 1 }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      'Revisions whose image is still there: 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6; pick one',
    );
  });

  it('asks ECR once per image however many revisions run it', async () => {
    // 1-2 and 3-4: revisions that differ only in the token's secret version (set-token).
    const { ctx, mocks } = liveFamily(['A', 'A', 'B', 'B', 'C'], 5, ['A']);
    await expect(rollback(ctx, { to: 1 })).rejects.toThrow(
      'Revisions whose image is still there: 4, 3; pick one',
    );
    const asked = mocks.ecr
      .commandCalls(DescribeImagesCommand)
      .map((c) => c.args[0].input.imageIds?.[0]?.imageTag);
    // The target's image, then each image of the revisions scanned for the message.
    expect(asked).toEqual(['A', 'B', 'A']);
  });

  it('refuses the previous revision too, and says when no other image is left', async () => {
    const { ctx, mocks } = liveFamily(['A', 'B'], 2, ['A']);
    await expect(rollback(ctx)).rejects.toThrow(
      /Revision 1 of iclinic-api runs image \S+:A, which is no longer in ECR .* No other revision's image is still there; deploy one with "npx iclinic-deploy up"\.$/,
    );
    expect(mutatingOperations(mocks.ecs)).toEqual([]);
  });
});

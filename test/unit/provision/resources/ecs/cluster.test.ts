import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClustersCommand,
} from '@aws-sdk/client-ecs';
import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../../../../provision/plan.js';
import { ensureCluster, removeCluster } from '../../../../../provision/resources/ecs/index.js';
import { awsError, testContext, mutatingOperations } from '../../../support/context.js';
import { removedNames } from './fixtures.js';

describe('ensureCluster', () => {
  it('re-creates an INACTIVE cluster with the same name', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeClustersCommand)
      .resolves({ clusters: [{ clusterName: 'iclinic', status: 'INACTIVE' }] });
    mocks.ecs.on(CreateClusterCommand).resolves({ cluster: { clusterArn: 'arn:cluster/iclinic' } });
    const result = await ensureCluster(ctx);
    expect(outcomeOf(result.changes)).toBe('created');
    expect(mutatingOperations(mocks.ecs)).toEqual(['CreateCluster']);
  });

  it('retries CreateCluster while the new service-linked role cannot be assumed yet', async () => {
    const { ctx, mocks, report } = testContext();
    mocks.ecs.on(DescribeClustersCommand).resolves({ clusters: [] });
    mocks.ecs
      .on(CreateClusterCommand)
      .rejectsOnce(
        awsError(
          'InvalidParameterException',
          'Unable to assume the service linked role. Please verify that the ECS service linked role exists.',
        ),
      )
      .resolves({ cluster: { clusterArn: 'arn:cluster/iclinic' } });

    const result = await ensureCluster(ctx);

    expect(result.value.clusterArn).toBe('arn:cluster/iclinic');
    expect(mocks.ecs.commandCalls(CreateClusterCommand)).toHaveLength(2);
    expect(report.progressLines.some((line) => /IAM roles to propagate/.test(line))).toBe(true);
  });

  it('gives up on CreateCluster after the propagation bound', async () => {
    const { ctx, mocks, clock } = testContext();
    mocks.ecs.on(DescribeClustersCommand).resolves({ clusters: [] });
    mocks.ecs
      .on(CreateClusterCommand)
      .rejects(awsError('InvalidParameterException', 'Unable to assume the service linked role.'));
    const started = clock.now();
    await expect(ensureCluster(ctx)).rejects.toThrow(/Gave up creating ECS cluster/);
    expect(clock.now() - started).toBeLessThanOrEqual(120_000);
  });
});

describe('removeCluster', () => {
  it('retries while the cluster still contains services', async () => {
    const { ctx, mocks } = testContext();
    mocks.ecs
      .on(DescribeClustersCommand)
      .resolves({ clusters: [{ clusterName: 'iclinic', status: 'ACTIVE' }] });
    mocks.ecs
      .on(DeleteClusterCommand)
      .rejectsOnce(
        awsError(
          'ClusterContainsServicesException',
          'The Cluster cannot be deleted while Services are active.',
        ),
      )
      .resolves({});

    const result = await removeCluster(ctx, { timeoutMs: 300_000 });

    expect(removedNames(result)).toEqual(['ECS cluster iclinic']);
    expect(mocks.ecs.commandCalls(DeleteClusterCommand)).toHaveLength(2);
  });
});

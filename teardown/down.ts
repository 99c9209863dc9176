import {
  CI_REMOVAL_TITLES,
  removeCiProvider,
  removeCiRole,
} from '../provision/commands/ci-github.js';
import type { Removal, StackContext } from '../provision/context.js';
import type { StepGraph, StepInput, StepResult } from '../provision/graph.js';
import {
  describeDistribution,
  removeDistribution,
} from '../provision/resources/cloudfront/index.js';
import {
  removeDomainRecords,
  removeStackCertificates,
} from '../provision/resources/domain/index.js';
import {
  removeLoadBalancer,
  removeTargetGroup,
} from '../provision/resources/load-balancer/index.js';
import { removeAlarms } from '../provision/resources/alarms/index.js';
import { removeAutoscaling } from '../provision/resources/autoscaling.js';
import { removeLogGroup } from '../provision/resources/logs/index.js';
import { removeNetwork } from '../provision/resources/network/index.js';
import type { Change } from '../provision/plan.js';
import { removeRepository } from '../provision/resources/registry.js';
import { deployRoleName } from '../provision/resources/ci-github/index.js';
import { removeExecutionRole } from '../provision/resources/roles/index.js';
import { removeSecret } from '../provision/resources/secret.js';
import {
  removeCluster,
  removeService,
  removeTaskDefinitions,
} from '../provision/resources/ecs/index.js';

type DownKey =
  | 'domain-records'
  | 'certificate'
  | 'autoscaling'
  | 'alarms'
  | 'distribution'
  | 'service'
  | 'cluster'
  | 'load-balancer'
  | 'target-group'
  | 'network'
  | 'repository'
  | 'secret'
  | 'log-group'
  | 'execution-role'
  | 'deploy-role'
  | 'oidc-provider';

/** A remove's deletions as the result of a step that yields no value. */
async function removal(removing: Promise<Removal>): Promise<StepResult<undefined>> {
  return { value: undefined, changes: (await removing).changes };
}

/** Every step of `down` removes and yields nothing; what it deleted is in its changes. */
export type DownSteps = { readonly [K in DownKey]: undefined };

/**
 * Deletion order is what AWS enforces, not what the emulator does: the
 * service must drain before its cluster and load balancer go, the load
 * balancer's network interfaces must be released before the security groups
 * and subnets, and the tasks' group goes before the load balancer's group
 * that it references (removeNetwork orders the groups itself), and the
 * CloudFront distribution goes before the load balancer it sends to, so no
 * edge keeps calling a name that no longer exists. The steps that hold no
 * network resource start as soon as the service is gone. The scaler goes
 * first, so it never acts on a draining service; the alarms go with it.
 * The GitHub Actions deploy role (ci github) goes at once, so no workflow
 * run starts a deploy while the stack is taken down, and the account's OIDC
 * provider after it, only if this tool created it and no other role trusts it.
 */
export function downGraph(ctx: StackContext, timeoutMs: number): StepGraph<DownSteps> {
  const n = ctx.names;
  const on = (input: StepInput<DownSteps>): StackContext => ({ ...ctx, report: input.report });
  return {
    'deploy-role': {
      kind: 'remove',
      title: CI_REMOVAL_TITLES['deploy-role'](deployRoleName(n.stack, ctx.region)),
      after: [],
      run: (input) => removeCiRole(on(input)),
    },
    'oidc-provider': {
      kind: 'remove',
      title: CI_REMOVAL_TITLES['oidc-provider'],
      after: ['deploy-role'],
      run: (input) => removeCiProvider(on(input)),
    },
    autoscaling: {
      kind: 'remove',
      title: `Delete the autoscaling of ${n.service} (scalable target and policies)`,
      after: [],
      run: (input) => removal(removeAutoscaling(on(input))),
    },
    alarms: {
      kind: 'remove',
      title: `Delete the alarms and the SNS topic ${n.stack}-alarms`,
      after: [],
      run: (input) => removal(removeAlarms(on(input))),
    },
    // First, so the name stops pointing at the distribution before it goes.
    'domain-records': {
      kind: 'remove',
      title: 'Delete the DNS records up --domain wrote (aliases, certificate validation)',
      after: [],
      run: async (input) => {
        const distribution = await describeDistribution(on(input));
        return removal(
          removeDomainRecords(
            on(input),
            distribution === undefined ? {} : { distributionDomain: distribution.domainName },
          ),
        );
      },
    },
    // Disable, wait until Deployed (minutes), delete: it overlaps the ECS
    // service's drain, and the load balancer (its origin) goes only after.
    distribution: {
      kind: 'remove',
      title: 'Disable and delete the CloudFront distribution (a few minutes)',
      after: ['domain-records'],
      run: (input) => removal(removeDistribution(on(input))),
    },
    // ACM refuses to delete a certificate a distribution still uses.
    certificate: {
      kind: 'remove',
      title: 'Delete the ACM certificate of up --domain',
      after: ['distribution'],
      run: (input) => removal(removeStackCertificates(on(input))),
    },
    service: {
      kind: 'remove',
      title: `Delete the ECS service ${n.service}`,
      after: ['autoscaling'],
      run: (input) => removal(removeService(on(input), { timeoutMs })),
    },
    cluster: {
      kind: 'remove',
      title: `Delete the cluster ${n.cluster} and the task definitions`,
      after: ['service'],
      run: async (input) => {
        const definitions = await removeTaskDefinitions(on(input));
        const cluster = await removeCluster(on(input), { timeoutMs });
        return { value: undefined, changes: [...cluster.changes, ...definitions.changes] };
      },
    },
    'load-balancer': {
      kind: 'remove',
      title: `Delete the load balancer ${n.loadBalancer}`,
      after: ['service', 'distribution'],
      run: (input) => removal(removeLoadBalancer(on(input))),
    },
    'target-group': {
      kind: 'remove',
      title: `Delete the target group ${n.targetGroup}`,
      after: ['load-balancer'],
      run: (input) => removal(removeTargetGroup(on(input))),
    },
    network: {
      kind: 'remove',
      title: `Delete the network (VPC ${n.vpc})`,
      after: ['target-group', 'cluster'],
      run: (input) => removal(removeNetwork(on(input), { timeoutMs })),
    },
    repository: {
      kind: 'remove',
      title: `Delete the ECR repository ${n.repository} with its images`,
      after: ['service'],
      run: (input) => removal(removeRepository(on(input))),
    },
    secret: {
      kind: 'remove',
      title: `Delete the token secret ${n.secret}`,
      after: ['service'],
      run: (input) => removal(removeSecret(on(input))),
    },
    'log-group': {
      kind: 'remove',
      title: `Delete the log group ${n.logGroup}`,
      after: ['service'],
      run: (input) => removal(removeLogGroup(on(input))),
    },
    'execution-role': {
      kind: 'remove',
      title: `Delete the task execution role ${n.executionRole}`,
      after: ['service'],
      run: (input) => removal(removeExecutionRole(on(input))),
    },
  };
}

/** Everything the run deleted (or, in a dry run, would delete), step by step. */
export function removedBy(records: readonly { changes: readonly Change[] }[]): Change[] {
  return records.flatMap((record) => record.changes.filter((c) => c.action === 'delete'));
}

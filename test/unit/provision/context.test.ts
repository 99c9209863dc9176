// The read-only guard of dry runs, status and logs, exercised through the
// clients the CLI really builds (createClients), not through mocks: a test
// middleware stands in for the network, last of the first middleware step
// (before the SDK even resolves credentials), so "refused" provably means
// "refused before anything left the process".
import * as acm from '@aws-sdk/client-acm';
import * as appAutoScaling from '@aws-sdk/client-application-auto-scaling';
import * as cloudFront from '@aws-sdk/client-cloudfront';
import * as cloudWatch from '@aws-sdk/client-cloudwatch';
import * as cloudWatchLogs from '@aws-sdk/client-cloudwatch-logs';
import * as ec2 from '@aws-sdk/client-ec2';
import * as ecr from '@aws-sdk/client-ecr';
import * as ecs from '@aws-sdk/client-ecs';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as iam from '@aws-sdk/client-iam';
import * as route53 from '@aws-sdk/client-route-53';
import * as secretsManager from '@aws-sdk/client-secrets-manager';
import * as serviceQuotas from '@aws-sdk/client-service-quotas';
import * as sns from '@aws-sdk/client-sns';
import * as sts from '@aws-sdk/client-sts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CallLog,
  MutationInReadOnlyModeError,
  createClients,
  isMutatingOperation,
  type AwsClients,
} from '../../../provision/context.js';
import { READ_ONLY_VERB } from '../support/context.js';

type ClientKey = keyof AwsClients;

/** The SDK module each client's commands come from. */
const MODULES: Record<ClientKey, Record<string, unknown>> = {
  ec2,
  ecs,
  ecr,
  secrets: secretsManager,
  elbv2,
  iam,
  logs: cloudWatchLogs,
  sts,
  quotas: serviceQuotas,
  autoscaling: appAutoScaling,
  cloudwatch: cloudWatch,
  sns,
  cloudfront: cloudFront,
  acm,
  route53,
};

/**
 * Every operation the tool calls, by client, written out by hand: the
 * guard's oracle here is this list, not the prefixes the guard uses. The
 * last test checks that the list covers every command in the source.
 */
const MUTATING: Record<ClientKey, readonly string[]> = {
  ec2: [
    'AssociateRouteTable',
    'AttachInternetGateway',
    'AuthorizeSecurityGroupEgress',
    'AuthorizeSecurityGroupIngress',
    'CreateInternetGateway',
    'CreateRoute',
    'CreateRouteTable',
    'CreateSecurityGroup',
    'CreateSubnet',
    'CreateVpc',
    'DeleteInternetGateway',
    'DeleteRouteTable',
    'DeleteSecurityGroup',
    'DeleteSubnet',
    'DeleteVpc',
    'DetachInternetGateway',
    'DisassociateRouteTable',
    'ModifySubnetAttribute',
    'ModifyVpcAttribute',
    'ReplaceRoute',
    'ReplaceRouteTableAssociation',
    'RevokeSecurityGroupIngress',
  ],
  ecs: [
    'CreateCluster',
    'CreateService',
    'DeleteCluster',
    'DeleteService',
    'DeleteTaskDefinitions',
    'DeregisterTaskDefinition',
    'RegisterTaskDefinition',
    'UpdateService',
  ],
  ecr: [
    'CreateRepository',
    'DeleteRepository',
    'PutImageScanningConfiguration',
    'PutLifecyclePolicy',
  ],
  secrets: [
    'CreateSecret',
    'DeleteSecret',
    'PutSecretValue',
    'RestoreSecret',
    'UpdateSecretVersionStage',
  ],
  elbv2: [
    'CreateListener',
    'CreateLoadBalancer',
    'CreateRule',
    'CreateTargetGroup',
    'DeleteListener',
    'DeleteLoadBalancer',
    'DeleteRule',
    'DeleteTargetGroup',
    'ModifyListener',
    'ModifyRule',
    'ModifyTargetGroup',
    'ModifyTargetGroupAttributes',
    'SetSecurityGroups',
    'SetSubnets',
  ],
  iam: [
    'AttachRolePolicy',
    'CreateOpenIDConnectProvider',
    'CreateRole',
    'CreateServiceLinkedRole',
    'DeleteOpenIDConnectProvider',
    'DeleteRole',
    'DeleteRolePolicy',
    'DetachRolePolicy',
    'PutRolePolicy',
    'TagRole',
    'UpdateAssumeRolePolicy',
  ],
  logs: ['CreateLogGroup', 'DeleteLogGroup', 'PutRetentionPolicy'],
  sts: [],
  quotas: [],
  autoscaling: [
    'DeleteScalingPolicy',
    'DeregisterScalableTarget',
    'PutScalingPolicy',
    'RegisterScalableTarget',
  ],
  cloudwatch: ['DeleteAlarms', 'PutMetricAlarm'],
  sns: ['CreateTopic', 'DeleteTopic', 'Subscribe'],
  cloudfront: ['CreateDistributionWithTags', 'DeleteDistribution', 'UpdateDistribution'],
  acm: ['DeleteCertificate', 'RequestCertificate'],
  route53: ['ChangeResourceRecordSets'],
};

const READ_ONLY: Record<ClientKey, readonly string[]> = {
  ec2: [
    'DescribeAvailabilityZones',
    'DescribeInternetGateways',
    'DescribeManagedPrefixLists',
    'DescribeNetworkInterfaces',
    'DescribeRouteTables',
    'DescribeSecurityGroups',
    'DescribeSubnets',
    'DescribeVpcAttribute',
    'DescribeVpcs',
  ],
  ecs: [
    'DescribeClusters',
    'DescribeServices',
    'DescribeTaskDefinition',
    'DescribeTasks',
    'ListTaskDefinitions',
    'ListTasks',
  ],
  ecr: ['DescribeImages', 'DescribeRepositories', 'GetAuthorizationToken', 'GetLifecyclePolicy'],
  secrets: ['DescribeSecret', 'GetSecretValue'],
  elbv2: [
    'DescribeListeners',
    'DescribeLoadBalancers',
    'DescribeRules',
    'DescribeTargetGroupAttributes',
    'DescribeTargetGroups',
    'DescribeTargetHealth',
  ],
  iam: [
    'GetOpenIDConnectProvider',
    'GetRole',
    'GetRolePolicy',
    'ListAttachedRolePolicies',
    'ListRolePolicies',
    'ListRoles',
  ],
  logs: ['DescribeLogGroups', 'FilterLogEvents', 'GetLogEvents'],
  sts: ['GetCallerIdentity'],
  quotas: ['GetAWSDefaultServiceQuota', 'GetServiceQuota'],
  autoscaling: ['DescribeScalableTargets', 'DescribeScalingPolicies'],
  cloudwatch: ['DescribeAlarms'],
  sns: ['ListSubscriptionsByTopic', 'ListTopics'],
  cloudfront: [
    'GetDistribution',
    'GetDistributionConfig',
    'ListDistributions',
    'ListTagsForResource',
  ],
  acm: ['DescribeCertificate', 'ListCertificates', 'ListTagsForCertificate'],
  route53: ['GetHostedZone', 'ListHostedZones', 'ListResourceRecordSets'],
};

/** The IAM service prefix each client's calls are logged under (the policy's action names). */
const SERVICE_PREFIX: Record<ClientKey, string> = {
  ec2: 'ec2',
  ecs: 'ecs',
  ecr: 'ecr',
  secrets: 'secretsmanager',
  elbv2: 'elasticloadbalancing',
  iam: 'iam',
  logs: 'logs',
  sts: 'sts',
  quotas: 'servicequotas',
  autoscaling: 'application-autoscaling',
  cloudwatch: 'cloudwatch',
  sns: 'sns',
  cloudfront: 'cloudfront',
  acm: 'acm',
  route53: 'route53',
};

const CLIENT_KEYS = Object.keys(MODULES) as ClientKey[];

class ReachedTheNetwork extends Error {}

interface Sendable {
  send(command: unknown): Promise<unknown>;
  middlewareStack: {
    add(
      middleware: (
        next: unknown,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; priority: 'low'; name: string },
    ): void;
  };
}

/** The CLI's clients, each ending at a stand-in for the network that records what reached it. */
function guardedClients(readOnly: boolean) {
  const calls = new CallLog();
  const clients = createClients({ region: 'us-east-1', readOnly }, calls);
  const reached: string[] = [];
  for (const key of CLIENT_KEYS) {
    (clients[key] as unknown as Sendable).middlewareStack.add(
      (_next, context) => async () => {
        reached.push(`${key}:${context.commandName ?? '?'}`);
        throw new ReachedTheNetwork();
      },
      { step: 'initialize', priority: 'low', name: 'testStandInForTheNetwork' },
    );
  }
  const send = (key: ClientKey, operation: string): Promise<unknown> => {
    const Command = MODULES[key][`${operation}Command`] as new (input: object) => unknown;
    expect(Command, `${operation}Command in the ${key} SDK module`).toBeTypeOf('function');
    return (clients[key] as unknown as Sendable).send(new Command({}));
  };
  return { calls, reached, send };
}

const cases = (lists: Record<ClientKey, readonly string[]>) =>
  CLIENT_KEYS.flatMap((key) => lists[key].map((operation) => [key, operation] as const));

describe('createClients with readOnly (dry runs, status, logs)', () => {
  it.each(cases(MUTATING))(
    'refuses %s %s before it reaches the network',
    async (key, operation) => {
      const { reached, send, calls } = guardedClients(true);
      const error = await send(key, operation).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MutationInReadOnlyModeError);
      expect((error as Error).message).toBe(
        `Refusing to call ${SERVICE_PREFIX[key]}:${operation}: this run is read-only (--dry-run or status).`,
      );
      expect(reached).toEqual([]);
      expect(calls.total).toBe(0);
    },
  );

  it.each(cases(READ_ONLY))('lets %s %s through and logs it', async (key, operation) => {
    const { reached, send, calls } = guardedClients(true);
    await expect(send(key, operation)).rejects.toBeInstanceOf(ReachedTheNetwork);
    expect(reached).toEqual([`${key}:${operation}Command`]);
    expect(calls.toJSON()).toEqual({
      total: 1,
      mutating: 0,
      byOperation: { [`${SERVICE_PREFIX[key]}:${operation}`]: 1 },
    });
  });
});

describe('createClients without readOnly', () => {
  it.each(cases(MUTATING))('sends %s %s and counts it as mutating', async (key, operation) => {
    const { reached, send, calls } = guardedClients(false);
    await expect(send(key, operation)).rejects.toBeInstanceOf(ReachedTheNetwork);
    expect(reached).toEqual([`${key}:${operation}Command`]);
    expect(calls.mutatingOperations()).toEqual([`${SERVICE_PREFIX[key]}:${operation}`]);
    expect(calls.toJSON()).toMatchObject({ total: 1, mutating: 1 });
  });
});

describe('createClients settings', () => {
  it('lets mutating calls through when readOnly is not given', async () => {
    const clients = createClients({ region: 'us-east-1' }, new CallLog());
    (clients.ecs as unknown as Sendable).middlewareStack.add(
      () => async () => {
        throw new ReachedTheNetwork();
      },
      { step: 'initialize', priority: 'low', name: 'testStandInForTheNetwork' },
    );
    const UpdateService = ecs.UpdateServiceCommand;
    await expect(clients.ecs.send(new UpdateService({ service: 'x' }))).rejects.toBeInstanceOf(
      ReachedTheNetwork,
    );
  });

  it('names its refusal MutationInReadOnlyModeError', () => {
    expect(new MutationInReadOnlyModeError('ecs:UpdateService').name).toBe(
      'MutationInReadOnlyModeError',
    );
  });

  it('gives every client the region (ACM always us-east-1, for CloudFront), the profile when one is named, and five attempts', async () => {
    const clients = createClients({ region: 'sa-east-1', profile: 'demo' }, new CallLog());
    for (const key of CLIENT_KEYS) {
      const { config } = clients[key] as unknown as {
        config: {
          region: () => Promise<string>;
          profile?: string;
          maxAttempts: () => Promise<number>;
        };
      };
      expect(await config.region(), key).toBe(key === 'acm' ? 'us-east-1' : 'sa-east-1');
      expect(config.profile, key).toBe('demo');
      expect(await config.maxAttempts(), key).toBe(5);
    }
  });

  it('leaves the profile to the default credential chain when none is named', () => {
    const clients = createClients({ region: 'sa-east-1' }, new CallLog());
    for (const key of CLIENT_KEYS) {
      expect((clients[key] as unknown as { config: { profile?: string } }).config.profile).toBe(
        undefined,
      );
    }
  });
});

describe('CallLog', () => {
  it('counts calls by operation, sorted in its JSON, and lists the mutating ones', () => {
    const calls = new CallLog();
    calls.record('ecs', 'UpdateService');
    calls.record('ec2', 'DescribeVpcs');
    calls.record('ecs', 'UpdateService');
    calls.record('elasticloadbalancing', 'SetSubnets');
    expect(calls.toJSON()).toEqual({
      total: 4,
      mutating: 3,
      byOperation: {
        'ec2:DescribeVpcs': 1,
        'ecs:UpdateService': 2,
        'elasticloadbalancing:SetSubnets': 1,
      },
    });
    expect(Object.keys(calls.toJSON().byOperation)).toEqual([
      'ec2:DescribeVpcs',
      'ecs:UpdateService',
      'elasticloadbalancing:SetSubnets',
    ]);
    expect(calls.mutatingOperations()).toEqual([
      'ecs:UpdateService',
      'elasticloadbalancing:SetSubnets',
    ]);
  });
});

describe('the classifiers agree with the explicit lists', () => {
  it.each(cases(MUTATING))(
    '%s %s is mutating to production and to the tests',
    (_key, operation) => {
      expect(isMutatingOperation(operation)).toBe(true);
      expect(READ_ONLY_VERB.test(operation)).toBe(false);
    },
  );

  it.each(cases(READ_ONLY))('%s %s is a read to production and to the tests', (_key, operation) => {
    expect(isMutatingOperation(operation)).toBe(false);
    expect(READ_ONLY_VERB.test(operation)).toBe(true);
  });

  it('lists every operation the source calls', () => {
    const listed = new Set(CLIENT_KEYS.flatMap((key) => [...MUTATING[key], ...READ_ONLY[key]]));
    const called = new Set<string>();
    for (const file of sourceFiles(['provision', 'cli', 'teardown'])) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/new\s+([A-Z]\w+)Command\(|paginate([A-Z]\w+)\(/g)) {
        called.add(match[1] ?? match[2] ?? '');
      }
    }
    expect(called.size).toBeGreaterThan(100);
    expect([...called].filter((operation) => !listed.has(operation)).sort()).toEqual([]);
  });
});

function sourceFiles(directories: readonly string[]): string[] {
  return directories.flatMap((directory) =>
    readdirSync(directory, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
      .map((entry) => join(entry.parentPath, entry.name)),
  );
}

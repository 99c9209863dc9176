import {
  GetDistributionConfigCommand,
  ListDistributionsCommand,
  UpdateDistributionCommand,
} from '@aws-sdk/client-cloudfront';
import {
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { beforeEach, describe, expect, it } from 'vitest';
import { aws, endpoint, upArgs } from '../support/e2e.js';
import { stackNames } from '../../provision/names.js';
import {
  ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
  CACHING_DISABLED_POLICY_ID,
  ORIGIN_SECRET_HEADER,
} from '../../provision/resources/cloudfront/config.js';
import { CLOUDFRONT_PREFIX_LIST_NAME } from '../../provision/resources/cloudfront/prefix-list.js';
import { runCli, type CliResult } from '../support/cli.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

const UP = upArgs('--json');
const names = stackNames('iclinic', 'us-east-1');

interface JsonRecord {
  awsCalls: { total: number; mutating: number; byOperation: Record<string, number> };
  result?: { url?: string };
  error?: { message: string };
}

function parse(result: CliResult): JsonRecord {
  const record = JSON.parse(result.stdout) as JsonRecord;
  expect(record.error?.message, result.stderr).toBeUndefined();
  expect(result.code).toBe(0);
  return record;
}

const up = async (extra: string[] = []) => parse(await runCli([...UP, ...extra], { endpoint }));
const down = async () => parse(await runCli(['down', '--yes', '--json'], { endpoint }));

async function theDistribution() {
  const list = await aws.cloudfront.send(new ListDistributionsCommand({}));
  const items = list.DistributionList?.Items ?? [];
  expect(items).toHaveLength(1);
  const id = items[0]?.Id ?? '';
  const config = await aws.cloudfront.send(new GetDistributionConfigCommand({ Id: id }));
  return { summary: items[0], id, config: config.DistributionConfig, etag: config.ETag ?? '' };
}

async function albGroup() {
  const groups = await aws.ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [{ Name: 'group-name', Values: [names.loadBalancerSecurityGroup] }],
    }),
  );
  const group = groups.SecurityGroups?.[0];
  if (group === undefined) throw new Error('no load balancer security group');
  return group;
}

async function cloudFrontPrefixListId(): Promise<string> {
  const lists = await aws.ec2.send(
    new DescribeManagedPrefixListsCommand({
      Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_PREFIX_LIST_NAME] }],
    }),
  );
  return lists.PrefixLists?.[0]?.PrefixListId ?? 'none';
}

async function httpListener() {
  const lbs = await aws.elbv2.send(
    new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }),
  );
  const listeners = await aws.elbv2.send(
    new DescribeListenersCommand({ LoadBalancerArn: lbs.LoadBalancers?.[0]?.LoadBalancerArn }),
  );
  const listener = listeners.Listeners?.find((l) => l.Port === 80);
  const rules = await aws.elbv2.send(
    new DescribeRulesCommand({ ListenerArn: listener?.ListenerArn }),
  );
  return { listener, rules: (rules.Rules ?? []).filter((r) => r.IsDefault !== true) };
}

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('up with HTTPS through CloudFront (the default)', () => {
  it('creates the distribution: CachingDisabled, AllViewerExceptHostHeader, redirect-to-https, the origin header', async () => {
    const record = await up();
    const { summary, config } = await theDistribution();
    expect(record.result?.url).toBe(`https://${summary?.DomainName ?? ''}`);
    const behavior = config?.DefaultCacheBehavior;
    expect(behavior?.CachePolicyId).toBe(CACHING_DISABLED_POLICY_ID);
    expect(behavior?.OriginRequestPolicyId).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID);
    expect(behavior?.ViewerProtocolPolicy).toBe('redirect-to-https');
    const origin = config?.Origins?.Items?.[0];
    const lbs = await aws.elbv2.send(
      new DescribeLoadBalancersCommand({ Names: [names.loadBalancer] }),
    );
    expect(origin?.DomainName).toBe(lbs.LoadBalancers?.[0]?.DNSName);
    expect(origin?.CustomHeaders?.Items?.[0]?.HeaderName).toBe(ORIGIN_SECRET_HEADER);
    expect(origin?.CustomHeaders?.Items?.[0]?.HeaderValue).toMatch(/^[0-9a-f]{64}$/);
    expect(
      (config?.CustomErrorResponses?.Items ?? []).map((r) => [r.ErrorCode, r.ErrorCachingMinTTL]),
    ).toEqual([
      [500, 0],
      [502, 0],
      [503, 0],
      [504, 0],
    ]);
  });

  it('admits only the CloudFront prefix list on the load balancer group', async () => {
    await up();
    const group = await albGroup();
    const listId = await cloudFrontPrefixListId();
    expect(
      (group.IpPermissions ?? []).map((p) => [
        p.FromPort,
        (p.IpRanges ?? []).map((r) => r.CidrIp),
        (p.PrefixListIds ?? []).map((l) => l.PrefixListId),
      ]),
    ).toEqual([[80, [], [listId]]]);
  });

  it('answers 403 by default on the listener and forwards only with the origin header', async () => {
    await up();
    const { config } = await theDistribution();
    const secret = config?.Origins?.Items?.[0]?.CustomHeaders?.Items?.[0]?.HeaderValue;
    const { listener, rules } = await httpListener();
    expect(listener?.DefaultActions?.[0]?.Type).toBe('fixed-response');
    expect(listener?.DefaultActions?.[0]?.FixedResponseConfig?.StatusCode).toBe('403');
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Priority).toBe('1');
    expect(rules[0]?.Conditions?.[0]?.HttpHeaderConfig).toEqual({
      HttpHeaderName: ORIGIN_SECRET_HEADER,
      Values: [secret],
    });
    expect(rules[0]?.Actions?.[0]?.Type).toBe('forward');
  });

  it('makes no mutating call on a second up, and keeps the secret', async () => {
    await up();
    const before = (await theDistribution()).config?.Origins?.Items?.[0]?.CustomHeaders;
    const second = await up();
    expect(second.awsCalls.mutating, JSON.stringify(second.awsCalls.byOperation)).toBe(0);
    expect((await theDistribution()).config?.Origins?.Items?.[0]?.CustomHeaders).toEqual(before);
  });

  it('puts back a deleted prefix-list rule and a changed behaviour', async () => {
    await up();
    const group = await albGroup();
    await aws.ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: group.GroupId,
        IpPermissions: group.IpPermissions,
      }),
    );
    const { id, config, etag } = await theDistribution();
    if (config?.DefaultCacheBehavior === undefined) throw new Error('no behaviour');
    await aws.cloudfront.send(
      new UpdateDistributionCommand({
        Id: id,
        IfMatch: etag,
        DistributionConfig: {
          ...config,
          DefaultCacheBehavior: {
            ...config.DefaultCacheBehavior,
            ViewerProtocolPolicy: 'allow-all',
          },
        },
      }),
    );
    await up();
    expect((await albGroup()).IpPermissions?.[0]?.PrefixListIds?.[0]?.PrefixListId).toBe(
      await cloudFrontPrefixListId(),
    );
    const after = await theDistribution();
    expect(after.config?.DefaultCacheBehavior?.ViewerProtocolPolicy).toBe('redirect-to-https');
  });

  it('gives a distribution made before the error-caching settings its TTL 0 for 5xx, then leaves it', async () => {
    await up();
    const { id, config, etag } = await theDistribution();
    if (config === undefined) throw new Error('no distribution config');
    await aws.cloudfront.send(
      new UpdateDistributionCommand({
        Id: id,
        IfMatch: etag,
        DistributionConfig: { ...config, CustomErrorResponses: { Quantity: 0 } },
      }),
    );
    const converging = await up();
    expect(converging.awsCalls.byOperation['cloudfront:UpdateDistribution']).toBe(1);
    const after = await theDistribution();
    expect(after.config?.CustomErrorResponses?.Quantity).toBe(4);
    const third = await up();
    expect(third.awsCalls.mutating, JSON.stringify(third.awsCalls.byOperation)).toBe(0);
  });

  it('down removes the distribution and leaves nothing tagged', async () => {
    await up();
    await down();
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
    const list = await aws.cloudfront.send(new ListDistributionsCommand({}));
    expect(list.DistributionList?.Items ?? []).toEqual([]);
    await down();
  });

  it('--plain-http gives the old shape: no distribution, port 80 from anywhere, a forwarding listener', async () => {
    const record = await up(['--plain-http']);
    expect(record.result?.url).toMatch(/^http:\/\/.*elb/);
    const list = await aws.cloudfront.send(new ListDistributionsCommand({}));
    expect(list.DistributionList?.Items ?? []).toEqual([]);
    const group = await albGroup();
    expect(group.IpPermissions?.map((p) => p.IpRanges?.map((r) => r.CidrIp))).toEqual([
      ['0.0.0.0/0'],
    ]);
    const { listener, rules } = await httpListener();
    expect(listener?.DefaultActions?.[0]?.Type).toBe('forward');
    expect(rules).toEqual([]);
  });

  it('switching a CloudFront stack to --plain-http plans and removes its distribution, and the load balancer takes the plain shape', async () => {
    await up();
    const { id } = await theDistribution();
    const plan = JSON.parse(
      (await runCli([...UP, '--plain-http', '--dry-run'], { endpoint })).stdout,
    ) as {
      steps: {
        key: string;
        status: string;
        changes: { action: string; kind: string; name: string }[];
      }[];
    };
    const planned = plan.steps.find((step) => step.key === 'distribution');
    expect(planned?.changes).toEqual([
      { action: 'delete', kind: 'CloudFront distribution', name: id },
    ]);
    expect(planned?.status).toBe('will-update');
    await up(['--plain-http']);
    const list = await aws.cloudfront.send(new ListDistributionsCommand({}));
    expect(list.DistributionList?.Items ?? []).toEqual([]);
    const group = await albGroup();
    expect(group.IpPermissions?.map((p) => p.IpRanges?.map((r) => r.CidrIp))).toEqual([
      ['0.0.0.0/0'],
    ]);
    const { listener, rules } = await httpListener();
    expect(listener?.DefaultActions?.[0]?.Type).toBe('forward');
    expect(rules).toEqual([]);
    const again = await up(['--plain-http']);
    expect(again.awsCalls.mutating, JSON.stringify(again.awsCalls.byOperation)).toBe(0);
  });
});

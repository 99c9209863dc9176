import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeManagedPrefixListsCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { stackNames } from '../../../../../provision/names.js';
import {
  desiredGroups,
  ensureSecurityGroups,
  planSecurityGroup,
} from '../../../../../provision/resources/network/security-groups.js';
import { CLOUDFRONT_PREFIX_LIST_NAME } from '../../../../../provision/resources/cloudfront/prefix-list.js';
import { testContext } from '../../../support/context.js';

const names = stackNames('iclinic', 'us-east-1');
const behindCloudFront = { containerPort: 8080, https: false, cloudFront: true };
const egress = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }];
const prefixRule = {
  IpProtocol: 'tcp',
  FromPort: 80,
  ToPort: 80,
  PrefixListIds: [{ PrefixListId: 'pl-3b927c52' }],
};
const openRule = {
  IpProtocol: 'tcp',
  FromPort: 80,
  ToPort: 80,
  IpRanges: [{ CidrIp: '0.0.0.0/0' }],
};

function albGroup(ingress: SecurityGroup['IpPermissions']): SecurityGroup {
  return {
    GroupId: 'sg-alb',
    GroupName: names.loadBalancerSecurityGroup,
    IpPermissions: ingress,
    IpPermissionsEgress: egress,
  };
}

function planned(current: SecurityGroup | undefined) {
  const { loadBalancer } = desiredGroups(names, behindCloudFront, 'sg-alb', 'pl-3b927c52');
  return planSecurityGroup(current, loadBalancer).map((p) => p.change.detail);
}

describe('the load balancer group behind CloudFront', () => {
  it('admits port 80 from the origin-facing prefix list and nothing else', () => {
    const { loadBalancer } = desiredGroups(names, behindCloudFront, 'sg-alb', 'pl-3b927c52');
    expect(loadBalancer.ingress).toEqual([
      {
        port: 80,
        source: { kind: 'prefix', value: 'pl-3b927c52', label: CLOUDFRONT_PREFIX_LIST_NAME },
      },
    ]);
  });

  it('revokes the 0.0.0.0/0 rule of a plain-HTTP stack and authorizes the prefix list', () => {
    expect(planned(albGroup([openRule]))).toEqual([
      'ingress tcp 80 from 0.0.0.0/0',
      `ingress tcp 80 from ${CLOUDFRONT_PREFIX_LIST_NAME}`,
    ]);
  });

  it('puts back a removed prefix-list rule', () => {
    expect(planned(albGroup([]))).toEqual([`ingress tcp 80 from ${CLOUDFRONT_PREFIX_LIST_NAME}`]);
  });

  it('plans nothing when the group holds exactly the prefix-list rule', () => {
    expect(planned(albGroup([prefixRule]))).toEqual([]);
  });

  it("keeps today's 0.0.0.0/0 rules without CloudFront (--plain-http)", () => {
    const { loadBalancer } = desiredGroups(
      names,
      { containerPort: 8080, https: false, cloudFront: false },
      'sg-alb',
      'pl-3b927c52',
    );
    expect(planSecurityGroup(albGroup([openRule]), loadBalancer)).toEqual([]);
  });

  it('looks the prefix list up by name and sends the revoke and the authorize with the list id', async () => {
    const { ctx, mocks } = testContext();
    mocks.ec2.on(DescribeManagedPrefixListsCommand).resolves({
      PrefixLists: [{ PrefixListId: 'pl-3b927c52', PrefixListName: CLOUDFRONT_PREFIX_LIST_NAME }],
    });
    mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({
      SecurityGroups: [
        albGroup([openRule]),
        {
          GroupId: 'sg-tasks',
          GroupName: names.taskSecurityGroup,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 8080,
              ToPort: 8080,
              UserIdGroupPairs: [{ GroupId: 'sg-alb' }],
            },
          ],
          IpPermissionsEgress: egress,
        },
      ],
    });
    mocks.ec2.on(RevokeSecurityGroupIngressCommand).resolves({});
    mocks.ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({});
    await ensureSecurityGroups(ctx, 'vpc-1', behindCloudFront);
    expect(mocks.ec2.commandCalls(DescribeManagedPrefixListsCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_PREFIX_LIST_NAME] }],
    });
    expect(mocks.ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: 'sg-alb',
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
    });
    const authorized = mocks.ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]?.args[0]
      .input;
    expect(authorized?.IpPermissions?.[0]?.PrefixListIds?.[0]?.PrefixListId).toBe('pl-3b927c52');
  });

  it('sends nothing in a dry run, though it still looks the prefix list up', async () => {
    const { ctx, mocks } = testContext();
    mocks.ec2.on(DescribeManagedPrefixListsCommand).resolves({
      PrefixLists: [{ PrefixListId: 'pl-3b927c52', PrefixListName: CLOUDFRONT_PREFIX_LIST_NAME }],
    });
    mocks.ec2
      .on(DescribeSecurityGroupsCommand)
      .resolves({ SecurityGroups: [albGroup([openRule])] });
    const result = await ensureSecurityGroups({ ...ctx, dryRun: true }, 'vpc-1', behindCloudFront);
    expect(result.changes.map((c) => c.detail)).toContain(
      `ingress tcp 80 from ${CLOUDFRONT_PREFIX_LIST_NAME}`,
    );
    expect(mocks.ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toEqual([]);
    expect(mocks.ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toEqual([]);
  });
});

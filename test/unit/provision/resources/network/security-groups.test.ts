import type { SecurityGroup } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { stackNames } from '../../../../../provision/names.js';
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  desiredGroups,
  planSecurityGroup,
} from '../../../../../provision/resources/network/security-groups.js';

const names = stackNames('iclinic', 'us-east-1');
const { loadBalancer, tasks } = desiredGroups(
  names,
  { containerPort: 8080, https: true },
  'sg-alb',
);
const allowAllEgress = [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }];

function changes(current: SecurityGroup | undefined, desired = loadBalancer) {
  return planSecurityGroup(current, desired).map((p) => p.change);
}

describe('planSecurityGroup', () => {
  it('plans a missing group and each of its ingress rules, but not the egress a new group has', () => {
    expect(changes(undefined)).toEqual([
      {
        action: 'create',
        kind: 'security group',
        name: 'iclinic-alb',
        detail: 'admits only tcp 80 from 0.0.0.0/0 and tcp 443 from 0.0.0.0/0',
      },
      {
        action: 'create',
        kind: 'security group rule',
        name: 'iclinic-alb',
        detail: 'ingress tcp 80 from 0.0.0.0/0',
      },
      {
        action: 'create',
        kind: 'security group rule',
        name: 'iclinic-alb',
        detail: 'ingress tcp 443 from 0.0.0.0/0',
      },
    ]);
  });

  it('describes a new load balancer group behind CloudFront by the prefix list it admits, not as open to anywhere', () => {
    const behindCloudFront = desiredGroups(
      names,
      { containerPort: 8080, https: false, cloudFront: true },
      'sg-alb',
      'pl-3b927c52',
    ).loadBalancer;
    expect(changes(undefined, behindCloudFront)[0]?.detail).toBe(
      'admits only tcp 80 from com.amazonaws.global.cloudfront.origin-facing',
    );
  });

  it('plans nothing when the rules match, however AWS groups them', () => {
    const current: SecurityGroup = {
      GroupId: 'sg-alb',
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
      IpPermissionsEgress: allowAllEgress,
    };
    expect(changes(current)).toEqual([]);
  });

  it('plans revoking an extra rule before adding a missing one', () => {
    const current: SecurityGroup = {
      GroupId: 'sg-alb',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: '0.0.0.0/0' }],
          Ipv6Ranges: [{ CidrIpv6: '::/0' }],
        },
        { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      ],
      IpPermissionsEgress: allowAllEgress,
    };
    expect(
      planSecurityGroup(current, loadBalancer).map((p) => [p.action.type, p.change.detail]),
    ).toEqual([
      ['revoke', 'ingress tcp 22 from 0.0.0.0/0'],
      ['revoke', 'ingress tcp 22 from ::/0'],
      ['authorize', 'ingress tcp 443 from 0.0.0.0/0'],
    ]);
  });

  it('names the load balancer group by name in the tasks rule, even before it has an id', () => {
    const planned = desiredGroups(
      names,
      { containerPort: 8080, https: false },
      NOT_CREATED_YET,
    ).tasks;
    expect(changes(undefined, planned)[1]).toEqual({
      action: 'create',
      kind: 'security group rule',
      name: 'iclinic-tasks',
      detail: 'ingress tcp 8080 from iclinic-alb',
    });
  });

  it('plans restoring the allow-all egress an existing group lost', () => {
    const current: SecurityGroup = {
      GroupId: 'sg-tasks',
      IpPermissions: [
        {
          IpProtocol: 'tcp',
          FromPort: 8080,
          ToPort: 8080,
          UserIdGroupPairs: [{ GroupId: 'sg-alb' }],
        },
      ],
      IpPermissionsEgress: [],
    };
    expect(changes(current, tasks)).toEqual([
      {
        action: 'create',
        kind: 'security group rule',
        name: 'iclinic-tasks',
        detail: 'egress all traffic to 0.0.0.0/0',
      },
    ]);
  });
});

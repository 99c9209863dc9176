/**
 * Names as AWS treats them: CreateLoadBalancer and CreateTargetGroup with a
 * name that exists and the same settings return the existing resource; with
 * other settings they answer Duplicate*Name. moto makes a second load
 * balancer and refuses any second target group (CI-MACHINE.md).
 */
import {
  DeleteLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type LoadBalancer,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsErrorReply, AwsRequest, RuleEnv, StrictRule, UpstreamResponse } from '../types.js';
import {
  escapeXml,
  firstTag,
  headersWithoutLength,
  isSuccess,
  listParam,
  stringParam,
} from './state-xml.js';

const ELB_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

function element(name: string, value: string | number | boolean | undefined): string {
  return value === undefined ? '' : `<${name}>${escapeXml(String(value))}</${name}>`;
}

function members(values: readonly string[]): string {
  return values.map((v) => element('member', v)).join('');
}

function elbResponse(operation: string, inner: string): string {
  return (
    `<${operation}Response xmlns="${ELB_XMLNS}"><${operation}Result>${inner}</${operation}Result>` +
    `<ResponseMetadata><RequestId>strict-aws-names</RequestId></ResponseMetadata></${operation}Response>`
  );
}

export function loadBalancerXml(lb: LoadBalancer): string {
  const zones = (lb.AvailabilityZones ?? [])
    .map(
      (z) =>
        `<member>${element('ZoneName', z.ZoneName)}${element('SubnetId', z.SubnetId)}</member>`,
    )
    .join('');
  return elbResponse(
    'CreateLoadBalancer',
    '<LoadBalancers><member>' +
      element('LoadBalancerArn', lb.LoadBalancerArn) +
      element('DNSName', lb.DNSName) +
      element('CanonicalHostedZoneId', lb.CanonicalHostedZoneId) +
      element('CreatedTime', lb.CreatedTime?.toISOString()) +
      element('LoadBalancerName', lb.LoadBalancerName) +
      element('Scheme', lb.Scheme) +
      element('VpcId', lb.VpcId) +
      `<State>${element('Code', lb.State?.Code)}</State>` +
      element('Type', lb.Type) +
      `<AvailabilityZones>${zones}</AvailabilityZones>` +
      `<SecurityGroups>${members(lb.SecurityGroups ?? [])}</SecurityGroups>` +
      element('IpAddressType', lb.IpAddressType) +
      '</member></LoadBalancers>',
  );
}

export function targetGroupXml(tg: TargetGroup): string {
  return elbResponse(
    'CreateTargetGroup',
    '<TargetGroups><member>' +
      element('TargetGroupArn', tg.TargetGroupArn) +
      element('TargetGroupName', tg.TargetGroupName) +
      element('Protocol', tg.Protocol) +
      element('Port', tg.Port) +
      element('VpcId', tg.VpcId) +
      element('HealthCheckProtocol', tg.HealthCheckProtocol) +
      element('HealthCheckPort', tg.HealthCheckPort) +
      element('HealthCheckEnabled', tg.HealthCheckEnabled) +
      element('HealthCheckIntervalSeconds', tg.HealthCheckIntervalSeconds) +
      element('HealthCheckTimeoutSeconds', tg.HealthCheckTimeoutSeconds) +
      element('HealthyThresholdCount', tg.HealthyThresholdCount) +
      element('UnhealthyThresholdCount', tg.UnhealthyThresholdCount) +
      element('HealthCheckPath', tg.HealthCheckPath) +
      (tg.Matcher?.HttpCode !== undefined
        ? `<Matcher>${element('HttpCode', tg.Matcher.HttpCode)}</Matcher>`
        : '') +
      `<LoadBalancerArns>${members(tg.LoadBalancerArns ?? [])}</LoadBalancerArns>` +
      element('TargetType', tg.TargetType) +
      element('IpAddressType', tg.IpAddressType) +
      '</member></TargetGroups>',
  );
}

function replyWith(response: UpstreamResponse, body: string): UpstreamResponse {
  return {
    status: 200,
    headers: { ...headersWithoutLength(response.headers), 'content-type': 'text/xml' },
    body,
  };
}

async function existingLoadBalancer(env: RuleEnv, region: string, name: string) {
  const out = await env
    .moto(region)
    .elbv2.send(new DescribeLoadBalancersCommand({ Names: [name] }))
    .catch(() => undefined);
  return out?.LoadBalancers?.[0];
}

async function existingTargetGroup(env: RuleEnv, region: string, name: string) {
  const out = await env
    .moto(region)
    .elbv2.send(new DescribeTargetGroupsCommand({ Names: [name] }))
    .catch(() => undefined);
  return out?.TargetGroups?.[0];
}

/**
 * ELBv2 API reference, CreateLoadBalancer: "This operation is idempotent, which means that it
 * completes at most one time. If you attempt to create multiple load balancers with the same
 * settings, each call succeeds."
 */
export function loadBalancerNameIdempotent(): StrictRule {
  const existing = new WeakMap<AwsRequest, LoadBalancer>();
  return {
    name: 'elb-name-idempotent',
    source:
      'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html',
    async before(request: AwsRequest, env: RuleEnv): Promise<AwsErrorReply | undefined> {
      const name = stringParam(request.params, 'Name');
      if (request.operation !== 'CreateLoadBalancer' || name === undefined) return undefined;
      const lb = await existingLoadBalancer(env, request.region, name);
      if (lb === undefined) return undefined;
      const scheme = stringParam(request.params, 'Scheme') ?? 'internet-facing';
      const type = stringParam(request.params, 'Type') ?? 'application';
      const subnets = listParam(request.params, 'Subnets').sort().join(',');
      const lbSubnets = (lb.AvailabilityZones ?? [])
        .map((z) => z.SubnetId ?? '')
        .sort()
        .join(',');
      if (lb.Scheme !== scheme || lb.Type !== type || (subnets !== '' && subnets !== lbSubnets)) {
        return {
          status: 400,
          code: 'DuplicateLoadBalancerName',
          message: `A load balancer with the same name '${name}' exists, but with different settings`,
        };
      }
      existing.set(request, lb);
      return undefined;
    },
    async after(request: AwsRequest, response: UpstreamResponse, env: RuleEnv) {
      const lb = existing.get(request);
      if (lb === undefined || !isSuccess(response)) return undefined;
      const second = firstTag(response.body, 'LoadBalancerArn');
      if (second !== undefined && second !== lb.LoadBalancerArn) {
        await env
          .moto(request.region)
          .elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: second }));
      }
      return replyWith(response, loadBalancerXml(lb));
    },
  };
}

/**
 * ELBv2 API reference, CreateTargetGroup: "If you attempt to create multiple target groups with
 * the same settings, each call succeeds"; other settings: DuplicateTargetGroupName
 * (wording: terraform-aws-modules/terraform-aws-alb#251).
 */
export function targetGroupNameIdempotent(): StrictRule {
  const existing = new WeakMap<AwsRequest, TargetGroup>();
  return {
    name: 'target-group-name-idempotent',
    source:
      'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html',
    async before(request: AwsRequest, env: RuleEnv): Promise<AwsErrorReply | undefined> {
      const name = stringParam(request.params, 'Name');
      if (request.operation !== 'CreateTargetGroup' || name === undefined) return undefined;
      const tg = await existingTargetGroup(env, request.region, name);
      if (tg === undefined) return undefined;
      const same =
        (stringParam(request.params, 'Protocol') ?? tg.Protocol) === tg.Protocol &&
        Number(stringParam(request.params, 'Port') ?? tg.Port) === tg.Port &&
        (stringParam(request.params, 'VpcId') ?? tg.VpcId) === tg.VpcId &&
        (stringParam(request.params, 'TargetType') ?? 'instance') === tg.TargetType;
      if (!same) {
        return {
          status: 400,
          code: 'DuplicateTargetGroupName',
          message: `A target group with the same name '${name}' exists, but with different settings`,
        };
      }
      existing.set(request, tg);
      return undefined;
    },
    after(request: AwsRequest, response: UpstreamResponse) {
      const tg = existing.get(request);
      return Promise.resolve(
        tg === undefined ? undefined : replyWith(response, targetGroupXml(tg)),
      );
    },
  };
}

export function nameRules(): StrictRule[] {
  return [loadBalancerNameIdempotent(), targetGroupNameIdempotent()];
}

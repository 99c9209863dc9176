import { testClients } from '../../support/aws.js';
import type { AwsRequest, RuleEnv, UpstreamResponse } from '../../support/strict-aws/types.js';

export function request(
  service: string,
  operation: string,
  params: Record<string, unknown> = {},
): AwsRequest {
  const protocol =
    service === 'ec2'
      ? 'ec2'
      : ['ecs', 'ecr', 'secretsmanager', 'logs'].includes(service)
        ? 'json'
        : 'query';
  return { service, operation, region: 'us-east-1', protocol, params, stack: undefined };
}

export function ok(body: string | object): UpstreamResponse {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'content-length': '1' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

/** An env whose moto clients must not be used (rules that need no state). */
export const noMoto: RuleEnv = {
  moto: () => {
    throw new Error('this rule should not look at moto');
  },
  random: () => 0.5,
  now: () => 0,
};

export function motoEnv(endpoint: string): RuleEnv {
  const clients = testClients(endpoint);
  return { moto: () => clients, random: () => 0.5, now: () => 0 };
}

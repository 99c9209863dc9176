import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeClustersCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startStrictProxy, type StrictProxy } from '../../support/strict-aws/proxy.js';
import type { AwsErrorReply, AwsRequest, StrictRule } from '../../support/strict-aws/types.js';

interface Seen {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let upstream: Server | undefined;
let proxy: StrictProxy | undefined;

async function fakeMoto(answer: string): Promise<{ endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => upstream?.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  await proxy?.stop();
  await new Promise((resolve) => (upstream ? upstream.close(resolve) : resolve(undefined)));
  proxy = undefined;
  upstream = undefined;
});

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function refusing(code: string, status = 403): StrictRule & { seen: AwsRequest[] } {
  const seen: AwsRequest[] = [];
  return {
    name: 'refuse',
    source: 'test',
    seen,
    before(request) {
      seen.push(request);
      return Promise.resolve<AwsErrorReply>({
        status,
        code,
        message: `refused ${request.operation}`,
      });
    },
  };
}

describe('the strict proxy', () => {
  it('forwards a request to moto with its body and headers unchanged and returns moto bytes', async () => {
    const answer =
      '<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcSet><item><vpcId>vpc-1</vpcId></item></vpcSet></DescribeVpcsResponse>';
    const moto = await fakeMoto(answer);
    proxy = await startStrictProxy({ motoEndpoint: moto.endpoint, seed: 's', rules: [] });
    const ec2 = new EC2Client({ region: 'us-east-1', endpoint: proxy.endpoint, credentials });
    const out = await ec2.send(new DescribeVpcsCommand({ VpcIds: ['vpc-1'] }));
    expect(out.Vpcs?.[0]?.VpcId).toBe('vpc-1');
    expect(moto.seen[0]?.body).toContain('Action=DescribeVpcs');
    expect(moto.seen[0]?.body).toContain('VpcId.1=vpc-1');
    expect(moto.seen[0]?.headers.authorization).toContain('/us-east-1/ec2/aws4_request');
  });

  it('answers a refusal in the shape the real SDK parses, for EC2, ELBv2 and JSON clients, without reaching moto', async () => {
    const moto = await fakeMoto('');
    const rule = refusing('AccessDenied');
    proxy = await startStrictProxy({ motoEndpoint: moto.endpoint, seed: 's', rules: [rule] });
    const config = { region: 'eu-west-1', endpoint: proxy.endpoint, credentials, maxAttempts: 1 };
    await expect(new EC2Client(config).send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'refused DescribeVpcs',
    });
    await expect(
      new ElasticLoadBalancingV2Client(config).send(new DescribeLoadBalancersCommand({})),
    ).rejects.toMatchObject({ name: 'AccessDenied', message: 'refused DescribeLoadBalancers' });
    await expect(new ECSClient(config).send(new DescribeClustersCommand({}))).rejects.toMatchObject(
      {
        name: 'AccessDenied',
      },
    );
    expect(moto.seen).toEqual([]);
    expect(rule.seen.map((r) => `${r.service}:${r.operation}:${r.region}`)).toEqual([
      'ec2:DescribeVpcs:eu-west-1',
      'elasticloadbalancing:DescribeLoadBalancers:eu-west-1',
      'ecs:DescribeClusters:eu-west-1',
    ]);
  });

  it('passes /moto-api through and resets every rule on /moto-api/reset', async () => {
    const moto = await fakeMoto('{}');
    let resets = 0;
    const rule: StrictRule = { name: 'r', source: 't', reset: () => (resets += 1) };
    proxy = await startStrictProxy({ motoEndpoint: moto.endpoint, seed: 's', rules: [rule] });
    await fetch(`${proxy.endpoint}/moto-api/data.json`);
    expect(resets).toBe(0);
    const response = await fetch(`${proxy.endpoint}/moto-api/reset`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(resets).toBe(1);
    expect(moto.seen.map((s) => s.url)).toEqual(['/moto-api/data.json', '/moto-api/reset']);
  });

  it('gives rules seeded randomness: the same seed replays the same draws', async () => {
    const moto = await fakeMoto('');
    const draws = async (seed: string): Promise<number[]> => {
      const got: number[] = [];
      const rule: StrictRule = {
        name: 'draw',
        source: 't',
        before: (_request, env) => {
          got.push(env.random('k'));
          return Promise.resolve({ status: 400, code: 'X', message: 'x' });
        },
      };
      const p = await startStrictProxy({ motoEndpoint: moto.endpoint, seed, rules: [rule] });
      const ecs = new ECSClient({
        region: 'us-east-1',
        endpoint: p.endpoint,
        credentials,
        maxAttempts: 1,
      });
      for (let i = 0; i < 3; i += 1)
        await ecs.send(new DescribeClustersCommand({})).catch(() => undefined);
      await p.stop();
      return got;
    };
    const first = await draws('seed-a');
    expect(await draws('seed-a')).toEqual(first);
    expect(await draws('seed-b')).not.toEqual(first);
    expect(new Set(first).size).toBe(3);
  });

  it('routes POST /strict-aws/<command> to the rules and answers 404 when none handles it', async () => {
    const moto = await fakeMoto('');
    const rule: StrictRule = { name: 'c', source: 't', control: (command) => command === 'known' };
    proxy = await startStrictProxy({ motoEndpoint: moto.endpoint, seed: 's', rules: [rule] });
    expect(
      (await fetch(`${proxy.endpoint}/strict-aws/known`, { method: 'POST', body: '{}' })).status,
    ).toBe(200);
    expect(
      (await fetch(`${proxy.endpoint}/strict-aws/other`, { method: 'POST', body: '{}' })).status,
    ).toBe(404);
  });
});

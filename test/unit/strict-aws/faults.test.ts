import { describe, expect, it } from 'vitest';
import { faultRule } from '../../support/strict-aws/rules/faults.js';
import { seededRandom } from '../../support/strict-aws/random.js';
import type { AwsRequest, RuleEnv, WireProtocol } from '../../support/strict-aws/types.js';

function env(seed: string): RuleEnv {
  const r = seededRandom(seed);
  return {
    moto: () => {
      throw new Error('unused');
    },
    random: (k) => r.random(k),
    now: () => 0,
  };
}

function call(protocol: WireProtocol, operation = 'Describe'): AwsRequest {
  const service = {
    ec2: 'ec2',
    query: 'elasticloadbalancing',
    json: 'ecs',
    'rest-xml': 'cloudfront',
  }[protocol];
  return { service, operation, region: 'us-east-1', protocol, params: {}, stack: 'iclinic' };
}

async function run(seed: string, protocol: WireProtocol, calls: number, share?: number) {
  const rule = faultRule(share === undefined ? {} : { share });
  const e = env(seed);
  const out = [];
  for (let i = 0; i < calls; i += 1) out.push(await rule.before?.(call(protocol), e));
  return out;
}

describe('injected faults', () => {
  it('hit about the configured share of calls', async () => {
    const replies = await run('share', 'json', 5000);
    const injected = replies.filter((r) => r !== undefined).length;
    expect(injected / 5000).toBeGreaterThan(0.01);
    expect(injected / 5000).toBeLessThan(0.03);
  });

  it('never hit the same operation twice in a row, so SDK retries always get through', async () => {
    const replies = await run('row', 'ec2', 2000, 0.5);
    for (let i = 1; i < replies.length; i += 1) {
      expect(replies[i] !== undefined && replies[i - 1] !== undefined).toBe(false);
    }
  });

  it('use each protocol’s throttling code and otherwise HTTP 500/503', async () => {
    const codes = (replies: Awaited<ReturnType<typeof run>>) =>
      new Set(replies.filter((r) => r !== undefined).map((r) => `${r.status} ${r.code}`));
    expect(codes(await run('c', 'ec2', 400, 0.5))).toEqual(
      new Set(['503 RequestLimitExceeded', '500 InternalError', '503 Unavailable']),
    );
    expect(codes(await run('c', 'query', 400, 0.5))).toContain('400 Throttling');
    const json = codes(await run('c', 'json', 400, 0.5));
    expect(json).toContain('400 ThrottlingException');
    expect([...json].some((c) => c.startsWith('500 ') || c.startsWith('503 '))).toBe(true);
  });

  it('replay identically under the same seed and differ under another', async () => {
    const pattern = async (seed: string) =>
      (await run(seed, 'json', 600)).map((r) => r?.code ?? '-').join(',');
    expect(await pattern('seed-1')).toBe(await pattern('seed-1'));
    expect(await pattern('seed-1')).not.toBe(await pattern('seed-2'));
  });
});

import { CreateSubnetCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../../../../provision/plan.js';
import { ensureNetwork, NetworkError } from '../../../../../provision/resources/network/index.js';
import { mutatingOperations } from '../../../support/context.js';
import { fakeNetworkContext, type FakeEc2 } from '../../../support/network-fake-ec2.js';

const settings = { containerPort: 8080, https: false };

function zones(region: string, pairs: [string, string][]) {
  return pairs.map(([ZoneName, ZoneId]) => ({
    ZoneName,
    ZoneId,
    RegionName: region,
    State: 'available' as const,
    ZoneType: 'availability-zone',
  }));
}

function subnetZones(fake: FakeEc2): string[] {
  return fake.subnets.map((s) => s.AvailabilityZone ?? '').sort();
}

describe('ensureNetwork zone choice', () => {
  it('moves off a zone that refuses subnets, also on the second run', async () => {
    const { ctx, fake } = fakeNetworkContext();
    fake.zones = zones('ap-northeast-1', [
      ['ap-northeast-1a', 'apne1-az4'],
      ['ap-northeast-1b', 'apne1-az3'],
      ['ap-northeast-1c', 'apne1-az1'],
    ]);
    fake.subnetRefusedZones.add('ap-northeast-1b');

    const first = await ensureNetwork(ctx, settings);
    const second = await ensureNetwork(ctx, settings);

    expect([...first.value.availabilityZones].sort()).toEqual([
      'ap-northeast-1a',
      'ap-northeast-1c',
    ]);
    expect(second.value).toEqual(first.value);
    expect(subnetZones(fake)).toEqual(['ap-northeast-1a', 'ap-northeast-1c']);
  });

  it('takes a zone the refusal message names when the refused zone runs Fargate', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    fake.zones = zones('us-east-1', [
      ['us-east-1a', 'use1-az6'],
      ['us-east-1b', 'use1-az1'],
      ['us-east-1c', 'use1-az2'],
    ]);
    fake.subnetRefusedZones.add('us-east-1b');

    const result = await ensureNetwork(ctx, settings);

    expect([...result.value.availabilityZones].sort()).toEqual(['us-east-1a', 'us-east-1c']);
    const tried = ec2
      .commandCalls(CreateSubnetCommand)
      .map((c) => c.args[0].input.AvailabilityZone);
    expect(tried.filter((z) => z === 'us-east-1b')).toHaveLength(1);
  });

  it('adds the missing subnet in a zone that accepts it when the other subnet already exists', async () => {
    const { ctx, fake } = fakeNetworkContext();
    fake.zones = zones('us-east-1', [
      ['us-east-1a', 'use1-az6'],
      ['us-east-1b', 'use1-az1'],
      ['us-east-1c', 'use1-az2'],
    ]);
    await ensureNetwork(ctx, settings);
    // As if the run had stopped at the second subnet, whose zone now refuses subnets.
    const lost = fake.subnets.findIndex((s) => s.CidrBlock === '10.0.1.0/24');
    const [removed] = fake.subnets.splice(lost, 1);
    fake.subnetRefusedZones.add(removed?.AvailabilityZone ?? '');
    const kept = fake.subnets[0]?.AvailabilityZone;

    const second = await ensureNetwork(ctx, settings);
    const third = await ensureNetwork(ctx, settings);

    const good = ['us-east-1a', 'us-east-1b', 'us-east-1c'].filter(
      (z) => z !== kept && !fake.subnetRefusedZones.has(z),
    );
    expect(second.value.availabilityZones).toEqual([kept, ...good]);
    expect(third.value).toEqual(second.value);
    expect(outcomeOf(third.changes)).toBe('unchanged');
  });

  it('never chooses a zone id where Fargate does not run', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    fake.zones = zones('us-west-1', [
      ['us-west-1a', 'usw1-az2'],
      ['us-west-1b', 'usw1-az1'],
      ['us-west-1c', 'usw1-az3'],
    ]);

    const result = await ensureNetwork(ctx, settings);

    expect([...result.value.availabilityZones].sort()).toEqual(['us-west-1b', 'us-west-1c']);
    const tried = ec2
      .commandCalls(CreateSubnetCommand)
      .map((c) => c.args[0].input.AvailabilityZone);
    expect(tried).not.toContain('us-west-1a');
  });

  it('stops before creating a subnet with fewer than two usable zones, naming the zones seen', async () => {
    const { ctx, ec2, fake } = fakeNetworkContext();
    fake.zones = zones('ap-northeast-1', [
      ['ap-northeast-1a', 'apne1-az3'],
      ['ap-northeast-1c', 'apne1-az1'],
    ]);

    const error = await ensureNetwork(ctx, settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(String(error)).toMatch(/ap-northeast-1a \(apne1-az3/);
    expect(String(error)).toMatch(/ap-northeast-1c \(apne1-az1/);
    expect(String(error)).toMatch(/--region/);
    expect(mutatingOperations(ec2).filter((o) => o === 'CreateSubnet')).toEqual([]);
  });

  it('stops with a clear error when every zone refuses subnets', async () => {
    const { ctx, fake } = fakeNetworkContext();
    for (const z of fake.zones) fake.subnetRefusedZones.add(z.ZoneName ?? '');

    const error = await ensureNetwork(ctx, settings).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect(String(error)).toMatch(/refused/);
    expect(String(error)).toMatch(/--region/);
  });
});

import { GetHostedZoneCommand, ListHostedZonesCommand } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { findHostedZone } from '../../../../../provision/resources/domain/zone.js';
import { testContext } from '../../../support/context.js';

const zone = (id: string, name: string, privateZone = false) => ({
  Id: `/hostedzone/${id}`,
  Name: `${name}.`,
  CallerReference: id,
  Config: { PrivateZone: privateZone },
});

function withZones(zones: ReturnType<typeof zone>[]) {
  const setup = testContext();
  setup.mocks.route53
    .on(ListHostedZonesCommand)
    .resolves({ HostedZones: zones, IsTruncated: false, Marker: '', MaxItems: 100 });
  return setup;
}

describe('findHostedZone', () => {
  it('picks the public zone with the longest name that holds the domain', async () => {
    const { ctx } = withZones([
      zone('ZPARENT', 'example.com'),
      zone('ZCHILD', 'api.example.com'),
      zone('ZOTHER', 'example.org'),
    ]);
    expect(await findHostedZone(ctx, 'v1.api.example.com')).toEqual({
      id: 'ZCHILD',
      name: 'api.example.com',
    });
  });

  it('ignores private zones (split horizon): they do not answer on the internet', async () => {
    const { ctx } = withZones([
      zone('ZPUBLIC', 'example.com'),
      zone('ZPRIVATE', 'api.example.com', true),
    ]);
    expect((await findHostedZone(ctx, 'api.example.com'))?.id).toBe('ZPUBLIC');
  });

  it('answers undefined when no zone of the account holds the domain (DNS elsewhere)', async () => {
    const { ctx } = withZones([zone('ZOTHER', 'example.org')]);
    expect(await findHostedZone(ctx, 'api.example.com')).toBeUndefined();
  });

  it('asks for --hosted-zone-id when two public zones have the same longest name', async () => {
    const { ctx } = withZones([zone('ZONE1', 'example.com'), zone('ZONE2', 'example.com')]);
    await expect(findHostedZone(ctx, 'api.example.com')).rejects.toThrow(
      '2 public hosted zones are named example.com (ZONE1, ZONE2); only the one the domain registrar delegates to answers. Pass its id with --hosted-zone-id',
    );
  });

  it('takes the zone --hosted-zone-id names when it holds the domain', async () => {
    const { ctx, mocks } = withZones([]);
    mocks.route53.on(GetHostedZoneCommand).resolves({ HostedZone: zone('ZONE2', 'example.com') });
    expect(await findHostedZone(ctx, 'api.example.com', '/hostedzone/ZONE2')).toEqual({
      id: 'ZONE2',
      name: 'example.com',
    });
  });

  it('refuses a --hosted-zone-id whose zone cannot hold the domain', async () => {
    const { ctx, mocks } = withZones([]);
    mocks.route53.on(GetHostedZoneCommand).resolves({ HostedZone: zone('ZONE9', 'example.org') });
    await expect(findHostedZone(ctx, 'api.example.com', 'ZONE9')).rejects.toThrow(
      '--hosted-zone-id ZONE9 is the public zone example.org, which cannot answer for api.example.com',
    );
  });
});

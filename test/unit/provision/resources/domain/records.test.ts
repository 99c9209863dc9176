import {
  ChangeResourceRecordSetsCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import {
  aliasRecords,
  ensureRecords,
  removeRecords,
  validationRecord,
} from '../../../../../provision/resources/domain/records.js';
import { callInputs, mutatingOperations, testContext } from '../../../support/context.js';

const ZONE = { id: 'ZONE1', name: 'example.com' };
const DISTRIBUTION = 'd111111abcdef8.cloudfront.net';

/** A zone holding these records; ListResourceRecordSets answers from the start name and type. */
function zoneWith(records: ResourceRecordSet[]) {
  const setup = testContext();
  setup.mocks.route53.on(ListResourceRecordSetsCommand).callsFake((input) => {
    const { StartRecordName: name, StartRecordType: type } = input as {
      StartRecordName: string;
      StartRecordType: string;
    };
    const found = records.filter((r) => r.Name === name && r.Type === type);
    return { ResourceRecordSets: found, IsTruncated: false, MaxItems: 1 };
  });
  setup.mocks.route53.on(ChangeResourceRecordSetsCommand).resolves({
    ChangeInfo: { Id: 'C1', Status: 'PENDING', SubmittedAt: new Date() },
  });
  return setup;
}

const theirs: ResourceRecordSet = {
  Name: 'api.example.com.',
  Type: 'A',
  TTL: 300,
  ResourceRecords: [{ Value: '192.0.2.10' }],
};

describe('ensureRecords', () => {
  it('creates the A and AAAA aliases to the distribution with the CloudFront zone id, nothing else', async () => {
    const { ctx, mocks } = zoneWith([]);
    const result = await ensureRecords(ctx, ZONE, aliasRecords('api.example.com', DISTRIBUTION));
    expect(result.changes.map((c) => c.name)).toEqual([
      'api.example.com A',
      'api.example.com AAAA',
    ]);
    const change = callInputs(mocks.route53).find(
      (c) => c.operation === 'ChangeResourceRecordSets',
    );
    expect(change?.input).toMatchObject({
      HostedZoneId: 'ZONE1',
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: 'api.example.com.',
              Type: 'A',
              AliasTarget: { HostedZoneId: 'Z2FDTNDATAQYW2', DNSName: `${DISTRIBUTION}.` },
            },
          },
          { Action: 'CREATE', ResourceRecordSet: { Type: 'AAAA' } },
        ],
      },
    });
  });

  it('changes nothing when the records are already there', async () => {
    const { ctx, mocks } = zoneWith(aliasRecords('api.example.com', DISTRIBUTION.toUpperCase()));
    const result = await ensureRecords(ctx, ZONE, aliasRecords('api.example.com', DISTRIBUTION));
    expect(result.changes).toEqual([]);
    expect(mutatingOperations(mocks.route53)).toEqual([]);
  });

  it("refuses to overwrite the user's own record at the name, and says which it found", async () => {
    const { ctx, mocks } = zoneWith([theirs]);
    await expect(
      ensureRecords(ctx, ZONE, aliasRecords('api.example.com', DISTRIBUTION)),
    ).rejects.toThrow(
      'already has a A record api.example.com -> 192.0.2.10, which the tool did not write',
    );
    expect(mutatingOperations(mocks.route53)).toEqual([]);
  });

  it('refuses an alias where the user has a CNAME, which cannot share its name', async () => {
    const { ctx } = zoneWith([
      {
        Name: 'api.example.com.',
        Type: 'CNAME',
        TTL: 60,
        ResourceRecords: [{ Value: 'x.example.net' }],
      },
    ]);
    await expect(
      ensureRecords(ctx, ZONE, aliasRecords('api.example.com', DISTRIBUTION)),
    ).rejects.toThrow('CNAME record api.example.com -> x.example.net');
  });
});

describe('removeRecords', () => {
  it('deletes the records that match name, type and value, repeating them as Route 53 has them', async () => {
    const ours = aliasRecords('api.example.com', DISTRIBUTION);
    const validation = validationRecord({
      name: '_abc.api.example.com.',
      type: 'CNAME',
      value: '_def.acm-validations.aws.',
    });
    const { ctx, mocks } = zoneWith([...ours, validation]);
    const removal = await removeRecords(ctx, ZONE, [...ours, validation]);
    expect(removal.changes.map((c) => c.name)).toEqual([
      'api.example.com A',
      'api.example.com AAAA',
      '_abc.api.example.com CNAME',
    ]);
    const deleted = callInputs(mocks.route53).find(
      (c) => c.operation === 'ChangeResourceRecordSets',
    )?.input as {
      ChangeBatch: { Changes: { Action: string; ResourceRecordSet: ResourceRecordSet }[] };
    };
    expect(deleted.ChangeBatch.Changes).toEqual(
      [...ours, validation].map((record) => ({ Action: 'DELETE', ResourceRecordSet: record })),
    );
  });

  it("leaves the user's record at the same name and type with another value", async () => {
    const ours = aliasRecords('api.example.com', DISTRIBUTION);
    const [, aaaa] = ours;
    const { ctx } = zoneWith(aaaa === undefined ? [theirs] : [theirs, aaaa]);
    const removal = await removeRecords(ctx, ZONE, ours);
    expect(removal.changes.map((c) => c.name)).toEqual(['api.example.com AAAA']);
  });

  it('makes no call that changes anything when none of the records is there', async () => {
    const { ctx, mocks } = zoneWith([theirs]);
    const removal = await removeRecords(ctx, ZONE, aliasRecords('api.example.com', DISTRIBUTION));
    expect(removal.changes).toEqual([]);
    expect(mutatingOperations(mocks.route53)).toEqual([]);
  });
});

import { DescribeCertificateCommand } from '@aws-sdk/client-acm';
import {
  ChangeResourceRecordSetsCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import type { CertificateInfo } from '../../../../../provision/resources/certificate/index.js';
import {
  removeDomainRecords,
  waitForDomainCertificate,
} from '../../../../../provision/resources/domain/index.js';
import {
  aliasRecords,
  validationRecord,
} from '../../../../../provision/resources/domain/records.js';
import { callInputs, testContext } from '../../../support/context.js';

const DISTRIBUTION = 'd111111abcdef8.cloudfront.net';

function validationOf(domain: string) {
  return { name: `_v.${domain}.`, type: 'CNAME', value: `_${domain}.acm-validations.aws.` };
}

function certificate(domain: string, arn = `arn:${domain}`): CertificateInfo {
  return { arn, domain, status: 'ISSUED', validation: validationOf(domain), inUseBy: [] };
}

/** One zone, example.com, holding these records. */
function zoneWith(records: ResourceRecordSet[]) {
  const setup = testContext();
  setup.mocks.route53.on(ListHostedZonesCommand).resolves({
    HostedZones: [{ Id: '/hostedzone/ZONE1', Name: 'example.com.', CallerReference: 'r' }],
    IsTruncated: false,
    Marker: '',
    MaxItems: 100,
  });
  setup.mocks.route53.on(ListResourceRecordSetsCommand).callsFake((input) => {
    const { StartRecordName: name, StartRecordType: type } = input as Record<string, string>;
    return { ResourceRecordSets: records.filter((r) => r.Name === name && r.Type === type) };
  });
  setup.mocks.route53.on(ChangeResourceRecordSetsCommand).resolves({});
  return setup;
}

function deletedNames(mock: Parameters<typeof callInputs>[0]): string[] {
  return callInputs(mock)
    .filter((c) => c.operation === 'ChangeResourceRecordSets')
    .flatMap(
      (c) =>
        (c.input as { ChangeBatch: { Changes: { ResourceRecordSet: ResourceRecordSet }[] } })
          .ChangeBatch.Changes,
    )
    .map(
      (change) => `${change.ResourceRecordSet.Name ?? ''} ${change.ResourceRecordSet.Type ?? ''}`,
    );
}

describe('removeDomainRecords', () => {
  const old = certificate('api.example.com');
  const current = certificate('app.example.com');
  const records = [
    ...aliasRecords('api.example.com', DISTRIBUTION),
    validationRecord(validationOf('api.example.com')),
    ...aliasRecords('app.example.com', DISTRIBUTION),
    validationRecord(validationOf('app.example.com')),
  ];

  it("removes an earlier domain's aliases and validation record, and keeps the current domain's", async () => {
    const { ctx, mocks } = zoneWith(records);
    await removeDomainRecords(
      ctx,
      { keep: current, distributionDomain: DISTRIBUTION },
      { stack: [old, current], othersDomains: [] },
    );
    expect(deletedNames(mocks.route53)).toEqual([
      'api.example.com. A',
      'api.example.com. AAAA',
      '_v.api.example.com. CNAME',
    ]);
  });

  it("keeps the validation record while a certificate that is not the stack's has the same name", async () => {
    const { ctx, mocks } = zoneWith(records);
    await removeDomainRecords(
      ctx,
      { distributionDomain: DISTRIBUTION },
      { stack: [old], othersDomains: ['api.example.com'] },
    );
    expect(deletedNames(mocks.route53)).toEqual(['api.example.com. A', 'api.example.com. AAAA']);
  });

  it('removes no alias when there is no distribution the aliases could point to', async () => {
    const { ctx, mocks } = zoneWith(records);
    await removeDomainRecords(ctx, {}, { stack: [old], othersDomains: [] });
    expect(deletedNames(mocks.route53)).toEqual(['_v.api.example.com. CNAME']);
  });
});

describe('waitForDomainCertificate with the DNS elsewhere', () => {
  it('prints the validation CNAME and the CNAME of the name to the distribution before it waits', async () => {
    const { ctx, mocks, report } = testContext();
    const pending = { ...certificate('api.example.org'), status: 'PENDING_VALIDATION' };
    mocks.acm.on(DescribeCertificateCommand).resolves({
      Certificate: { CertificateArn: pending.arn, DomainName: pending.domain, Status: 'ISSUED' },
    });
    await waitForDomainCertificate(
      ctx,
      { domain: 'api.example.org', zone: undefined, certificate: pending },
      { timeoutMs: 60_000, distributionDomain: DISTRIBUTION },
    );
    expect(report.warnings).toEqual([
      [
        'No Route 53 hosted zone of this account holds api.example.org: create these records where its DNS is hosted:',
        '  _v.api.example.org.  CNAME  _api.example.org.acm-validations.aws.    (lets ACM issue the certificate)',
        `  api.example.org.  CNAME  ${DISTRIBUTION}.    (sends api.example.org to CloudFront)`,
      ].join('\n'),
    ]);
  });
});

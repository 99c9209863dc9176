import {
  DescribeCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import { GetDistributionConfigCommand, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import {
  ChangeResourceRecordSetsCommand,
  CreateHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { beforeEach, describe, expect, it } from 'vitest';
import { STACK_TAG_KEY } from '../../provision/names.js';
import { CLOUDFRONT_HOSTED_ZONE_ID } from '../../provision/resources/domain/index.js';
import { runCli, type CliResult } from '../support/cli.js';
import { aws, endpoint, upArgs } from '../support/e2e.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

interface JsonRecord {
  awsCalls: { total: number; mutating: number; byOperation: Record<string, number> };
  result?: { url?: string; domain?: { name: string; zone?: string; distributionDomain: string } };
  error?: { message: string };
}

function parse(result: CliResult): JsonRecord {
  const record = JSON.parse(result.stdout) as JsonRecord;
  expect(record.error?.message, result.stderr).toBeUndefined();
  expect(result.code).toBe(0);
  return record;
}

const up = async (...extra: string[]) =>
  parse(await runCli(upArgs('--json', ...extra), { endpoint }));
const down = async () => parse(await runCli(['down', '--yes', '--json'], { endpoint }));

/** The user's zone, with a record of their own that nothing may touch. */
async function userZone(name = 'example.com'): Promise<string> {
  const out = await aws.route53.send(
    new CreateHostedZoneCommand({ Name: name, CallerReference: `${name}-${Date.now()}` }),
  );
  const id = (out.HostedZone?.Id ?? '').replace('/hostedzone/', '');
  await aws.route53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: id,
      ChangeBatch: {
        Changes: [
          {
            Action: 'CREATE',
            ResourceRecordSet: {
              Name: `www.${name}.`,
              Type: 'A',
              TTL: 300,
              ResourceRecords: [{ Value: '192.0.2.10' }],
            },
          },
        ],
      },
    }),
  );
  return id;
}

async function records(zoneId: string): Promise<ResourceRecordSet[]> {
  const out = await aws.route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId }));
  return out.ResourceRecordSets ?? [];
}

/** "name type value" lines, NS and SOA (the zone's own) left out. */
async function recordLines(zoneId: string): Promise<string[]> {
  return (await records(zoneId))
    .filter((r) => r.Type !== 'NS' && r.Type !== 'SOA')
    .map((r) => {
      const value =
        r.AliasTarget !== undefined
          ? `alias ${r.AliasTarget.HostedZoneId} ${r.AliasTarget.DNSName}`
          : (r.ResourceRecords ?? []).map((v) => v.Value).join(',');
      return `${r.Name} ${r.Type} ${value}`;
    })
    .sort();
}

async function theDistribution() {
  const list = await aws.cloudfront.send(new ListDistributionsCommand({}));
  const summary = list.DistributionList?.Items?.[0];
  const config = await aws.cloudfront.send(new GetDistributionConfigCommand({ Id: summary?.Id }));
  return { domainName: summary?.DomainName ?? '', config: config.DistributionConfig };
}

async function stackCertificates() {
  const list = await aws.acm.send(new ListCertificatesCommand({}));
  const found = [];
  for (const summary of list.CertificateSummaryList ?? []) {
    const arn = summary.CertificateArn ?? '';
    const tags = await aws.acm.send(new ListTagsForCertificateCommand({ CertificateArn: arn }));
    if (tags.Tags?.some((t) => t.Key === STACK_TAG_KEY && t.Value === 'iclinic')) {
      const detail = await aws.acm.send(new DescribeCertificateCommand({ CertificateArn: arn }));
      found.push(detail.Certificate);
    }
  }
  return found;
}

beforeEach(async () => {
  await resetMoto(endpoint);
});

describe('up --domain with the zone in Route 53', () => {
  it('issues a certificate in us-east-1, puts the name on the distribution and writes the alias and validation records', async () => {
    const zoneId = await userZone();
    const record = await up('--domain', 'api.example.com', '--region', 'sa-east-1');
    expect(record.result?.url).toBe('https://api.example.com');
    const certificates = await stackCertificates();
    expect(certificates.map((c) => [c?.DomainName, c?.Status])).toEqual([
      ['api.example.com', 'ISSUED'],
    ]);
    const arn = certificates[0]?.CertificateArn ?? '';
    expect(arn).toMatch(/^arn:aws:acm:us-east-1:/);
    const { domainName, config } = await theDistribution();
    expect(config?.Aliases?.Items).toEqual(['api.example.com']);
    expect(config?.ViewerCertificate).toMatchObject({
      ACMCertificateArn: arn,
      SSLSupportMethod: 'sni-only',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
    const validation = certificates[0]?.DomainValidationOptions?.[0]?.ResourceRecord;
    expect(await recordLines(zoneId)).toEqual(
      [
        `api.example.com. A alias ${CLOUDFRONT_HOSTED_ZONE_ID} ${domainName}.`,
        `api.example.com. AAAA alias ${CLOUDFRONT_HOSTED_ZONE_ID} ${domainName}.`,
        `${validation?.Name ?? '?'} CNAME ${validation?.Value ?? '?'}`,
        'www.example.com. A 192.0.2.10',
      ].sort(),
    );
  });

  it('makes no mutating call on a second up with the same --domain', async () => {
    await userZone();
    await up('--domain', 'api.example.com');
    const second = await up('--domain', 'api.example.com');
    expect(second.awsCalls.mutating, JSON.stringify(second.awsCalls.byOperation)).toBe(0);
  });

  it('status shows the domain, the issued certificate and the records in the zone', async () => {
    await userZone();
    await up('--domain', 'api.example.com');
    const { domainName } = await theDistribution();
    const status = await runCli(['status'], { endpoint });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('Domain:   https://api.example.com/');
    expect(status.stdout).toMatch(
      /Cert: {5}ISSUED, expires \d{4}-\d{2}-\d{2} \(arn:aws:acm:us-east-1:/,
    );
    expect(status.stdout).toContain('Records:  in the Route 53 zone example.com');
    expect(status.stdout).toContain(`api.example.com A: alias ${domainName}`);
    expect(status.stdout).toContain(`api.example.com AAAA: alias ${domainName}`);
  });

  it('chooses the longest zone that holds the name', async () => {
    const parent = await userZone('example.com');
    const child = await userZone('api.example.com');
    await up('--domain', 'api.example.com');
    expect((await recordLines(parent)).filter((l) => l.startsWith('api.'))).toEqual([]);
    const types = (await recordLines(child))
      .filter((l) => l.startsWith('api.example.com. '))
      .map((l) => l.split(' ')[1]);
    expect(types).toEqual(['A', 'AAAA']);
  });

  it('down leaves the zone with only the records it had before, and deletes the certificate', async () => {
    const zoneId = await userZone();
    const before = await recordLines(zoneId);
    await up('--domain', 'api.example.com');
    await down();
    expect(await recordLines(zoneId)).toEqual(before);
    expect(await stackCertificates()).toEqual([]);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });

  it("keeps a certificate of the same name that is not the stack's, and its validation record", async () => {
    const zoneId = await userZone();
    const theirs = await aws.acm.send(
      new RequestCertificateCommand({ DomainName: 'api.example.com', ValidationMethod: 'DNS' }),
    );
    await up('--domain', 'api.example.com');
    await down();
    const left = await aws.acm.send(new ListCertificatesCommand({}));
    expect(left.CertificateSummaryList?.map((c) => c.CertificateArn)).toEqual([
      theirs.CertificateArn,
    ]);
    expect((await recordLines(zoneId)).filter((l) => l.includes('CNAME'))).toHaveLength(1);
  });

  it("moves to a changed --domain and removes the old name's records and certificate", async () => {
    const zoneId = await userZone();
    const before = await recordLines(zoneId);
    await up('--domain', 'api.example.com');
    await up('--domain', 'app.example.com');
    const { config } = await theDistribution();
    expect(config?.Aliases?.Items).toEqual(['app.example.com']);
    expect((await stackCertificates()).map((c) => c?.DomainName)).toEqual(['app.example.com']);
    const now = await recordLines(zoneId);
    expect(now.filter((l) => l.includes('api.example.com'))).toEqual([]);
    expect(now.filter((l) => l.startsWith('app.example.com.'))).toHaveLength(2);
    await down();
    expect(await recordLines(zoneId)).toEqual(before);
  });

  it('refuses to overwrite a record of the user at the name, and says which', async () => {
    const zoneId = await userZone();
    const result = await runCli(upArgs('--json', '--domain', 'www.example.com'), { endpoint });
    expect(result.code).toBe(1);
    const record = JSON.parse(result.stdout) as JsonRecord;
    expect(record.error?.message).toContain('already has a A record www.example.com -> 192.0.2.10');
    expect((await recordLines(zoneId)).filter((l) => l.startsWith('www.'))).toEqual([
      'www.example.com. A 192.0.2.10',
    ]);
  });
});

describe('up --domain with the DNS elsewhere', () => {
  it('prints the validation CNAME and the CNAME to the distribution, waits for the certificate, and writes no record', async () => {
    const result = await runCli(upArgs('--domain', 'api.example.org'), { endpoint });
    expect(result.code, result.stderr).toBe(0);
    const { domainName, config } = await theDistribution();
    const [certificate] = await stackCertificates();
    const validation = certificate?.DomainValidationOptions?.[0]?.ResourceRecord;
    expect(result.stderr).toContain(
      'No Route 53 hosted zone of this account holds api.example.org',
    );
    expect(result.stderr).toContain(
      `${validation?.Name ?? '?'}  CNAME  ${validation?.Value ?? '?'}`,
    );
    expect(result.stderr).toContain(`api.example.org.  CNAME  ${domainName}.`);
    expect(result.stderr).toMatch(/Wait for ACM to validate the domain/);
    expect(config?.Aliases?.Items).toEqual(['api.example.org']);
    expect(result.stdout).toContain(`api.example.org. CNAME ${domainName}.`);
  });
});

describe('up --domain usage errors', () => {
  it('exits 2 and creates nothing for --plain-http with it, a wildcard, an IP, a long label or name, or a zone without it', async () => {
    const refused = [
      ['--domain', 'api.example.com', '--plain-http'],
      ['--domain', '*.example.com'],
      ['--domain', '192.0.2.1'],
      ['--domain', `${'a'.repeat(64)}.example.com`],
      // 254 characters: one over the 253 of a DNS name.
      ['--domain', `${'abcdefghi.'.repeat(25)}comm`],
      ['--hosted-zone-id', 'Z123'],
    ];
    const codes = [];
    for (const flags of refused) codes.push((await runCli(upArgs(...flags), { endpoint })).code);
    expect(codes).toEqual(refused.map(() => 2));
    const list = await aws.acm.send(new ListCertificatesCommand({}));
    expect(list.CertificateSummaryList ?? []).toEqual([]);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
  });
});

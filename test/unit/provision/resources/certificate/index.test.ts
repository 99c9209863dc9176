import {
  DeleteCertificateCommand,
  DescribeCertificateCommand,
  ListCertificatesCommand,
  ListTagsForCertificateCommand,
  RequestCertificateCommand,
} from '@aws-sdk/client-acm';
import { describe, expect, it } from 'vitest';
import {
  ensureCertificate,
  listCertificates,
  removeCertificate,
} from '../../../../../provision/resources/certificate/index.js';
import { awsError, callInputs, mutatingOperations, testContext } from '../../../support/context.js';

const arn = (id: string) => `arn:aws:acm:us-east-1:123456789012:certificate/${id}`;
const stackTags = [
  { Key: 'iclinic-deploy:stack', Value: 'iclinic' },
  { Key: 'iclinic-deploy:region', Value: 'us-east-1' },
];

/** An account with these certificates: [id, domain, status, tags]. */
function account(
  certificates: readonly [string, string, string, { Key: string; Value: string }[]][],
) {
  const setup = testContext();
  setup.mocks.acm.on(ListCertificatesCommand).resolves({
    CertificateSummaryList: certificates.map(([id, domain]) => ({
      CertificateArn: arn(id),
      DomainName: domain,
    })),
  });
  for (const [id, domain, status, tags] of certificates) {
    setup.mocks.acm
      .on(ListTagsForCertificateCommand, { CertificateArn: arn(id) })
      .resolves({ Tags: tags });
    setup.mocks.acm.on(DescribeCertificateCommand, { CertificateArn: arn(id) }).resolves({
      Certificate: {
        CertificateArn: arn(id),
        DomainName: domain,
        Status: status as 'ISSUED',
        DomainValidationOptions: [
          {
            DomainName: domain,
            ResourceRecord: {
              Name: `_x.${domain}.`,
              Type: 'CNAME',
              Value: '_y.acm-validations.aws.',
            },
          },
        ],
      },
    });
  }
  return setup;
}

describe('listCertificates', () => {
  it("describes the stack's certificates and keeps only the names of the others", async () => {
    const { ctx } = account([
      ['a', 'api.example.com', 'ISSUED', stackTags],
      ['b', 'api.example.com', 'ISSUED', [{ Key: 'iclinic-deploy:stack', Value: 'other' }]],
      [
        'c',
        'api.example.com',
        'ISSUED',
        [
          { Key: 'iclinic-deploy:stack', Value: 'iclinic' },
          { Key: 'iclinic-deploy:region', Value: 'sa-east-1' },
        ],
      ],
    ]);
    const found = await listCertificates(ctx);
    expect(found.stack.map((c) => c.arn)).toEqual([arn('a')]);
    expect(found.othersDomains).toEqual(['api.example.com', 'api.example.com']);
  });
});

describe('ensureCertificate', () => {
  it("reuses the stack's issued certificate for exactly that name, with no mutating call", async () => {
    const { ctx, mocks } = account([
      ['a', 'app.example.com', 'ISSUED', stackTags],
      ['b', 'api.example.com', 'ISSUED', stackTags],
    ]);
    const result = await ensureCertificate(ctx, 'api.example.com');
    expect(result.value.arn).toBe(arn('b'));
    expect(result.changes).toEqual([]);
    expect(mutatingOperations(mocks.acm)).toEqual([]);
  });

  it("does not take another stack's certificate for the same name: it requests one, DNS-validated and tagged", async () => {
    const { ctx, mocks } = account([
      ['b', 'api.example.com', 'ISSUED', [{ Key: 'iclinic-deploy:stack', Value: 'other' }]],
    ]);
    mocks.acm.on(RequestCertificateCommand).resolves({ CertificateArn: arn('new') });
    mocks.acm.on(DescribeCertificateCommand, { CertificateArn: arn('new') }).resolves({
      Certificate: {
        CertificateArn: arn('new'),
        DomainName: 'api.example.com',
        Status: 'PENDING_VALIDATION',
        DomainValidationOptions: [
          {
            DomainName: 'api.example.com',
            ResourceRecord: {
              Name: '_n.api.example.com.',
              Type: 'CNAME',
              Value: '_v.acm-validations.aws.',
            },
          },
        ],
      },
    });
    const result = await ensureCertificate(ctx, 'api.example.com');
    expect(result.changes.map((c) => [c.action, c.kind, c.name])).toEqual([
      ['create', 'ACM certificate', 'api.example.com'],
    ]);
    expect(result.value.validation?.name).toBe('_n.api.example.com.');
    const request = callInputs(mocks.acm).find((c) => c.operation === 'RequestCertificate');
    expect(request?.input).toMatchObject({
      DomainName: 'api.example.com',
      ValidationMethod: 'DNS',
      Tags: expect.arrayContaining(stackTags) as unknown,
    });
  });

  it('requests a new certificate when the previous one for the name failed, saying why', async () => {
    const { ctx, mocks } = account([['a', 'api.example.com', 'FAILED', stackTags]]);
    mocks.acm.on(RequestCertificateCommand).resolves({ CertificateArn: arn('a') });
    const result = await ensureCertificate({ ...ctx, dryRun: true }, 'api.example.com');
    expect(result.changes[0]?.detail).toBe('DNS-validated; the previous one is FAILED');
    expect(mutatingOperations(mocks.acm)).toEqual([]);
  });

  it('gives each name its own idempotency token, so a changed --domain never gets the old certificate back', async () => {
    const tokens: string[] = [];
    for (const domain of ['api.example.com', 'app.example.com']) {
      const { ctx, mocks } = account([]);
      mocks.acm.on(RequestCertificateCommand).resolves({ CertificateArn: arn('n') });
      mocks.acm.on(DescribeCertificateCommand).resolves({
        Certificate: {
          CertificateArn: arn('n'),
          DomainName: domain,
          Status: 'PENDING_VALIDATION',
          DomainValidationOptions: [
            { DomainName: domain, ResourceRecord: { Name: 'n', Type: 'CNAME', Value: 'v' } },
          ],
        },
      });
      await ensureCertificate(ctx, domain);
      const input = callInputs(mocks.acm).find((c) => c.operation === 'RequestCertificate')
        ?.input as { IdempotencyToken?: string };
      tokens.push(input.IdempotencyToken ?? '');
    }
    expect(tokens[0]).toMatch(/^\w{32}$/);
    expect(tokens[0]).not.toBe(tokens[1]);
  });
});

describe('removeCertificate', () => {
  it('keeps a certificate ACM says is still in use, with a warning, and reports no deletion', async () => {
    const { ctx, mocks, report } = testContext();
    mocks.acm
      .on(DeleteCertificateCommand)
      .rejects(awsError('ResourceInUseException', 'Certificate is in use'));
    const removal = await removeCertificate(ctx, {
      arn: arn('a'),
      domain: 'api.example.com',
      status: 'ISSUED',
      inUseBy: ['arn:aws:cloudfront::123456789012:distribution/E1'],
    });
    expect(removal.changes).toEqual([]);
    expect(report.warnings[0]).toContain(
      'is still in use (arn:aws:cloudfront::123456789012:distribution/E1)',
    );
  });
});

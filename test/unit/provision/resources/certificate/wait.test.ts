import { DescribeCertificateCommand, type CertificateDetail } from '@aws-sdk/client-acm';
import { describe, expect, it } from 'vitest';
import {
  CertificateFailedError,
  CertificateNotIssuedError,
  waitForCertificateIssued,
} from '../../../../../provision/resources/certificate/wait.js';
import { testContext } from '../../../support/context.js';

const ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-2222-3333-444455556666';

function detail(status: string, extra: Partial<CertificateDetail> = {}): CertificateDetail {
  return {
    CertificateArn: ARN,
    DomainName: 'api.example.com',
    Status: status as CertificateDetail['Status'],
    DomainValidationOptions: [
      {
        DomainName: 'api.example.com',
        ResourceRecord: {
          Name: '_abc.api.example.com.',
          Type: 'CNAME',
          Value: '_def.acm-validations.aws.',
        },
      },
    ],
    ...extra,
  };
}

const options = {
  timeoutMs: 20 * 60_000,
  howToFix: 'Create the records above, then run "npx iclinic-deploy up" again.',
  waitingFor: 'waiting for ACM to see the record',
};

describe('waitForCertificateIssued', () => {
  it('waits through PENDING_VALIDATION, saying what it waits for, until ACM issues', async () => {
    const { ctx, mocks, report } = testContext();
    let reads = 0;
    mocks.acm.on(DescribeCertificateCommand).callsFake(() => {
      reads += 1;
      return { Certificate: detail(reads < 30 ? 'PENDING_VALIDATION' : 'ISSUED') };
    });
    const issued = await waitForCertificateIssued(ctx, ARN, options);
    expect(issued.status).toBe('ISSUED');
    expect(reads).toBe(30);
    expect(report.progressLines.length).toBeGreaterThanOrEqual(4);
    expect(report.progressLines[1]).toBe(
      'waiting for ACM to see the record (PENDING_VALIDATION, 1 min so far)',
    );
  });

  it('gives up at the timeout with the record ACM waits for and how to fix it', async () => {
    const { ctx, mocks } = testContext();
    mocks.acm
      .on(DescribeCertificateCommand)
      .resolves({ Certificate: detail('PENDING_VALIDATION') });
    const waiting = waitForCertificateIssued(ctx, ARN, { ...options, timeoutMs: 5 * 60_000 });
    await expect(waiting).rejects.toBeInstanceOf(CertificateNotIssuedError);
    await expect(waiting).rejects.toThrow(
      'is still PENDING_VALIDATION after 5 min: ACM issues it once it can read the validation record\n' +
        '  _abc.api.example.com.  CNAME  _def.acm-validations.aws.\nCreate the records above',
    );
  });

  it('fails at once on a CAA record that forbids Amazon, naming the CAA value to add', async () => {
    const { ctx, mocks } = testContext();
    mocks.acm
      .on(DescribeCertificateCommand)
      .resolves({ Certificate: detail('FAILED', { FailureReason: 'CAA_ERROR' }) });
    const waiting = waitForCertificateIssued(ctx, ARN, options);
    await expect(waiting).rejects.toBeInstanceOf(CertificateFailedError);
    await expect(waiting).rejects.toThrow(
      /failed validation: a CAA record on api\.example\.com or one of its parents does not allow Amazon.*0 issue "amazon\.com"/,
    );
  });

  it("fails on a certificate that failed validation, with ACM's reason and what to do", async () => {
    const { ctx, mocks } = testContext();
    mocks.acm
      .on(DescribeCertificateCommand)
      .resolves({ Certificate: detail('FAILED', { FailureReason: 'OTHER' }) });
    await expect(waitForCertificateIssued(ctx, ARN, options)).rejects.toThrow(
      /failed validation: ACM gave the reason OTHER; see https:\/\/docs\.aws\.amazon\.com\/acm\/latest\/userguide\/troubleshooting-failed\.html and run "npx iclinic-deploy up" again/,
    );
  });

  it('fails on a certificate whose 72 hours of validation ran out', async () => {
    const { ctx, mocks } = testContext();
    mocks.acm
      .on(DescribeCertificateCommand)
      .resolves({ Certificate: detail('VALIDATION_TIMED_OUT') });
    await expect(waitForCertificateIssued(ctx, ARN, options)).rejects.toThrow(
      'for api.example.com is VALIDATION_TIMED_OUT',
    );
  });
});

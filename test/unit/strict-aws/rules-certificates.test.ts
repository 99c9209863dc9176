import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import {
  CloudFrontClient,
  GetDistributionConfigCommand,
  ListDistributionsCommand,
} from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { TestClients } from '../../support/aws.js';
import {
  certificateInUseRule,
  PendingCertificates,
  validationTakesTimeRule,
  viewerCertificateRule,
} from '../../support/strict-aws/rules/certificates.js';
import type { RuleEnv } from '../../support/strict-aws/types.js';
import { noMoto, ok, request } from './rules-env.js';

const ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
const options = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

/** moto as the rules read it: one certificate for api.example.com in this status, one distribution using `usedArn`. */
function env(status: string, usedArn?: string): RuleEnv {
  const acm = new ACMClient(options);
  const cloudfront = new CloudFrontClient(options);
  mockClient(acm)
    .on(DescribeCertificateCommand)
    .resolves({
      Certificate: {
        CertificateArn: ARN,
        DomainName: 'api.example.com',
        Status: status as 'ISSUED',
      },
    });
  const cf = mockClient(cloudfront);
  cf.on(ListDistributionsCommand).resolves({
    DistributionList: {
      Marker: '',
      MaxItems: 100,
      IsTruncated: false,
      Quantity: 1,
      Items: [{ Id: 'E1', ARN: 'arn:aws:cloudfront::123456789012:distribution/E1' } as never],
    },
  });
  cf.on(GetDistributionConfigCommand).resolves({
    DistributionConfig: {
      ViewerCertificate: usedArn ? { ACMCertificateArn: usedArn } : {},
    } as never,
  });
  const clients = { acm, cloudfront } as unknown as TestClients;
  return { moto: () => clients, random: () => 0.5, now: () => 0 };
}

const update = (viewer: string) =>
  request('cloudfront', 'UpdateDistribution', {
    Id: 'E1',
    Body: `<DistributionConfig><Aliases><Quantity>1</Quantity><Items><CNAME>api.example.com</CNAME></Items></Aliases><ViewerCertificate>${viewer}</ViewerCertificate></DistributionConfig>`,
  });

describe('the viewer certificate rule', () => {
  const rule = viewerCertificateRule();

  it('lets an alias through with an issued us-east-1 certificate that names it', async () => {
    expect(
      await rule.before?.(update(`<ACMCertificateArn>${ARN}</ACMCertificateArn>`), env('ISSUED')),
    ).toBeUndefined();
  });

  it('refuses an alias whose certificate is still pending validation', async () => {
    const reply = await rule.before?.(
      update(`<ACMCertificateArn>${ARN}</ACMCertificateArn>`),
      env('PENDING_VALIDATION'),
    );
    expect(reply?.code).toBe('InvalidViewerCertificate');
  });

  it('refuses an alias on the CloudFront default certificate', async () => {
    const reply = await rule.before?.(
      update('<CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate>'),
      env('ISSUED'),
    );
    expect(reply?.code).toBe('InvalidViewerCertificate');
  });

  it('refuses a certificate from another region than us-east-1', async () => {
    const other = ARN.replace('us-east-1', 'sa-east-1');
    const reply = await rule.before?.(
      update(`<ACMCertificateArn>${other}</ACMCertificateArn>`),
      env('ISSUED'),
    );
    expect(reply?.message).toContain("isn't in us-east-1 region");
  });
});

describe('the certificate-in-use rule', () => {
  const rule = certificateInUseRule();
  const deletion = {
    ...request('acm', 'DeleteCertificate', { CertificateArn: ARN }),
    protocol: 'json' as const,
  };

  it('refuses to delete a certificate a distribution uses', async () => {
    const reply = await rule.before?.(deletion, env('ISSUED', ARN));
    expect(reply?.code).toBe('ResourceInUseException');
  });

  it('lets a certificate no distribution uses be deleted', async () => {
    expect(await rule.before?.(deletion, env('ISSUED'))).toBeUndefined();
  });
});

describe('the validation-takes-time rule', () => {
  it('answers the first describes of a new certificate as PENDING_VALIDATION, then lets ISSUED through', async () => {
    const pending = new PendingCertificates(2);
    const rule = validationTakesTimeRule(pending);
    const json = { ...request('acm', 'RequestCertificate'), protocol: 'json' as const };
    await rule.after?.(json, ok({ CertificateArn: ARN }), noMoto);
    const describe = { ...json, operation: 'DescribeCertificate' };
    const issued = ok({ Certificate: { CertificateArn: ARN, Status: 'ISSUED' } });
    const statuses: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const reply = await rule.after?.(describe, issued, noMoto);
      const body = reply !== undefined && 'body' in reply ? reply.body : issued.body;
      statuses.push((JSON.parse(body) as { Certificate: { Status: string } }).Certificate.Status);
    }
    expect(statuses).toEqual(['PENDING_VALIDATION', 'PENDING_VALIDATION', 'ISSUED']);
  });
});

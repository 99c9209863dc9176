// up --domain's permissions in the deployer policy, evaluated by IAM's rules
// (iam-simulate): the certificate request narrowed by the stack's tags, the
// certificates in us-east-1, the user's hosted zones.
import { describe, expect, it } from 'vitest';
import { stackNames } from '../../../../provision/names.js';
import { distributionTags } from '../../../../provision/resources/cloudfront/config.js';
import { simulate, type SimulatedRequest } from '../../../support/iam-simulate.js';
import { documentsOf } from './scenarios.js';

const ACCOUNT = '123456789012';
const STACK = 'iclinic-staging';
const REGION = 'sa-east-1';
const documents = documentsOf({ stack: STACK, region: REGION });
const decide = (request: SimulatedRequest) => simulate(documents, request);

type Tags = readonly { Key: string; Value: string }[];
/** The condition keys AWS sets for a create that carries these tags. */
const carrying = (tags: Tags): SimulatedRequest['context'] => ({
  ...Object.fromEntries(tags.map((tag) => [`aws:RequestTag/${tag.Key}`, tag.Value])),
  'aws:TagKeys': tags.map((tag) => tag.Key),
});
const request = (tags: Tags) => ({
  action: 'acm:RequestCertificate',
  resource: '*',
  context: carrying(tags),
});
/** What up --domain tags its certificate with (certificate/index.ts). */
const stackTags = distributionTags(stackNames(STACK, REGION), REGION);

describe('the deployer policy for up --domain', () => {
  it('lets up request a certificate that carries the stack’s tags', async () => {
    expect(await decide(request(stackTags))).toBe('Allowed');
  });

  it('refuses a certificate request tagged for another stack or region', async () => {
    for (const key of ['iclinic-deploy:stack', 'iclinic-deploy:region']) {
      const other = stackTags.map((t) => (t.Key === key ? { ...t, Value: 'other' } : t));
      expect(await decide(request(other)), key).toBe('ImplicitlyDenied');
    }
  });

  it('refuses a certificate request that carries a tag key the stack does not use', async () => {
    const extra = [...stackTags, { Key: 'owner', Value: 'someone' }];
    expect(await decide(request(extra))).toBe('ImplicitlyDenied');
  });

  it('refuses a certificate request without the stack’s tags', async () => {
    expect(await decide(request([]))).toBe('ImplicitlyDenied');
  });

  it('lets up list the certificates and the hosted zones of the account', async () => {
    for (const action of ['acm:ListCertificates', 'route53:ListHostedZones'])
      expect(await decide({ action, resource: '*', context: {} }), action).toBe('Allowed');
  });

  it('lets up read, tag and delete certificates in us-east-1 only, where CloudFront takes them', async () => {
    const certificate = (region: string) =>
      `arn:aws:acm:${region}:${ACCOUNT}:certificate/0b1c2d3e-aaaa-bbbb-cccc-123456789012`;
    for (const action of [
      'acm:DescribeCertificate',
      'acm:ListTagsForCertificate',
      'acm:DeleteCertificate',
    ]) {
      expect(
        await decide({ action, resource: certificate('us-east-1'), context: {} }),
        action,
      ).toBe('Allowed');
      expect(await decide({ action, resource: certificate(REGION), context: {} }), action).toBe(
        'ImplicitlyDenied',
      );
    }
  });

  it('lets up read a hosted zone and change its records', async () => {
    const zone = 'arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ';
    for (const action of [
      'route53:GetHostedZone',
      'route53:ListResourceRecordSets',
      'route53:ChangeResourceRecordSets',
    ])
      expect(await decide({ action, resource: zone, context: {} }), action).toBe('Allowed');
  });
});

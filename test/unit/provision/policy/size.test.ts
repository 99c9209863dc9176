import { describe, expect, it } from 'vitest';
import {
  FUTURE_PERMISSIONS_HEADROOM,
  MANAGED_POLICY_MAX_CHARS,
} from '../../../../provision/policy/index.js';

/** "Managed policy size: 6,144 characters" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). */
const IAM_MANAGED_POLICY_SIZE = 6144;
import { documentsOf } from './scenarios.js';

/** IAM's count: characters without whitespace (IAM and STS quotas, "Managed policy size"). */
const size = (document: unknown) => JSON.stringify(document).replace(/\s/g, '').length;

// The longest stack name (24) in regions with long names and long partitions.
const LONGEST = 'abcdefghijklmnopqrstuvwx';
const WORST_CASES = ['ap-southeast-2', 'ap-northeast-3', 'us-gov-west-1', 'cn-northwest-1'].map(
  (region) => ({ stack: LONGEST, region }),
);

describe('the deployer policy documents', () => {
  it.each(WORST_CASES)(
    'each fits one IAM managed policy with room for new permissions ($region, 24-character stack)',
    (scenario) => {
      expect(MANAGED_POLICY_MAX_CHARS).toBe(IAM_MANAGED_POLICY_SIZE);
      const limit = IAM_MANAGED_POLICY_SIZE - FUTURE_PERMISSIONS_HEADROOM;
      const sizes = documentsOf(scenario).map(size);
      expect(sizes.filter((chars) => !(chars <= limit))).toEqual([]);
    },
  );

  it('keeps as headroom at least what the planned GitHub OIDC and custom-domain statements take', () => {
    // Sketches of the statements those features will add (provision/policy/index.ts says where).
    const githubOidc = {
      Sid: 'GitHubOidcProvider',
      Effect: 'Allow',
      Action: [
        'iam:CreateOpenIDConnectProvider',
        'iam:GetOpenIDConnectProvider',
        'iam:DeleteOpenIDConnectProvider',
        'iam:TagOpenIDConnectProvider',
        'iam:UpdateOpenIDConnectProviderThumbprint',
      ],
      Resource: 'arn:aws-us-gov:iam::*:oidc-provider/token.actions.githubusercontent.com',
    };
    const githubRole = `,"arn:aws-us-gov:iam::*:role/${LONGEST}-us-gov-west-1-github"`;
    const customDomain = [
      {
        Sid: 'Certificate',
        Effect: 'Allow',
        Action: [
          'acm:RequestCertificate',
          'acm:DescribeCertificate',
          'acm:DeleteCertificate',
          'acm:AddTagsToCertificate',
          'acm:ListCertificates',
        ],
        Resource: '*',
        Condition: { StringEquals: { 'aws:RequestedRegion': 'ap-southeast-2' } },
      },
      {
        Sid: 'DnsRecords',
        Effect: 'Allow',
        Action: [
          'route53:ListHostedZonesByName',
          'route53:ChangeResourceRecordSets',
          'route53:ListResourceRecordSets',
          'route53:GetChange',
        ],
        Resource: '*',
      },
    ];
    expect(size(githubOidc) + githubRole.length).toBeLessThanOrEqual(FUTURE_PERMISSIONS_HEADROOM);
    expect(size(customDomain)).toBeLessThanOrEqual(FUTURE_PERMISSIONS_HEADROOM);
  });

  it('needs no more managed policies than a user or a permission set role takes by default (10)', () => {
    // IAM: 10 managed policies per user or role by default; Identity Center
    // attaches customer managed policies to the permission set's role
    // (https://docs.aws.amazon.com/singlesignon/latest/userguide/limits.html).
    expect(documentsOf({ stack: LONGEST, region: 'us-east-1' }).length).toBeLessThanOrEqual(10);
  });

  it('gives every statement of every document its own Sid, version 2012-10-17 and Allow', () => {
    const documents = documentsOf({ stack: 'iclinic', region: 'us-east-1' });
    const statements = documents.flatMap((d) => d.Statement);
    expect(documents.every((d) => d.Version === '2012-10-17')).toBe(true);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(new Set(statements.map((s) => s.Sid)).size).toBe(statements.length);
  });
});

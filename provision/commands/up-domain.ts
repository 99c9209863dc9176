/**
 * `up --domain`: the certificate is requested (or found) at the start,
 * beside the network; the distribution takes the name and certificate in
 * its own step when the certificate is already issued (every run after the
 * first), and otherwise once ACM has issued it, so a first run's ECS
 * rollout does not wait for the validation. Then the alias records, the
 * deploy wait, and the removal of what an earlier --domain left.
 */
import type { StackContext } from '../context.js';
import type { StepGraph } from '../graph.js';
import { ensureDistribution, type DistributionRef } from '../resources/cloudfront/index.js';
import { KEEP_VIEWER, type DistributionSettings } from '../resources/cloudfront/config.js';
import { listCertificates, type CertificateInfo } from '../resources/certificate/index.js';
import {
  ensureAliasRecords,
  ensureDomainCertificate,
  removeDomainRecords,
  removeStackCertificates,
  waitForDomainCertificate,
  type DomainCertificate,
} from '../resources/domain/index.js';
import type { Change } from '../plan.js';
import type { UpSteps } from './up-types.js';
import type { StepTools } from './up-steps.js';

type DomainSteps = Pick<
  StepGraph<UpSteps>,
  'certificate' | 'certificate-issued' | 'domain-records' | 'domain-cleanup'
>;

/** The distribution's origin settings plus, with --domain, its name and certificate. */
export function distributionSettings(
  originDomainName: string,
  certificate: CertificateInfo | undefined,
): DistributionSettings {
  const common = { originDomainName, originProtocolPolicy: 'http-only' as const };
  if (certificate === undefined) return common;
  if (certificate.status !== 'ISSUED') return { ...common, viewer: KEEP_VIEWER };
  return { ...common, viewer: { alias: certificate.domain, certificateArn: certificate.arn } };
}

const NO_DOMAIN = 'no --domain';

async function nameOnDistribution(
  ctx: StackContext,
  originDomainName: string,
  issued: CertificateInfo,
): Promise<readonly Change[]> {
  const settings = distributionSettings(originDomainName, issued);
  return (await ensureDistribution(ctx, settings)).changes;
}

export function domainSteps({ ctx, settings, on, remaining }: StepTools): DomainSteps {
  const domain = settings.cloudFront ? settings.domain : undefined;
  return {
    certificate: {
      kind: 'ensure',
      title: `ACM certificate for ${domain?.domain ?? 'your domain'} (us-east-1, DNS validation)`,
      after: ['preflight'],
      run: async (input) => {
        if (domain === undefined) return { value: undefined, summary: NO_DOMAIN };
        return ensureDomainCertificate(on(input), domain);
      },
    },
    'certificate-issued': {
      kind: 'check',
      title: 'Wait for ACM to validate the domain and issue the certificate',
      after: ['certificate', 'distribution'],
      run: async (input) => {
        const found = input.get('certificate');
        if (found === undefined) return { value: undefined, summary: NO_DOMAIN };
        const issued = await waitForDomainCertificate(on(input), found, {
          timeoutMs: remaining(),
          distributionDomain: input.get('distribution')?.domainName ?? '',
        });
        const expiry = issued.notAfter?.toISOString().slice(0, 10);
        return { value: issued, summary: `${issued.status}${expiry ? `, expires ${expiry}` : ''}` };
      },
    },
    'domain-records': {
      kind: 'ensure',
      title: `${domain?.domain ?? 'Your domain'} on the distribution, and its A and AAAA alias records`,
      after: ['certificate', 'certificate-issued', 'distribution', 'load-balancer'],
      run: async (input) => {
        const found = input.get('certificate');
        const issued = input.get('certificate-issued');
        const distribution = input.get('distribution');
        if (found === undefined || issued === undefined || distribution === undefined) {
          return { value: undefined, summary: NO_DOMAIN };
        }
        // The distribution step already put the name on when it was issued then.
        const onDistribution =
          found.certificate.status === 'ISSUED' || ctx.dryRun
            ? []
            : await nameOnDistribution(on(input), input.get('load-balancer').dnsName, issued);
        const records = await ensureAliasRecords(on(input), found, distribution.domainName);
        return { value: undefined, changes: [...onDistribution, ...records.changes] };
      },
    },
    'domain-cleanup': {
      kind: 'ensure',
      title: 'Remove the records and certificate of an earlier --domain',
      after: ['distribution-deployed', 'certificate-issued', 'distribution'],
      run: async (input) => {
        const distribution = input.get('distribution');
        if (distribution === undefined) return { value: undefined, summary: 'no CloudFront' };
        const changes = await removeUnused(
          on(input),
          distribution,
          input.get('certificate-issued'),
        );
        return { value: undefined, changes };
      },
    },
  };
}

/** Once the distribution no longer names them: the records, then the certificates. */
async function removeUnused(
  ctx: StackContext,
  distribution: DistributionRef,
  keep: CertificateInfo | undefined,
): Promise<Change[]> {
  const account = await listCertificates(ctx);
  if (account.stack.every((c) => c.arn === keep?.arn)) return [];
  const records = await removeDomainRecords(
    ctx,
    { ...(keep === undefined ? {} : { keep }), distributionDomain: distribution.domainName },
    account,
  );
  const certificates = await removeStackCertificates(ctx, keep, account);
  return [...records.changes, ...certificates.changes];
}

export type { DomainCertificate };

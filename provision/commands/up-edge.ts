/**
 * The edge of `up`: CloudFront in front of the load balancer, the waits,
 * and the final call through the URL the user will use.
 */
import type { StackContext } from '../context.js';
import type { StepGraph } from '../graph.js';
import {
  ensureDistribution,
  removeDistribution,
  waitForDistributionDeployed,
} from '../resources/cloudfront/index.js';
import {
  describeTargetHealth,
  ensureOriginRule,
  waitForLoadBalancerActive,
} from '../resources/load-balancer/index.js';
import { readTokenSecret } from '../resources/secret.js';
import { DeploymentFailedError, waitForDeployment } from '../resources/ecs/index.js';
import { verifyEndpoint, verifyThroughCloudFront, verifyTimeout } from '../verify.js';
import { withStoppedTaskLogs } from './rollout-failure.js';

import { distributionSettings, type DomainCertificate } from './up-domain.js';
import type { UpSettings, UpSteps } from './up-types.js';
import { DRY_RUN_SUMMARY, type StepTools } from './up-steps.js';

type Steps<K extends keyof UpSteps & string> = Pick<StepGraph<UpSteps>, K>;

/** A failed rollout is easier to diagnose with what the load balancer saw of the tasks. */
export async function withTargetHealth(
  ctx: StackContext,
  targetGroupArn: string,
  error: unknown,
): Promise<never> {
  if (!(error instanceof DeploymentFailedError)) throw error;
  const targets = await describeTargetHealth(ctx, targetGroupArn).catch(() => []);
  const lines =
    targets.length === 0
      ? ['Target health: no target registered (tasks never got healthy enough to register).']
      : targets.map(
          (t) =>
            `Target ${t.id}:${t.port ?? ''} ${t.state}${t.reason ? ` (${t.reason}: ${t.description ?? ''})` : ''}`,
        );
  throw new DeploymentFailedError(error.message, error.deploymentId, lines);
}

const NO_CLOUDFRONT = (settings: Pick<UpSettings, 'certificateArn'>): string =>
  settings.certificateArn === undefined
    ? 'not used (--plain-http)'
    : 'not used (--certificate-arn: HTTPS on your domain)';

type CloudFrontSteps = Pick<
  StepGraph<UpSteps>,
  'distribution' | 'origin-rule' | 'distribution-deployed'
>;

/**
 * The distribution needs the load balancer's name (its origin), the
 * listener rule needs the distribution's secret header, and the deploy wait
 * (minutes) runs beside the ECS rollout; only the final check needs both.
 */
export function cloudFrontSteps({ ctx, settings, on }: StepTools): CloudFrontSteps {
  return {
    distribution: {
      kind: 'ensure',
      title: 'CloudFront distribution (HTTPS on *.cloudfront.net)',
      after: ['load-balancer', 'certificate'],
      run: async (input) => {
        if (!settings.cloudFront) {
          // A stack switched to --plain-http or --certificate-arn keeps no
          // distribution: left behind, it would still send to a load balancer
          // that now takes traffic from anywhere.
          const removed = await removeDistribution(on(input));
          return removed.changes.length > 0
            ? { value: undefined, changes: removed.changes }
            : { value: undefined, summary: NO_CLOUDFRONT(settings) };
        }
        const certificate = input.get('certificate')?.certificate;
        return ensureDistribution(
          on(input),
          distributionSettings(input.get('load-balancer').dnsName, certificate),
        );
      },
    },
    'origin-rule': {
      kind: 'ensure',
      title: 'Listener rule: forward only requests from CloudFront',
      after: ['load-balancer', 'distribution'],
      run: async (input) => {
        const lb = input.get('load-balancer');
        const http = lb.listenerArns.at(-1) ?? '';
        return ensureOriginRule(on(input), {
          listenerArn: http,
          targetGroupArn: lb.targetGroupArn,
          secret: input.get('distribution')?.originSecret,
        });
      },
    },
    'distribution-deployed': {
      kind: 'check',
      title: 'Wait for CloudFront to deploy the distribution',
      // After the name is on it too: one wait covers both updates.
      after: ['distribution', 'domain-records'],
      run: async (input) => {
        const distribution = input.get('distribution');
        if (distribution === undefined)
          return { value: undefined, summary: NO_CLOUDFRONT(settings) };
        if (ctx.dryRun) return { value: undefined, summary: DRY_RUN_SUMMARY };
        await waitForDistributionDeployed(on(input), distribution.id);
        return { value: undefined, summary: `${distribution.id} deployed` };
      },
    },
  };
}

/**
 * With --domain in a Route 53 zone of the account, the check goes through
 * https://<domain>/ (full TLS verification: the certificate must name it).
 * With the DNS elsewhere the CNAME may not exist yet, so it goes through
 * the distribution's own name.
 */
export function verifiedUrl(distributionUrl: string, found: DomainCertificate | undefined): string {
  return found?.zone === undefined ? distributionUrl : `https://${found.domain}/`;
}

/** Waits for the load balancer and the deployment, then calls the service. */
export function checkSteps({
  ctx,
  settings,
  on,
  remaining,
}: StepTools): Steps<'rollout' | 'verify'> {
  return {
    rollout: {
      kind: 'check',
      title: 'Wait for the load balancer and the deployment',
      after: ['service', 'load-balancer'],
      run: async (input) => {
        if (ctx.dryRun) return { value: undefined, summary: DRY_RUN_SUMMARY };
        const service = input.get('service');
        const lb = input.get('load-balancer');
        await Promise.all([
          waitForLoadBalancerActive(on(input), lb.loadBalancerArn, remaining()),
          service.deploymentId === undefined
            ? Promise.resolve()
            : waitForDeployment(on(input), {
                deploymentId: service.deploymentId,
                deploymentCreatedAt: service.deploymentCreatedAt,
                timeoutMs: remaining(),
                signal: input.signal,
              })
                .catch((error: unknown) => withTargetHealth(ctx, lb.targetGroupArn, error))
                .catch((error: unknown) => withStoppedTaskLogs(ctx, error)),
        ]);
        const summary =
          service.deploymentId === undefined
            ? 'no new deployment was needed'
            : `deployment ${service.deploymentId} completed`;
        return { value: undefined, summary };
      },
    },
    verify: {
      kind: 'check',
      title: settings.cloudFront
        ? `Call the service through ${settings.domain === undefined ? 'CloudFront' : `https://${settings.domain.domain}/ (CloudFront)`}`
        : 'Call the service through the load balancer',
      // After autoscaling and alarms too, so the result reports the whole stack.
      after: [
        'rollout',
        'load-balancer',
        'autoscaling',
        'alarms',
        'distribution',
        'distribution-deployed',
        'origin-rule',
        'certificate',
        'domain-records',
      ],
      run: async (input) => {
        if (ctx.dryRun) {
          return { value: { token: undefined, verified: false }, summary: DRY_RUN_SUMMARY };
        }
        const token = (await readTokenSecret(ctx)).token;
        if (!settings.verify) {
          return { value: { token, verified: false }, summary: 'skipped (--no-verify)' };
        }
        const lb = input.get('load-balancer');
        const distribution = input.get('distribution');
        const common = {
          token,
          timeoutMs: verifyTimeout(remaining()),
          clock: ctx.clock,
          report: input.report,
        };
        if (distribution !== undefined) {
          const summary = await verifyThroughCloudFront({
            ...common,
            url: verifiedUrl(distribution.url, input.get('certificate')),
            directUrl: `${lb.url}/`,
            ...(settings.directCheck === undefined ? {} : { directCheck: settings.directCheck }),
          });
          return { value: { token, verified: true }, summary };
        }
        const result = await verifyEndpoint({ ...common, url: `${lb.url}/`, expectStatus: 200 });
        return {
          value: { token, verified: true },
          summary: `HTTP ${result.status} after ${result.attempts} attempt(s)`,
        };
      },
    },
  };
}

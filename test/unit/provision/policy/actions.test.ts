import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  allPolicyActions,
  CALL_ACTIONS,
  iamActionsOf,
} from '../../../../provision/policy/index.js';
import { actionData } from '../../../support/iam-data.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

const IAM_PREFIX: Record<string, string> = {
  ec2: 'ec2',
  ecs: 'ecs',
  ecr: 'ecr',
  'secrets-manager': 'secretsmanager',
  'elastic-load-balancing-v2': 'elasticloadbalancing',
  iam: 'iam',
  'cloudwatch-logs': 'logs',
  sts: 'sts',
  'service-quotas': 'servicequotas',
  'application-auto-scaling': 'application-autoscaling',
  cloudwatch: 'cloudwatch',
  sns: 'sns',
  cloudfront: 'cloudfront',
  acm: 'acm',
  'route-53': 'route53',
};

/**
 * The action a resource's creator is also checked for when the create call
 * carries tags, per service.
 */
const TAG_ON_CREATE: Record<string, string> = {
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
  ec2: 'ec2:CreateTags',
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/userguide/tagging-resources-during-creation.html
  elasticloadbalancing: 'elasticloadbalancing:AddTags',
  // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/supported-iam-actions-tagging.html
  ecs: 'ecs:TagResource',
  // https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-supported-iam-actions-tagging.html
  ecr: 'ecr:TagResource',
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html
  secretsmanager: 'secretsmanager:TagResource',
  // https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
  logs: 'logs:TagResource',
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_roles.html
  iam: 'iam:TagRole',
  // https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html
  sns: 'sns:TagResource',
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
  cloudwatch: 'cloudwatch:TagResource',
  // https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cf-api-permissions-ref.html
  cloudfront: 'cloudfront:TagResource',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each command class or paginator a file imports from an AWS SDK client package, with that package's IAM prefix. */
function importedOperations(source: string, file: string): Map<string, string> {
  const imported = new Map<string, string>();
  for (const match of source.matchAll(
    /import\s*\{([^}]*)\}\s*from\s*'@aws-sdk\/client-([a-z0-9-]+)'/g,
  )) {
    const pkg = match[2] ?? '';
    const prefix = IAM_PREFIX[pkg];
    if (prefix === undefined)
      throw new Error(
        `${file} imports @aws-sdk/client-${pkg}, which has no IAM prefix in this test`,
      );
    for (const raw of (match[1] ?? '').split(',')) {
      const name =
        raw
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)[0] ?? '';
      if (name.endsWith('Command') || name.startsWith('paginate')) imported.set(name, prefix);
    }
  }
  return imported;
}

interface CallUse {
  readonly file: string;
  /** `service:Operation` */
  readonly call: string;
}

/** `new XxxCommand(` and `paginateXxx(` calls under provision/ and teardown/. */
function callUses(): CallUse[] {
  const uses: CallUse[] = [];
  for (const file of [...sourceFiles('provision'), ...sourceFiles('teardown')]) {
    const source = readFileSync(join(ROOT, file), 'utf8');
    const imported = importedOperations(source, file);
    const calls = [
      ...[...source.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\(/g)].map((m) => ({
        symbol: `${m[1] ?? ''}Command`,
        operation: m[1] ?? '',
      })),
      ...[...source.matchAll(/\bpaginate([A-Z][A-Za-z0-9]*)\(/g)].map((m) => ({
        symbol: `paginate${m[1] ?? ''}`,
        operation: m[1] ?? '',
      })),
    ];
    for (const { symbol, operation } of calls) {
      const prefix = imported.get(symbol);
      if (prefix === undefined)
        throw new Error(`${file}: ${symbol} is not imported from an @aws-sdk/client-* package`);
      uses.push({ file, call: `${prefix}:${operation}` });
    }
  }
  return uses;
}

/** Services a file creates resources of with tags in the call (Tags, tags, TagSpecifications). */
function servicesTaggingOnCreate(): { file: string; service: string }[] {
  const found: { file: string; service: string }[] = [];
  for (const file of [...sourceFiles('provision'), ...sourceFiles('teardown')]) {
    const source = readFileSync(join(ROOT, file), 'utf8');
    if (!/\b(Tags|tags|TagSpecifications)\s*:/.test(source)) continue;
    const services = new Set(
      [...importedOperations(source, file)]
        .filter(([symbol]) => /^(Create|Register|Put)[A-Za-z]+Command$/.test(symbol))
        .map(([, prefix]) => prefix),
    );
    for (const service of services) found.push({ file, service });
  }
  return found;
}

describe('the AWS calls in the source', () => {
  it('are found, paginators included (the scan is not vacuous)', () => {
    const calls = new Set(callUses().map((u) => u.call));
    expect(calls.size).toBeGreaterThan(40);
    expect(calls).toContain('secretsmanager:UpdateSecretVersionStage');
    expect(calls).toContain('cloudwatch:DescribeAlarms');
    expect(calls).toContain('sns:ListTopics');
  });

  it('are each allowed: every IAM action a new XxxCommand( or paginateXxx( call is authorized as is in the policy', () => {
    const allowed = allPolicyActions();
    const missing = callUses().flatMap((use) =>
      iamActionsOf(use.call)
        .filter((action) => !allowed.has(action))
        .map((action) => `${use.file}: ${action}`),
    );
    expect(missing).toEqual([]);
  });

  it('carry tags on create only for services whose tagging action the policy grants', () => {
    const allowed = allPolicyActions();
    const tagging = servicesTaggingOnCreate();
    expect(tagging.length).toBeGreaterThan(8);
    const missing = tagging
      .map(({ file, service }) => ({ file, action: TAG_ON_CREATE[service] ?? `${service}:?` }))
      .filter(({ action }) => !allowed.has(action))
      .map(({ file, action }) => `${file}: ${action}`);
    expect(missing).toEqual([]);
  });

  it('are authorized as the SAR action of the same name, except where AWS has no such action (CALL_ACTIONS)', async () => {
    const wrong: string[] = [];
    for (const call of new Set(callUses().map((u) => u.call))) {
      const own = await actionData(call);
      const mapped = iamActionsOf(call);
      if (own !== undefined && (mapped.length !== 1 || mapped[0] !== own.action))
        wrong.push(`${call} is an action of its own, yet mapped to ${mapped.join(', ')}`);
      if (own === undefined && CALL_ACTIONS[call] === undefined)
        wrong.push(
          `${call} is no IAM action and CALL_ACTIONS does not say what it is authorized as`,
        );
      for (const action of mapped)
        if ((await actionData(action)) === undefined)
          wrong.push(`${call} → ${action}: no such action`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('ACTIONS', () => {
  it('includes the ECR actions docker push needs', () => {
    const allowed = allPolicyActions();
    for (const action of [
      'BatchCheckLayerAvailability',
      'CompleteLayerUpload',
      'InitiateLayerUpload',
      'PutImage',
      'UploadLayerPart',
    ]) {
      expect(allowed).toContain(`ecr:${action}`);
    }
  });

  it('lists no action twice within a service', () => {
    for (const [service, actions] of Object.entries(ACTIONS)) {
      expect(new Set(actions).size, service).toBe(actions.length);
    }
  });

  it('keeps in CALL_ACTIONS only operations AWS authorizes as other actions than their own name', async () => {
    for (const call of Object.keys(CALL_ACTIONS))
      expect(await actionData(call), call).toBeUndefined();
  });
});

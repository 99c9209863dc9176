import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  allPolicyActions,
  allowingStatement,
  deployerPolicy,
  iamActionsOf,
  IMPLIED_PERMISSIONS,
  statementAllows,
} from '../../../provision/policy/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

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
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Maps each command class a file imports from an AWS SDK client package to that package's IAM prefix. */
function importedCommands(source: string, file: string): Map<string, string> {
  const commands = new Map<string, string>();
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
      if (name.endsWith('Command')) commands.set(name, prefix);
    }
  }
  return commands;
}

interface CommandUse {
  readonly file: string;
  readonly action: string;
}

function commandUses(): CommandUse[] {
  const uses: CommandUse[] = [];
  for (const file of [...sourceFiles('provision'), ...sourceFiles('teardown')]) {
    const source = readFileSync(join(ROOT, file), 'utf8');
    const imported = importedCommands(source, file);
    for (const match of source.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\(/g)) {
      const command = `${match[1] ?? ''}Command`;
      const prefix = imported.get(command);
      if (prefix === undefined)
        throw new Error(
          `${relative(ROOT, join(ROOT, file))}: ${command} is not imported from an @aws-sdk/client-* package`,
        );
      for (const action of iamActionsOf(`${prefix}:${match[1] ?? ''}`)) uses.push({ file, action });
    }
  }
  return uses;
}

describe('allPolicyActions', () => {
  it('finds AWS calls in the source to check (the scan is not vacuous)', () => {
    const actions = new Set(commandUses().map((u) => u.action));
    expect(actions.size).toBeGreaterThan(40);
    expect(actions).toContain('secretsmanager:UpdateSecretVersionStage');
    expect(actions).toContain('elasticloadbalancing:CreateLoadBalancer');
    expect(actions).toContain('logs:CreateLogGroup');
  });

  it('includes every action called with new XxxCommand( under provision/ and teardown/', () => {
    const allowed = allPolicyActions();
    const missing = commandUses()
      .filter((use) => !allowed.has(use.action))
      .map((use) => `${use.file}: ${use.action}`);
    expect(missing).toEqual([]);
  });

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
});

describe('deployerPolicy', () => {
  const policy = deployerPolicy({ region: 'sa-east-1', stack: 'iclinic-staging' });
  const statement = (sid: string) => {
    const found = policy.Statement.find((s) => s.Sid === sid);
    if (found === undefined) throw new Error(`no statement ${sid}`);
    return found;
  };

  it('grants every action of allPolicyActions in some statement', () => {
    const granted = new Set(policy.Statement.flatMap((s) => s.Action));
    expect([...allPolicyActions()].filter((a) => !granted.has(a))).toEqual([]);
  });

  it('scopes the secret actions to the stack secret with its six random characters', () => {
    const s = statement('TokenSecret');
    expect(s.Resource).toBe(
      'arn:aws:secretsmanager:sa-east-1:*:secret:iclinic-staging/api-token-??????',
    );
    expect(s.Action).toContain('secretsmanager:PutSecretValue');
    expect(s.Action.every((a) => a.startsWith('secretsmanager:'))).toBe(true);
  });

  it('grants secretsmanager actions in no other statement', () => {
    const elsewhere = policy.Statement.filter((s) => s.Sid !== 'TokenSecret').flatMap(
      (s) => s.Action,
    );
    expect(elsewhere.filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
  });

  it('grants iam:ListRoles, which has no resource-level scoping, on "*" only', () => {
    const listing = policy.Statement.filter((s) => s.Action.includes('iam:ListRoles'));
    expect(listing.map((s) => s.Resource)).toEqual(['*']);
  });

  it('allows PassRole only for the execution role and only to ECS tasks', () => {
    const passing = policy.Statement.filter((s) => s.Action.includes('iam:PassRole'));
    expect(passing).toHaveLength(1);
    expect(passing[0]?.Resource).toBe('arn:aws:iam::*:role/iclinic-staging-sa-east-1-exec');
    expect(passing[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
  });

  it('scopes the repository actions to the stack repository', () => {
    const s = statement('Repository');
    expect(s.Resource).toBe('arn:aws:ecr:sa-east-1:*:repository/iclinic-staging/api');
    expect(s.Action).not.toContain('ecr:GetAuthorizationToken');
  });

  it('limits the EC2, ELB and ECS statement to the region', () => {
    expect(statement('NetworkLoadBalancerAndEcs').Condition).toEqual({
      StringEquals: { 'aws:RequestedRegion': 'sa-east-1' },
    });
  });

  it('is valid IAM policy JSON with version 2012-10-17 and Allow statements only', () => {
    const parsed = JSON.parse(JSON.stringify(policy)) as typeof policy;
    expect(parsed.Version).toBe('2012-10-17');
    expect(parsed.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
    expect(new Set(parsed.Statement.map((s) => s.Sid)).size).toBe(parsed.Statement.length);
  });
});

describe('IMPLIED_PERMISSIONS', () => {
  const request = { region: 'sa-east-1', stack: 'iclinic-staging', account: '123456789012' };
  const policy = deployerPolicy(request);

  it('is allowed check by check by a statement whose resource and condition fit the call', () => {
    const denied = IMPLIED_PERMISSIONS.flatMap((row) =>
      row
        .checks(request)
        .filter((check) => allowingStatement(policy, check) === undefined)
        .map((check) => `${row.call} needs ${check.action} on ${check.resource}`),
    );
    expect(denied).toEqual([]);
  });

  it('lists the EC2 checks ELB documents for CreateLoadBalancer and BatchGetImage for a push', () => {
    const actionsOf = (call: string) =>
      IMPLIED_PERMISSIONS.find((row) => row.call === call)
        ?.checks(request)
        .map((c) => c.action);
    expect(actionsOf('elasticloadbalancing:CreateLoadBalancer')).toEqual(
      expect.arrayContaining([
        'ec2:DescribeAccountAttributes',
        'ec2:DescribeAddresses',
        'ec2:DescribeInternetGateways',
        'ec2:DescribeSecurityGroups',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcs',
        'iam:CreateServiceLinkedRole',
      ]),
    );
    expect(actionsOf('docker push')).toContain('ecr:BatchGetImage');
  });

  it('names an AWS source for every row and a call the CLI makes', () => {
    const allowed = allPolicyActions();
    for (const row of IMPLIED_PERMISSIONS) {
      expect(row.source, row.call).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
      if (row.call !== 'docker push') expect(allowed, row.call).toContain(row.call);
    }
  });

  it('refuses a check whose region, resource or condition key does not fit (the evaluator is not vacuous)', () => {
    const describe = { action: 'ec2:DescribeVpcs', resource: '*' };
    expect(
      allowingStatement(policy, { ...describe, context: { 'aws:RequestedRegion': 'us-east-1' } }),
    ).toBeUndefined();
    expect(allowingStatement(policy, { ...describe, context: {} })).toBeUndefined();
    expect(
      allowingStatement(policy, {
        action: 'ecr:BatchGetImage',
        resource: 'arn:aws:ecr:sa-east-1:123456789012:repository/other/api',
        context: {},
      }),
    ).toBeUndefined();
    const passRole = policy.Statement.find((s) => s.Sid === 'PassExecutionRoleToEcs');
    expect(passRole).toBeDefined();
    if (passRole === undefined) return;
    const role = 'arn:aws:iam::123456789012:role/iclinic-staging-sa-east-1-exec';
    expect(
      statementAllows(passRole, {
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
      }),
    ).toBe(false);
    expect(
      statementAllows(passRole, {
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      }),
    ).toBe(true);
  });
});

describe('deployerPolicy role resources', () => {
  it('names the region in the execution role and also allows the pre-region name for down', () => {
    const policy = deployerPolicy({ region: 'eu-west-1', stack: 'iclinic' });
    const roles = policy.Statement.find((s) => s.Sid === 'ExecutionRole')?.Resource;
    expect(roles).toEqual([
      'arn:aws:iam::*:role/iclinic-eu-west-1-exec',
      'arn:aws:iam::*:role/iclinic-task-execution',
      'arn:aws:iam::*:role/aws-service-role/*',
    ]);
  });

  const operatePolicy = deployerPolicy({ region: 'sa-east-1', stack: 'iclinic-staging' });

  it('lets PutScalingPolicy create only the target-tracking alarms of the stack service, not another stack', () => {
    const alarm = (stack: string) => ({
      action: 'cloudwatch:PutMetricAlarm',
      resource: `arn:aws:cloudwatch:sa-east-1:123456789012:alarm:TargetTracking-service/${stack}/${stack}-api-AlarmLow-1`,
      context: {},
    });
    expect(allowingStatement(operatePolicy, alarm('iclinic-staging'))?.Sid).toBe('Alarms');
    expect(allowingStatement(operatePolicy, alarm('other'))).toBeUndefined();
  });

  it('allows the Application Auto Scaling service-linked role for ECS and no other service', () => {
    const role = (service: string) => ({
      action: 'iam:CreateServiceLinkedRole',
      resource: `arn:aws:iam::123456789012:role/aws-service-role/${service}/Role`,
      context: { 'iam:AWSServiceName': service },
    });
    expect(
      allowingStatement(operatePolicy, role('ecs.application-autoscaling.amazonaws.com')),
    ).toBeDefined();
    expect(
      allowingStatement(operatePolicy, role('dynamodb.application-autoscaling.amazonaws.com')),
    ).toBeUndefined();
  });
});

describe('deployerPolicy for ci github', () => {
  const policy = deployerPolicy({ region: 'sa-east-1', stack: 'iclinic-staging' });
  const provider = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
  const role = (name: string) => `arn:aws:iam::123456789012:role/${name}`;
  const check = (action: string, resource: string) => ({ action, resource, context: {} });

  it('lets ci github manage the stack and region deploy role by its name only', () => {
    const own = role('iclinic-staging-sa-east-1-deploy');
    for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:UpdateAssumeRolePolicy'])
      expect(allowingStatement(policy, check(action, own))?.Sid, action).toBe('GitHubDeployRole');
    expect(
      allowingStatement(
        policy,
        check('iam:PutRolePolicy', role('iclinic-staging-us-east-1-deploy')),
      ),
    ).toBeUndefined();
    expect(allowingStatement(policy, check('iam:PutRolePolicy', role('admin')))).toBeUndefined();
  });

  it('neither attaches managed policies to the deploy role nor passes it to a service', () => {
    const own = role('iclinic-staging-sa-east-1-deploy');
    expect(allowingStatement(policy, check('iam:AttachRolePolicy', own))).toBeUndefined();
    expect(allowingStatement(policy, check('iam:PassRole', own))).toBeUndefined();
  });

  it("grants the OIDC provider actions on GitHub's provider ARN and nowhere else", () => {
    for (const action of [
      'iam:CreateOpenIDConnectProvider',
      'iam:GetOpenIDConnectProvider',
      'iam:TagOpenIDConnectProvider',
      'iam:DeleteOpenIDConnectProvider',
    ])
      expect(allowingStatement(policy, check(action, provider))?.Sid, action).toBe(
        'GitHubOidcProvider',
      );
    const other = 'arn:aws:iam::123456789012:oidc-provider/gitlab.com';
    expect(
      allowingStatement(policy, check('iam:DeleteOpenIDConnectProvider', other)),
    ).toBeUndefined();
    const granted = policy.Statement.filter((s) =>
      s.Action.some((a) => a.includes('OpenIDConnectProvider')),
    );
    expect(granted.map((s) => s.Sid)).toEqual(['GitHubOidcProvider']);
  });
});

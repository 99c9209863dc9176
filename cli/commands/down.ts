import type { Command } from 'commander';
import type { Change } from '../../provision/plan.js';
import { downGraph, removedBy } from '../../teardown/down.js';
import type { CliCommand } from '../command.js';
import type { GlobalOptions } from '../options.js';
import type { Rendered } from '../output.js';
import { changeLine } from '../render.js';
import { confirmDown } from '../terminal.js';

export interface DownSettings {
  readonly timeoutMs: number;
}

export function renderDown(
  removed: readonly Change[],
  globals: Pick<GlobalOptions, 'name' | 'region'>,
): Rendered {
  const lines =
    removed.length === 0
      ? [`Nothing of stack "${globals.name}" was found in ${globals.region}; nothing to remove.`]
      : [
          `Removed ${removed.length} resource(s):`,
          ...removed.map((c) => `  ${changeLine(c, 'done')}`),
        ];
  return { json: { removed }, lines };
}

const DOWN_HELP = `
Asks you to type the stack name first; --yes skips that (and is required when not in a terminal).
Deletes the service, cluster, load balancer, network, image repository with its images, the
token secret (with no recovery window), the log group and the role. AWS releases network
interfaces slowly, so this can take several minutes; if interrupted, run it again.

Examples:
  npx iclinic-deploy down
  npx iclinic-deploy down --yes --name demo --region sa-east-1`;

export const downCommand: CliCommand<DownSettings, readonly Change[]> = {
  declare: (program: Command) =>
    program
      .command('down')
      .description('delete every resource of the stack in dependency order; safe to run twice')
      .addHelpText('after', DOWN_HELP),
  readsOnly: false,
  plans: true,
  parse: async (_command, globals) => {
    // A dry run deletes nothing, so it needs no confirmation.
    if (!globals.yes && !globals.dryRun) await confirmDown(globals.name, globals.region);
    return { timeoutMs: globals.timeout * 60_000 };
  },
  run: async (ctx, settings, tools) =>
    removedBy((await tools.steps(downGraph(ctx, settings.timeoutMs))).records),
  render: (removed, _settings, globals) => renderDown(removed, globals),
};

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

export const downCommand: CliCommand<DownSettings, readonly Change[]> = {
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

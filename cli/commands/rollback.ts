import type { Command } from 'commander';
import {
  rollbackGraph,
  type RollbackSettings,
  type RollbackSteps,
} from '../../provision/commands/rollback-graph.js';
import type { CliCommand } from '../command.js';
import type { GlobalOptions } from '../options.js';
import type { Rendered } from '../output.js';
import { changeLine } from '../render.js';

interface RollbackOptions {
  to?: number;
  verify: boolean;
}

export async function parseRollback(
  command: Command,
  globals: GlobalOptions,
): Promise<RollbackSettings> {
  const options = command.opts<RollbackOptions>();
  return {
    ...(options.to === undefined ? {} : { to: options.to }),
    timeoutMs: globals.timeout * 60_000,
    verify: options.verify,
  };
}

/** Pure: what changed (image, revision) and that the token did not. */
export function renderRollback(steps: RollbackSteps): Rendered {
  const { rollback, rollout, verify } = steps;
  const json = {
    fromRevision: rollback.fromRevision,
    newRevision: rollback.newRevision,
    deploymentId: rollback.deploymentId,
    changes: rollback.changes,
    url: rollout.url,
    verified: verify.verified,
  };
  const lines = [
    '',
    ...rollback.changes.map((change) => changeLine(change, 'done')),
    `Rolled back to revision ${rollback.fromRevision}'s image and settings, as revision ${rollback.newRevision ?? '?'}.`,
    'The token is unchanged: the new revision reads the secret version running before.',
    verify.verified
      ? `The API answers at ${rollout.url ?? '?'}/`
      : 'Not checked through the load balancer (--no-verify or no load balancer).',
  ];
  return { json, lines };
}

export const rollbackCommand: CliCommand<RollbackSettings, RollbackSteps> = {
  readsOnly: false,
  plans: true,
  parse: parseRollback,
  run: async (ctx, settings, tools) => (await tools.steps(rollbackGraph(ctx, settings))).results,
  render: renderRollback,
};

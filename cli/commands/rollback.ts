import type { Command } from 'commander';
import {
  rollbackGraph,
  type RollbackSettings,
  type RollbackSteps,
} from '../../provision/commands/rollback-graph.js';
import type { CliCommand } from '../command.js';
import { parsePositiveInteger, type GlobalOptions } from '../options.js';
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

const ROLLBACK_HELP = `
A rollback registers a new revision: a copy of the chosen one that reads the token secret
version running now, so clients keep working with the current token. The desired count is left
to the autoscaler. A later "up" deploys the image it is given again (or builds one).
If the rollout fails, the circuit breaker puts the service back on the revision it ran, and the
error shows the service events, stopped reasons and the last log lines of a stopped task.

Examples:
  npx iclinic-deploy rollback --dry-run   which revision and image it would go back to
  npx iclinic-deploy rollback             back to the previous image
  npx iclinic-deploy rollback --to 7      back to revision 7 (see "npx iclinic-deploy status")`;

function declareRollback(program: Command): Command {
  return program
    .command('rollback')
    .description(
      "redeploy the previous (or --to) revision's image and settings, keeping the current token; waits and verifies like up",
    )
    .option(
      '--to <revision>',
      'the task definition revision to go back to ("status" lists them); default: the newest earlier one with another image or settings',
      parsePositiveInteger('--to'),
    )
    .option('--no-verify', 'skip the request through the load balancer after the rollout')
    .addHelpText('after', ROLLBACK_HELP);
}

export const rollbackCommand: CliCommand<RollbackSettings, RollbackSteps> = {
  declare: declareRollback,
  readsOnly: false,
  plans: true,
  parse: parseRollback,
  run: async (ctx, settings, tools) => (await tools.steps(rollbackGraph(ctx, settings))).results,
  render: renderRollback,
};

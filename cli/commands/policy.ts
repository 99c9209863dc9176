import type { Command } from 'commander';
import { deployerPolicy } from '../../provision/policy/index.js';
import type { CliCommand } from '../command.js';

/** The policy is JSON already: the same text with or without --json. */
export const policyCommand: CliCommand<undefined, ReturnType<typeof deployerPolicy>> = {
  declare: (program: Command) =>
    program
      .command('policy')
      .description(
        'print the least-privilege IAM policy (JSON) the deployer needs for every command',
      ),
  readsOnly: true,
  plans: false,
  ownJson: true,
  parse: async () => undefined,
  run: async (ctx) => deployerPolicy({ region: ctx.region, stack: ctx.names.stack }),
  render: (policy) => ({ json: policy, lines: [JSON.stringify(policy, null, 2)] }),
};

import type { Command } from 'commander';
import { stackFlags } from '../../provision/names.js';
import { hasErrorCode } from '../../provision/retry.js';
import { readTokenSecret } from '../../provision/resources/secret.js';
import type { CliCommand } from '../command.js';

/** Prints the token alone, for `$(npx iclinic-deploy token)`; --json gives it with the stack it belongs to. */
export const tokenCommand: CliCommand<undefined, string> = {
  declare: (program: Command) =>
    program
      .command('token')
      .description(
        'print the current token (for scripts: curl -H "Authorization: Token $(npx iclinic-deploy token)" ...)',
      ),
  readsOnly: true,
  plans: false,
  ownJson: true,
  parse: async () => undefined,
  run: async (ctx) => {
    try {
      return (await readTokenSecret(ctx)).token;
    } catch (error) {
      if (!hasErrorCode(error, 'ResourceNotFoundException')) throw error;
      throw new Error(
        `Stack "${ctx.names.stack}" has no token secret (${ctx.names.secret}) in ${ctx.region}; run "npx iclinic-deploy up${stackFlags(ctx.names.stack, ctx.region)}" first, or pass the --name and --region you deployed with.`,
      );
    }
  },
  render: (token, _settings, globals) => ({
    json: { command: 'token', stack: globals.name, region: globals.region, token },
    lines: [token],
  }),
};

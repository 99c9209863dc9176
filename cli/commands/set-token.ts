import { Option, type Command } from 'commander';
import type { StackContext } from '../../provision/context.js';
import type { Reporter } from '../../provision/events.js';
import {
  runSetToken,
  type SetTokenResult,
  type SetTokenSettings,
} from '../../provision/commands/set-token.js';
import { generateToken, validateToken } from '../../provision/token.js';
import type { CliCommand, CommandTools } from '../command.js';
import { UsageError } from '../errors.js';
import { parseDurationMs, type GlobalOptions } from '../options.js';
import type { Rendered } from '../output.js';
import { readStdin } from '../terminal.js';

interface SetTokenOptions {
  generate: boolean;
  grace: number;
  showToken: boolean;
  verify: boolean;
}

export interface SetTokenCliSettings extends SetTokenSettings {
  /** A generated token is printed once, or a given one with --show-token. */
  readonly printToken: boolean;
  /**
   * Printed alone on its line as soon as it is stored, before the rollout:
   * a rollout or check that fails, or a Ctrl-C, must not lose the token the
   * secret now holds. Not with --json (stdout is one JSON document).
   */
  readonly printWhenStored: boolean;
}

/** After a Ctrl-C once the new token is stored: ECS goes on without the tool. */
export const STORED_NOTE =
  'The new token was already stored (printed above if generated or --show-token): ECS finishes the rollout on its own, ' +
  'or its circuit breaker rolls it back. "npx iclinic-deploy token" prints the stored token, and ' +
  '"npx iclinic-deploy status" shows the revision the service runs; run set-token again if it still runs the old one.';

export async function parseSetToken(
  command: Command,
  globals: GlobalOptions,
  report: Reporter,
): Promise<SetTokenCliSettings> {
  const options = command.opts<SetTokenOptions>();
  const value = command.args[0];
  if (options.generate && value !== undefined)
    throw new UsageError('Give either a token value or --generate, not both.');
  if (!options.generate && value === undefined) {
    throw new UsageError(
      'Missing the new token: pass it as an argument, "-" to read it from stdin, or --generate.',
    );
  }
  const token = options.generate
    ? generateToken()
    : value === '-'
      ? await readStdin()
      : (value ?? '');
  for (const warning of validateToken(token).warnings) report.warn(warning);
  const printToken = options.generate || options.showToken;
  return {
    token,
    graceMs: options.grace,
    timeoutMs: globals.timeout * 60_000,
    verify: options.verify,
    printToken,
    printWhenStored: printToken && !globals.json && !globals.dryRun,
  };
}

function rotate(
  ctx: StackContext,
  settings: SetTokenCliSettings,
  tools: CommandTools,
): Promise<SetTokenResult> {
  tools.setInterruptNote('The token was not changed: nothing was written yet.');
  return runSetToken(ctx, settings, {
    start: tools.start,
    onTokenStored: () => {
      tools.setInterruptNote(STORED_NOTE);
      if (settings.printWhenStored) tools.print(settings.token);
    },
  });
}

export function renderSetToken(
  rotated: SetTokenResult,
  settings: Pick<SetTokenCliSettings, 'token' | 'printToken' | 'printWhenStored'>,
): Rendered {
  const json = {
    previousTokenValidUntil: rotated.previousTokenValidUntil,
    taskDefinition: rotated.taskDefinitionArn,
    deploymentId: rotated.deploymentId,
    verified: rotated.verified,
    unchanged: rotated.unchanged,
    ...(settings.printToken && !rotated.unchanged ? { token: settings.token } : {}),
  };
  if (rotated.unchanged) {
    return { json, lines: ['', 'The service already runs with this token; nothing was changed.'] };
  }
  const lines = [
    '',
    rotated.verified
      ? 'The new token is live.'
      : 'The new token is deployed (not checked through the load balancer: --no-verify).',
    // Printed alone on its line once stored (printWhenStored); with --json it is in the record.
    ...(settings.printToken && !settings.printWhenStored ? [`New token: ${settings.token}`] : []),
    rotated.previousTokenValidUntil === undefined
      ? 'The previous token is no longer accepted.'
      : `The previous token keeps working until ${rotated.previousTokenValidUntil}.`,
  ];
  return { json, lines };
}

/** A token that begins with "-" reads as an unknown option; the error must not print it. */
export function hideUnknownOption(text: string): string {
  return text.replace(
    /unknown option '[^']*'/,
    'unknown option (not shown: it may be a token). A value that begins with "-" goes after "--": set-token -- <value>',
  );
}

const SET_TOKEN_HELP = `
Examples:
  npx iclinic-deploy set-token --generate              random token, printed once as soon as it is stored
  printf %s "$T" | npx iclinic-deploy set-token -      value from stdin, not shell history
  npx iclinic-deploy set-token --generate --grace 10m  old token keeps working 10 minutes after the end
  npx iclinic-deploy set-token -- -starts-with-dash     a value that begins with "-" goes after --

A generated token (or any with --show-token) is printed on stdout, alone on its line, as soon as
it is stored, before the rollout: if the rollout or the check then fails, or you press Ctrl-C,
it is not lost ("npx iclinic-deploy token" prints the stored token at any time).
If the rollout fails, the secret and the service are put back and the old token keeps working.
The token the service already runs with changes nothing and ends with exit code 0.`;

function declareSetToken(program: Command): Command {
  return program
    .command('set-token')
    .description(
      'change the token: new secret version, rolling deployment, verification; the old token keeps working for --grace',
    )
    .argument(
      '[value]',
      'the new token, or "-" to read it from stdin (keeps it out of shell history)',
    )
    .configureOutput({
      outputError: (text, write) => write(hideUnknownOption(text)),
    })
    .option('--generate', 'generate a strong random token and print it once', false)
    .addOption(
      new Option(
        '--grace <duration>',
        'how long, at least, the previous token stays valid after the command ends (it is accepted until the end of --timeout plus this): 0, 90s, 5m, 1h (a bare number is seconds; at most 24h). 0 makes every new task refuse the old token',
      )
        .argParser(parseDurationMs)
        .default(5 * 60_000, '5m'),
    )
    .option('--show-token', 'print the new token even when it was given', false)
    .option('--no-verify', 'skip the requests through the load balancer after the rollout')
    .addHelpText('after', SET_TOKEN_HELP);
}

export const setTokenCommand: CliCommand<SetTokenCliSettings, SetTokenResult> = {
  declare: declareSetToken,
  readsOnly: false,
  plans: true,
  parse: parseSetToken,
  run: rotate,
  render: renderSetToken,
};

import type { Command } from 'commander';
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
import type { GlobalOptions } from '../options.js';
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
}

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
  return {
    token,
    graceMs: options.grace,
    timeoutMs: globals.timeout * 60_000,
    verify: options.verify,
    printToken: options.generate || options.showToken,
  };
}

function rotate(
  ctx: StackContext,
  settings: SetTokenSettings,
  tools: CommandTools,
): Promise<SetTokenResult> {
  return runSetToken(ctx, settings, { start: tools.start });
}

export function renderSetToken(
  rotated: SetTokenResult,
  settings: Pick<SetTokenCliSettings, 'token' | 'printToken'>,
): Rendered {
  const json = {
    previousTokenValidUntil: rotated.previousTokenValidUntil,
    taskDefinition: rotated.taskDefinitionArn,
    deploymentId: rotated.deploymentId,
    verified: rotated.verified,
    ...(settings.printToken ? { token: settings.token } : {}),
  };
  const lines = [
    '',
    rotated.verified
      ? 'The new token is live.'
      : 'The new token is deployed (not checked through the load balancer: --no-verify).',
    ...(settings.printToken ? [`New token: ${settings.token}`] : []),
    rotated.previousTokenValidUntil === undefined
      ? 'The previous token is no longer accepted.'
      : `The previous token keeps working until ${rotated.previousTokenValidUntil}.`,
  ];
  return { json, lines };
}

export const setTokenCommand: CliCommand<SetTokenCliSettings, SetTokenResult> = {
  readsOnly: false,
  plans: true,
  parse: parseSetToken,
  run: rotate,
  render: renderSetToken,
};

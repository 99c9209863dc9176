// Parses the service's settings from environment variables. Pure: takes an
// env object and returns either a config or the reason it cannot start, so
// the entry point decides how to report and exit and tests need no process.

/** Characters Hono's bearerAuth accepts in a token (RFC 6750 token68). */
export const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;

export const DEFAULT_PORT = 8080;

export interface ServerConfig {
  /** The current token (`ICLINIC_PASS`). */
  token: string;
  /** The previous token, accepted only until `previousUntil`. */
  previousToken?: string;
  /** Instant after which `previousToken` is rejected (epoch ms). */
  previousUntil?: number;
  port: number;
}

export type ConfigResult =
  { ok: true; config: ServerConfig; warnings: string[] } | { ok: false; error: string };

type Env = Record<string, string | undefined>;

function describeTokenProblem(name: string, value: string): string | undefined {
  if (!TOKEN_PATTERN.test(value)) {
    return (
      `${name} contains characters a client cannot send in "Authorization: Token <value>"; ` +
      'use only letters, digits and . _ ~ + / - (optionally followed by =)'
    );
  }
  return undefined;
}

export function parseConfig(env: Env): ConfigResult {
  const token = env.ICLINIC_PASS;
  if (token === undefined || token === '') {
    return {
      ok: false,
      error:
        'ICLINIC_PASS is not set or empty: refusing to start, since no request could ever be authenticated. ' +
        'Set ICLINIC_PASS to the API token.',
    };
  }
  const tokenProblem = describeTokenProblem('ICLINIC_PASS', token);
  if (tokenProblem) return { ok: false, error: `${tokenProblem}. Refusing to start.` };

  const portText = env.PORT;
  let port = DEFAULT_PORT;
  if (portText !== undefined && portText !== '') {
    if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
      return {
        ok: false,
        error: `PORT must be an integer between 1 and 65535 (got "${portText}")`,
      };
    }
    port = Number(portText);
  }

  const warnings: string[] = [];
  const config: ServerConfig = { token, port };
  const previous = env.ICLINIC_PASS_PREVIOUS;
  if (previous !== undefined && previous !== '') {
    const untilText = env.ICLINIC_PASS_PREVIOUS_UNTIL;
    const until = parseInstant(untilText);
    const previousProblem = describeTokenProblem('ICLINIC_PASS_PREVIOUS', previous);
    if (previousProblem) {
      warnings.push(`${previousProblem}; the previous token will not be accepted`);
    } else if (until === undefined) {
      warnings.push(
        'ICLINIC_PASS_PREVIOUS is set but ICLINIC_PASS_PREVIOUS_UNTIL is missing or not an ISO-8601 instant ' +
          '(e.g. 2026-01-31T12:00:00Z); the previous token will not be accepted',
      );
    } else {
      config.previousToken = previous;
      config.previousUntil = until;
    }
  }
  return { ok: true, config, warnings };
}

/** ISO-8601 date-time with a time zone (Z or ±hh:mm); anything else is rejected. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

export function parseInstant(text: string | undefined): number | undefined {
  if (text === undefined || !ISO_INSTANT.test(text.trim())) return undefined;
  const ms = Date.parse(text.trim());
  return Number.isFinite(ms) ? ms : undefined;
}

import { CredentialsError } from '../provision/up.js';
import { errorCode, errorMessage } from '../provision/retry.js';

const UNREACHABLE = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET']);

/**
 * A socket error the SDK let through as it was: its own `code`, not text
 * inside another error's message (a failed check through the load balancer
 * can mention ENOTFOUND while AWS itself was reachable).
 */
export function awsNetworkErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNREACHABLE.has(code) ? code : undefined;
}

/** Errors that reach the user get the advice the SDK does not give. */
export function explainError(
  error: unknown,
  context: { region: string; env?: NodeJS.ProcessEnv },
): string {
  const message = errorMessage(error);
  if (
    errorCode(error) === 'CredentialsProviderError' ||
    /Could not load credentials/i.test(message)
  ) {
    return new CredentialsError(message).message;
  }
  const code = awsNetworkErrorCode(error);
  if (code !== undefined) {
    const endpoint = context.env?.AWS_ENDPOINT_URL;
    const where =
      endpoint === undefined || endpoint === ''
        ? `AWS in region "${context.region}"`
        : `the endpoint AWS_ENDPOINT_URL=${endpoint}`;
    const advice =
      code === 'ENOTFOUND' && (endpoint === undefined || endpoint === '')
        ? `Check that "${context.region}" is a real AWS region enabled for your account (--region, AWS_REGION), and your network or proxy.`
        : 'Check your network, proxy or VPN, and try again.';
    return `Could not reach ${where} (${message}). ${advice}`;
  }
  return message;
}

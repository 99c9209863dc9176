import { CredentialsError } from '../provision/up.js';
import { errorCode, errorMessage, unreachableCode } from '../provision/retry.js';

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
  const code = unreachableCode(error);
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

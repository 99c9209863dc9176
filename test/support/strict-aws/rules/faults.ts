/**
 * Throttling and server errors on a small seeded share of calls, answered
 * without forwarding so a refused call has no side effect (as when AWS
 * throttles at the front door). The SDK retries each of them (the CLI's
 * clients use maxAttempts 5), so a share of 2 % with never two injections
 * in a row for one operation cannot exhaust the retries.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/throttling.html
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
import type { AwsErrorReply, AwsRequest, StrictRule, WireProtocol } from '../types.js';

/** Each protocol's throttling error, as the service itself spells it. */
const THROTTLING: Readonly<Record<WireProtocol, AwsErrorReply>> = {
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
  ec2: { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
  // https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html
  query: { status: 400, code: 'Throttling', message: 'Rate exceeded' },
  // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html
  json: { status: 400, code: 'ThrottlingException', message: 'Rate exceeded' },
  // https://docs.aws.amazon.com/cloudfront/latest/APIReference/CommonErrors.html
  'rest-xml': { status: 400, code: 'Throttling', message: 'Rate exceeded' },
};

const SERVER_ERRORS: Readonly<Record<WireProtocol, readonly AwsErrorReply[]>> = {
  ec2: [
    { status: 500, code: 'InternalError', message: 'An internal error has occurred.' },
    {
      status: 503,
      code: 'Unavailable',
      message: 'The server is overloaded and cannot handle the request.',
    },
  ],
  query: [
    {
      status: 500,
      code: 'InternalFailure',
      message: 'The request processing has failed because of an unknown error.',
    },
    {
      status: 503,
      code: 'ServiceUnavailable',
      message: 'The request has failed due to a temporary failure of the server.',
    },
  ],
  json: [
    {
      status: 500,
      code: 'InternalFailure',
      message: 'The request processing has failed because of an unknown error.',
    },
    { status: 503, code: 'ServiceUnavailableException', message: 'Service is unavailable.' },
  ],
  'rest-xml': [
    {
      status: 500,
      code: 'InternalFailure',
      message: 'The request processing has failed because of an unknown error.',
    },
    {
      status: 503,
      code: 'ServiceUnavailable',
      message: 'The request has failed due to a temporary failure of the server.',
    },
  ],
};

export interface FaultOptions {
  /** Share of calls answered with an injected fault, in [0, 1). */
  readonly share?: number;
}

export const DEFAULT_FAULT_SHARE = 0.02;

function operationKey(request: AwsRequest): string {
  return `${request.service}:${request.operation}`;
}

export function faultRule(options: FaultOptions = {}): StrictRule {
  const share = options.share ?? DEFAULT_FAULT_SHARE;
  // Operations whose previous call was injected: the next one goes through.
  const injectedLast = new Set<string>();
  return {
    name: 'faults',
    source: 'https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html',
    before(request, env) {
      const key = operationKey(request);
      if (injectedLast.delete(key)) return Promise.resolve(undefined);
      const draw = env.random(`faults:${key}`);
      if (draw >= share) return Promise.resolve(undefined);
      injectedLast.add(key);
      // Two thirds throttling, one third 500/503.
      const which = draw / share;
      const [internal, unavailable] = SERVER_ERRORS[request.protocol];
      const reply =
        which < 2 / 3 ? THROTTLING[request.protocol] : which < 5 / 6 ? internal : unavailable;
      return Promise.resolve(reply);
    },
    reset: () => injectedLast.clear(),
  };
}

export function faultRules(): StrictRule[] {
  return [faultRule()];
}

/**
 * Every request is checked against AWS's published API model of its service
 * (models/): a request the model rejects is answered the way the service
 * answers a constraint violation, naming the operation and the member, so
 * the CLI fails and the test with it. Every check is recorded for the
 * suite's summary (models/report.ts). STRICT_AWS_API_MODEL=record only
 * records, for a survey.
 */
import { checkRequest } from '../models/check.js';
import type { Problem } from '../models/decoded.js';
import { appendRecord } from '../models/report.js';
import type { AwsErrorReply, AwsRequest, StrictRule, WireProtocol } from '../types.js';

export type ApiModelMode = 'refuse' | 'record';

export interface ApiModelOptions {
  readonly mode?: ApiModelMode;
  /** The file each check is appended to; none when undefined. */
  readonly log?: string | undefined;
}

export function apiModelMode(env: NodeJS.ProcessEnv = process.env): ApiModelMode {
  return env.STRICT_AWS_API_MODEL === 'record' ? 'record' : 'refuse';
}

/**
 * The error code each protocol's services use for a constraint violation:
 * EC2 https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
 * (MissingParameter, UnknownParameter, InvalidParameterValue); IAM and the
 * other query services ValidationError (kubecost/docs#36: "Error Code:
 * ValidationError" for a bad roleName); JSON services ValidationException
 * with "1 validation error detected: Value … at 'role' failed to satisfy
 * constraint" (aarondfrancis/sidecar#147); CloudFront InvalidArgument
 * (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateDistribution.html#API_CreateDistribution_Errors),
 * which validates the same way (aws/aws-sdk-ruby#413: "Value null at
 * 'distributionConfig.origins.items.1.member.domainName' failed to satisfy
 * constraint: Member must not be null").
 */
function errorCode(protocol: WireProtocol, problems: readonly Problem[]): string {
  if (protocol === 'ec2') {
    if (problems.some((p) => p.kind === 'required')) return 'MissingParameter';
    if (problems.some((p) => p.kind === 'unknown')) return 'UnknownParameter';
    return 'InvalidParameterValue';
  }
  if (protocol === 'query') return 'ValidationError';
  if (protocol === 'rest-xml') return 'InvalidArgument';
  return 'ValidationException';
}

/** AWS's wording: "1 validation error detected: Value at 'x' failed to satisfy constraint: …". */
export function validationMessage(
  request: AwsRequest,
  model: string,
  problems: readonly Problem[],
): string {
  const count = `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected`;
  const each = problems.map((p) => {
    const value = p.received === undefined ? 'Value' : `Value ${p.received}`;
    return `${value} at '${p.path}' failed to satisfy constraint: ${p.constraint}`;
  });
  return `${count}: ${each.join('; ')} (strict-aws: ${request.service} ${request.operation} checked against botocore's ${model} model)`;
}

export function apiModelRule(options: ApiModelOptions = {}): StrictRule {
  const mode = options.mode ?? apiModelMode();
  return {
    name: 'api-model',
    source: 'https://github.com/boto/botocore/tree/develop/botocore/data (AWS API models)',
    before(request: AwsRequest): Promise<AwsErrorReply | undefined> {
      const check = checkRequest(request);
      const problems = check.checked ? check.problems : [];
      const refuse = mode === 'refuse' && problems.length > 0;
      if (options.log !== undefined) {
        appendRecord(options.log, {
          service: request.service,
          operation: request.operation,
          ...(check.checked ? { model: check.model } : {}),
          problems,
          skippedPatterns: check.checked ? check.skippedPatterns : [],
          refused: refuse,
        });
      }
      if (!refuse || !check.checked) return Promise.resolve(undefined);
      return Promise.resolve({
        status: 400,
        code: errorCode(request.protocol, problems),
        message: validationMessage(request, check.model, problems),
      });
    },
  };
}

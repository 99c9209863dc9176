/**
 * How the strict proxy reads a request and writes an error, per wire
 * protocol. The installed SDK clients (checked in
 * node_modules/@aws-sdk/client-* /dist-cjs/index.js, `protocol: config?.protocol ?? ...`)
 * use: EC2 → AwsEc2QueryProtocol; ELBv2, IAM, STS → AwsQueryProtocol;
 * ECS, ECR, Secrets Manager, CloudWatch Logs, Service Quotas →
 * AwsJson1_1Protocol; Application Auto Scaling → AwsJson1_1Protocol (signing
 * name application-autoscaling); CloudWatch → AwsJson1_0Protocol (signing
 * name monitoring, X-Amz-Target GraniteServiceVersion20100801.Op); SNS →
 * AwsQueryProtocol; CloudFront → AwsRestXmlProtocol. None uses CBOR
 * (rpcv2Cbor) in these versions.
 */
import { randomUUID } from 'node:crypto';
import type { AwsErrorReply, AwsRequest, WireProtocol, WireRequest } from './types.js';

const QUERY_SERVICES = new Set(['elasticloadbalancing', 'iam', 'sts', 'sns']);

/** The wire protocol of a SigV4 signing name. */
export function protocolOf(service: string): WireProtocol {
  if (service === 'ec2') return 'ec2';
  if (QUERY_SERVICES.has(service)) return 'query';
  if (service === 'cloudfront' || service === 'route53') return 'rest-xml';
  return 'json';
}

/**
 * CloudFront's REST routes the CLI uses (method, path under /2020-05-31,
 * query flag) → operation, from each operation's "Request Syntax" in
 * https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Operations.html
 */
const CLOUDFRONT_ROUTES: readonly {
  method: string;
  path: RegExp;
  query?: string;
  operation: string;
}[] = [
  {
    method: 'POST',
    path: /^\/distribution$/,
    query: 'WithTags',
    operation: 'CreateDistributionWithTags',
  },
  { method: 'POST', path: /^\/distribution$/, operation: 'CreateDistribution' },
  { method: 'GET', path: /^\/distribution$/, operation: 'ListDistributions' },
  { method: 'GET', path: /^\/distribution\/[^/]+\/config$/, operation: 'GetDistributionConfig' },
  { method: 'PUT', path: /^\/distribution\/[^/]+\/config$/, operation: 'UpdateDistribution' },
  { method: 'GET', path: /^\/distribution\/[^/]+$/, operation: 'GetDistribution' },
  { method: 'DELETE', path: /^\/distribution\/[^/]+$/, operation: 'DeleteDistribution' },
  { method: 'GET', path: /^\/tagging$/, operation: 'ListTagsForResource' },
  { method: 'POST', path: /^\/tagging$/, query: 'Operation=Tag', operation: 'TagResource' },
  { method: 'POST', path: /^\/tagging$/, query: 'Operation=Untag', operation: 'UntagResource' },
];

/**
 * Route 53's REST routes the CLI uses (under /2013-04-01), from each
 * operation's "Request Syntax" in
 * https://docs.aws.amazon.com/Route53/latest/APIReference/API_Operations_Amazon_Route_53.html
 */
const ROUTE53_ROUTES: typeof CLOUDFRONT_ROUTES = [
  { method: 'GET', path: /^\/hostedzone$/, operation: 'ListHostedZones' },
  { method: 'GET', path: /^\/hostedzone\/[^/]+$/, operation: 'GetHostedZone' },
  { method: 'GET', path: /^\/hostedzone\/[^/]+\/rrset\/?$/, operation: 'ListResourceRecordSets' },
  {
    method: 'POST',
    path: /^\/hostedzone\/[^/]+\/rrset\/?$/,
    operation: 'ChangeResourceRecordSets',
  },
  { method: 'GET', path: /^\/change\/[^/]+$/, operation: 'GetChange' },
];

/** Operation and parameters of a CloudFront or Route 53 REST-XML request, or undefined for a route not listed. */
export function restXmlOperation(
  method: string,
  url: string,
  service = 'cloudfront',
): { operation: string; params: Record<string, string> } | undefined {
  const parsed = new URL(url, 'http://localhost');
  const path = parsed.pathname.replace(/^\/\d{4}-\d{2}-\d{2}/, '');
  // The SDK writes a valueless flag as `WithTags=`: compare as key and value.
  const pairs = [...parsed.searchParams].map(([key, value]) =>
    value === '' ? key : `${key}=${value}`,
  );
  const routes = service === 'route53' ? ROUTE53_ROUTES : CLOUDFRONT_ROUTES;
  const route = routes.find(
    (r) =>
      r.method === method &&
      r.path.test(path) &&
      (r.query === undefined || pairs.includes(r.query)),
  );
  if (route === undefined) return undefined;
  const params: Record<string, string> = Object.fromEntries(parsed.searchParams);
  const id = /^\/(?:distribution|hostedzone|change)\/([^/]+)/.exec(path)?.[1];
  if (id !== undefined) params.Id = decodeURIComponent(id);
  return { operation: route.operation, params };
}

/**
 * Service and region from the SigV4 credential scope
 * (`Credential=AKID/20261201/us-east-1/ec2/aws4_request`), see
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export function credentialScope(
  authorization: string | undefined,
): { service: string; region: string } | undefined {
  const match = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
    authorization ?? '',
  );
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { region: match[1], service: match[2] };
}

/**
 * The app id runCli (test/support/cli.ts) sets in AWS_SDK_UA_APP_ID so the
 * proxy knows which stack and region a CLI run works on; the SDK appends it
 * to the User-Agent as `app/stack.NAME.REGION`.
 */
export function stackAppId(stack: string, region: string): string {
  return `stack.${stack}.${region}`;
}

export function stackFromUserAgent(
  userAgent: string | undefined,
): { stack: string; region: string } | undefined {
  const match = /(?:^|\s)app\/stack\.(\S+)\.([a-z0-9-]+)(?:\s|$)/.exec(userAgent ?? '');
  return match?.[1] === undefined || match[2] === undefined
    ? undefined
    : { stack: match[1], region: match[2] };
}

export type RawRequest = WireRequest;

function header(request: RawRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function formParams(request: RawRequest): Record<string, string> {
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  const params: Record<string, string> = {};
  for (const source of [query, request.body.toString('utf8')]) {
    for (const [key, value] of new URLSearchParams(source)) params[key] = value;
  }
  return params;
}

function jsonParams(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

/**
 * The AWS request in `raw`, or undefined when it is not a signed AWS API
 * call (moto's own /moto-api, or a request the proxy cannot attribute).
 */
export function parseAwsRequest(raw: RawRequest): AwsRequest | undefined {
  const scope = credentialScope(header(raw, 'authorization'));
  if (scope === undefined) return undefined;
  const protocol = protocolOf(scope.service);
  const run = stackFromUserAgent(header(raw, 'user-agent'));
  const stack = run?.stack;
  const cliRegion = run?.region;
  if (protocol === 'json') {
    // X-Amz-Target: AmazonEC2ContainerServiceV20141113.CreateCluster
    const target = header(raw, 'x-amz-target') ?? '';
    const operation = target.slice(target.lastIndexOf('.') + 1);
    if (operation === '') return undefined;
    return {
      ...scope,
      protocol,
      operation,
      params: jsonParams(raw.body),
      stack,
      cliRegion,
      wire: raw,
    };
  }
  if (protocol === 'rest-xml') {
    const found = restXmlOperation(raw.method, raw.url, scope.service);
    if (found === undefined) return undefined;
    // The XML body, for what a create sends in it (CloudFront's tags).
    const body = raw.body.length > 0 ? { Body: raw.body.toString('utf8') } : {};
    const params = { ...found.params, ...body };
    return { ...scope, protocol, operation: found.operation, params, stack, cliRegion, wire: raw };
  }
  const params = formParams(raw);
  const operation = params.Action;
  if (operation === undefined) return undefined;
  return { ...scope, protocol, operation, params, stack, cliRegion, wire: raw };
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface WireReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * An error in the shape each protocol's SDK parser reads:
 * EC2 https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html,
 * query https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/CommonErrors.html,
 * JSON https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization
 */
export function renderError(
  protocol: WireProtocol,
  reply: AwsErrorReply,
  requestId: string = randomUUID(),
): WireReply {
  const code = xmlEscape(reply.code);
  const message = xmlEscape(reply.message);
  if (protocol === 'ec2') {
    return {
      status: reply.status,
      headers: { 'content-type': 'text/xml;charset=UTF-8' },
      body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    };
  }
  if (protocol === 'query' || protocol === 'rest-xml') {
    // CloudFront's REST-XML errors have the query shape:
    // https://docs.aws.amazon.com/cloudfront/latest/APIReference/CommonErrors.html
    const type = reply.status >= 500 ? 'Receiver' : 'Sender';
    return {
      status: reply.status,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
  return {
    status: reply.status,
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-errortype': reply.code,
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: reply.code, message: reply.message }),
  };
}

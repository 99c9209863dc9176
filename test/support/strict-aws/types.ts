/**
 * The strict layer: an HTTP proxy between the CLI and moto that passes every
 * request through and adds what real AWS enforces and moto does not. Rules
 * are small objects; the proxy (proxy.ts) parses each request into an
 * `AwsRequest`, asks every rule's `before` hook whether AWS would refuse it,
 * forwards it to moto, and lets `after` hooks observe or rewrite the answer.
 * Each rule names the AWS source of the behaviour it adds.
 */
import type { TestClients } from '../aws.js';

/** How the service encodes requests and errors on the wire. */
export type WireProtocol =
  /** EC2's query dialect: form body, `<Response><Errors><Error>` errors. */
  | 'ec2'
  /** ELBv2, IAM, STS: form body, `<ErrorResponse><Error>` errors. */
  | 'query'
  /** ECS, ECR, Secrets Manager, CloudWatch Logs, Service Quotas: JSON 1.1 with X-Amz-Target. */
  | 'json'
  /** CloudFront: REST-XML, the operation in the method and path, `<ErrorResponse><Error>` errors. */
  | 'rest-xml';

export interface AwsRequest {
  /** Signing name from the SigV4 credential scope: ec2, ecs, elasticloadbalancing, iam, ... */
  readonly service: string;
  /** API operation, e.g. CreateVpc (from Action= or X-Amz-Target). */
  readonly operation: string;
  /** Region from the SigV4 credential scope. */
  readonly region: string;
  readonly protocol: WireProtocol;
  /**
   * Request parameters. Query protocols: the flat form map
   * (`TagSpecification.1.ResourceType` → value). JSON: the parsed body.
   * REST-XML: the path's `Id`, the query string (`Resource`, `Operation`) and the
   * XML body as `Body`.
   */
  readonly params: Readonly<Record<string, unknown>>;
  /** The stack the CLI run works on, when the test runner told the proxy (see proxy.ts). */
  readonly stack: string | undefined;
  /**
   * The region the CLI run works in (its --region), when the test runner told
   * the proxy; differs from `region` for IAM and STS calls signed for us-east-1.
   */
  readonly cliRegion?: string | undefined;
  /**
   * The request as it came: for a rule that reads what `params` leaves out
   * (a REST-XML body and headers, for the API-model check).
   */
  readonly wire?: WireRequest;
}

export interface WireRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/** A refusal in AWS's own error shape for the request's protocol. */
export interface AwsErrorReply {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

/** moto's raw answer; `after` hooks may return a rewritten body. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RuleEnv {
  /** SDK clients pointed straight at moto (not through the proxy), for the request's region. */
  readonly moto: (region: string) => TestClients;
  /**
   * Seeded decision in [0, 1): the same seed, key and call order give the
   * same answer, so a failing run can be replayed with STRICT_AWS_SEED.
   */
  readonly random: (key: string) => number;
  /** Milliseconds; the proxy's clock. */
  readonly now: () => number;
}

export interface StrictRule {
  /** Short name, shown in refusals' messages and the proxy's log. */
  readonly name: string;
  /** The AWS documentation (or issue thread) that says AWS behaves this way. */
  readonly source: string;
  /** Called before forwarding; an error reply means AWS would refuse the request. */
  before?(request: AwsRequest, env: RuleEnv): Promise<AwsErrorReply | undefined>;
  /** Called after moto answered; may return a rewritten response (or an error reply). */
  after?(
    request: AwsRequest,
    response: UpstreamResponse,
    env: RuleEnv,
  ): Promise<UpstreamResponse | AwsErrorReply | undefined>;
  /** Forget all state (moto was reset). */
  reset?(): void;
  /**
   * A test's instruction to the rule, sent as `POST /strict-aws/<command>`
   * with a JSON body to the proxy (e.g. the permission rule's `withhold`).
   * Returns true when this rule handled the command.
   */
  control?(command: string, args: Readonly<Record<string, unknown>>): boolean;
}

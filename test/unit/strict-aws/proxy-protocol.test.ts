import { describe, expect, it } from 'vitest';
import {
  credentialScope,
  parseAwsRequest,
  renderError,
  stackAppId,
  stackFromUserAgent,
  type RawRequest,
} from '../../support/strict-aws/protocol.js';

function auth(service: string, region = 'us-east-1'): string {
  return `AWS4-HMAC-SHA256 Credential=testing/20261201/${region}/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;
}

const UA = `aws-sdk-js/3.1169.0 ua/2.1 os/linux lang/js api/ec2#3.1169.0 m/E app/${stackAppId('demo', 'eu-west-1')}`;

function raw(headers: RawRequest['headers'], body: string, url = '/'): RawRequest {
  return { method: 'POST', url, headers, body: Buffer.from(body) };
}

describe('parsing a request per wire protocol', () => {
  it('reads service and region from the SigV4 credential scope', () => {
    expect(credentialScope(auth('elasticloadbalancing', 'sa-east-1'))).toEqual({
      service: 'elasticloadbalancing',
      region: 'sa-east-1',
    });
  });

  it('reads an EC2 query request: Action and the flat form parameters', () => {
    const request = parseAwsRequest(
      raw(
        { authorization: auth('ec2'), 'user-agent': UA },
        'Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16&TagSpecification.1.ResourceType=vpc',
      ),
    );
    expect(request).toMatchObject({
      service: 'ec2',
      protocol: 'ec2',
      operation: 'CreateVpc',
      region: 'us-east-1',
      stack: 'demo',
      cliRegion: 'eu-west-1',
      params: { CidrBlock: '10.0.0.0/16', 'TagSpecification.1.ResourceType': 'vpc' },
    });
  });

  it('reads ELBv2, IAM and STS as the query protocol', () => {
    for (const service of ['elasticloadbalancing', 'iam', 'sts']) {
      const request = parseAwsRequest(
        raw({ authorization: auth(service) }, 'Action=Describe&Version=1'),
      );
      expect(request?.protocol).toBe('query');
    }
  });

  it('reads a JSON 1.1 request: operation from X-Amz-Target, parameters from the body', () => {
    const request = parseAwsRequest(
      raw(
        {
          authorization: auth('ecs'),
          'x-amz-target': 'AmazonEC2ContainerServiceV20141113.CreateCluster',
          'user-agent': UA,
        },
        '{"clusterName":"demo","tags":[{"key":"k","value":"v"}]}',
      ),
    );
    expect(request).toMatchObject({
      protocol: 'json',
      operation: 'CreateCluster',
      params: { clusterName: 'demo' },
    });
  });

  it('does not attribute an unsigned request (moto-api, health checks)', () => {
    expect(parseAwsRequest(raw({}, ''))).toBeUndefined();
  });

  it('knows no stack when the user agent carries no stack app id', () => {
    expect(stackFromUserAgent('aws-sdk-js/3 ua/2.1 lang/js')).toBeUndefined();
    expect(stackFromUserAgent(UA)).toEqual({ stack: 'demo', region: 'eu-west-1' });
  });
});

describe('AWS error shapes per protocol', () => {
  const reply = { status: 403, code: 'AccessDenied', message: 'no <way> & no' };

  it('writes EC2 errors as Response/Errors/Error with RequestID', () => {
    const wire = renderError('ec2', { ...reply, code: 'UnauthorizedOperation' }, 'req-1');
    expect(wire.status).toBe(403);
    expect(wire.body).toContain(
      '<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>no &#60;way&#62; &#38; no</Message></Error></Errors><RequestID>req-1</RequestID></Response>',
    );
  });

  it('writes query errors as ErrorResponse with Type Sender and RequestId', () => {
    const wire = renderError('query', reply, 'req-2');
    expect(wire.body).toBe(
      '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no &#60;way&#62; &#38; no</Message></Error><RequestId>req-2</RequestId></ErrorResponse>',
    );
  });

  it('writes JSON errors with __type, message and x-amzn-errortype', () => {
    const wire = renderError('json', { status: 400, code: 'AccessDeniedException', message: 'm' });
    expect(JSON.parse(wire.body)).toEqual({ __type: 'AccessDeniedException', message: 'm' });
    expect(wire.headers['x-amzn-errortype']).toBe('AccessDeniedException');
  });
});

describe('parsing CloudFront REST-XML requests', () => {
  const headers = { authorization: auth('cloudfront'), 'user-agent': UA };
  const rest = (method: string, url: string): RawRequest => ({
    method,
    url,
    headers,
    body: Buffer.from('<DistributionConfigWithTags/>'),
  });

  it('reads each route the CLI uses as its operation, with the distribution id', () => {
    const cases: [string, string, string, Record<string, string>][] = [
      ['POST', '/2020-05-31/distribution?WithTags', 'CreateDistributionWithTags', {}],
      ['GET', '/2020-05-31/distribution?MaxItems=100', 'ListDistributions', {}],
      ['GET', '/2020-05-31/distribution/E2ABC/config', 'GetDistributionConfig', { Id: 'E2ABC' }],
      ['PUT', '/2020-05-31/distribution/E2ABC/config', 'UpdateDistribution', { Id: 'E2ABC' }],
      ['GET', '/2020-05-31/distribution/E2ABC', 'GetDistribution', { Id: 'E2ABC' }],
      ['DELETE', '/2020-05-31/distribution/E2ABC', 'DeleteDistribution', { Id: 'E2ABC' }],
    ];
    for (const [method, url, operation, params] of cases) {
      expect(parseAwsRequest(rest(method, url)), `${method} ${url}`).toMatchObject({
        service: 'cloudfront',
        protocol: 'rest-xml',
        operation,
        params,
        stack: 'demo',
      });
    }
  });

  it('reads CreateDistributionWithTags as the installed SDK sends it: ?WithTags= with an empty value', () => {
    expect(parseAwsRequest(rest('POST', '/2020-05-31/distribution?WithTags='))).toMatchObject({
      operation: 'CreateDistributionWithTags',
    });
  });

  it('reads the tagging routes with the resource ARN from the query string', () => {
    const arn = 'arn:aws:cloudfront::123456789012:distribution/E2ABC';
    const listed = parseAwsRequest(
      rest('GET', `/2020-05-31/tagging?Resource=${encodeURIComponent(arn)}`),
    );
    expect(listed).toMatchObject({ operation: 'ListTagsForResource', params: { Resource: arn } });
    const tagged = parseAwsRequest(
      rest('POST', `/2020-05-31/tagging?Operation=Tag&Resource=${encodeURIComponent(arn)}`),
    );
    expect(tagged).toMatchObject({ operation: 'TagResource', params: { Resource: arn } });
  });

  it('leaves a route it does not know unparsed (forwarded as is), rather than guessing', () => {
    expect(parseAwsRequest(rest('POST', '/2020-05-31/distribution/E2ABC/invalidation'))).toBe(
      undefined,
    );
  });

  it('writes errors in the <ErrorResponse> shape CloudFront uses', () => {
    const reply = renderError(
      'rest-xml',
      { status: 403, code: 'AccessDenied', message: 'no' },
      'req-1',
    );
    expect(reply.status).toBe(403);
    expect(reply.body).toContain(
      '<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>',
    );
  });
});

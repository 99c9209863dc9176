import {
  CloudFrontClient,
  CreateDistributionWithTagsCommand,
  TagResourceCommand,
  UpdateDistributionCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import { CreateLogGroupCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { CreateServiceCommand, ECSClient, type LaunchType } from '@aws-sdk/client-ecs';
import {
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  type ProtocolEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { ChangeResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stackNames } from '../../../provision/names.js';
import {
  desiredDistributionConfig,
  distributionTags,
  newOriginSecret,
} from '../../../provision/resources/cloudfront/config.js';
import { checkRequest } from '../../support/strict-aws/models/check.js';
import { restOperation } from '../../support/strict-aws/models/decode-rest-xml.js';
import type { Problem } from '../../support/strict-aws/models/decoded.js';
import { modelFor, type ServiceModel } from '../../support/strict-aws/models/loader.js';
import type { AwsRequest } from '../../support/strict-aws/types.js';
import { startSdkCapture, type SdkCapture } from './sdk-capture.js';

let sdk: SdkCapture;
beforeAll(async () => {
  sdk = await startSdkCapture();
});
afterAll(() => sdk?.stop());

function problemsOf(request: AwsRequest): readonly Problem[] {
  const check = checkRequest(request);
  if (!check.checked) throw new Error(check.reason);
  return check.problems;
}

/** `kind path` of each problem, the way a test reads best. */
function named(request: AwsRequest): string[] {
  return problemsOf(request).map((p) => `${p.kind} ${p.path}`);
}

const TRUST = JSON.stringify({ Version: '2012-10-17', Statement: [] });

describe('query protocol (IAM, ELBv2): Name.member.N lists', () => {
  const iam = () => new IAMClient(sdk.config);
  const role = (input: Partial<ConstructorParameters<typeof CreateRoleCommand>[0]>) =>
    sdk.capture(() =>
      iam().send(
        new CreateRoleCommand({
          RoleName: 'iclinic-task-execution',
          AssumeRolePolicyDocument: TRUST,
          Tags: [
            { Key: 'iclinic-deploy:stack', Value: 'iclinic' },
            { Key: 'Name', Value: 'iclinic' },
          ],
          ...input,
        }),
      ),
    );

  it('passes a CreateRole the model allows, tags and all', async () => {
    expect(named(await role({}))).toEqual([]);
  });

  it('names RoleName when it is longer than the model allows (64)', async () => {
    const problems = problemsOf(await role({ RoleName: 'r'.repeat(65) }));
    expect(problems).toEqual([
      {
        kind: 'length',
        path: 'RoleName',
        constraint: 'Member must have length less than or equal to 64',
        received: 'length 65',
      },
    ]);
  });

  it('names a required member that is missing', async () => {
    expect(named(await role({ AssumeRolePolicyDocument: undefined }))).toEqual([
      'required AssumeRolePolicyDocument',
    ]);
  });

  it('names RoleName when it breaks the pattern (a space), matching the whole value', async () => {
    expect(named(await role({ RoleName: 'iclinic role' }))).toEqual(['pattern RoleName']);
  });

  it('names the second tag key, decoded from Tags.member.2.Key, when it breaks its pattern', async () => {
    const tags = [
      { Key: 'ok', Value: 'v' },
      { Key: 'bad!', Value: 'v' },
    ];
    expect(named(await role({ Tags: tags }))).toEqual(['pattern Tags[1].Key']);
  });

  it('names Protocol when CreateTargetGroup sends a protocol outside the enum', async () => {
    const request = await sdk.capture(() =>
      new ElasticLoadBalancingV2Client(sdk.config).send(
        new CreateTargetGroupCommand({
          Name: 'iclinic',
          Protocol: 'HTTPX' as ProtocolEnum,
          Port: 8080,
          VpcId: 'vpc-1',
          TargetType: 'ip',
        }),
      ),
    );
    expect(problemsOf(request)).toEqual([
      expect.objectContaining({ kind: 'enum', path: 'Protocol', received: "'HTTPX'" }),
    ]);
  });

  it('reports a form field the operation has no member for', async () => {
    const request = await role({});
    const odd = { ...request, params: { ...request.params, 'Tags.member.1.Colour': 'red' } };
    expect(named(odd)).toEqual(['unknown Tags.member.1.Colour']);
  });
});

describe('EC2 protocol: Name.N lists, locationName capitalized', () => {
  const ec2 = () => new EC2Client(sdk.config);

  it('passes a CreateVpc with TagSpecification.1.Tag.1.Key', async () => {
    const request = await sdk.capture(() =>
      ec2().send(
        new CreateVpcCommand({
          CidrBlock: '10.0.0.0/16',
          TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'iclinic' }] }],
        }),
      ),
    );
    expect(request.params['TagSpecification.1.Tag.1.Key']).toBe('Name');
    expect(named(request)).toEqual([]);
  });

  it('names TagSpecifications[0].ResourceType when it is outside the enum', async () => {
    const request = await sdk.capture(() =>
      ec2().send(
        new CreateVpcCommand({
          CidrBlock: '10.0.0.0/16',
          TagSpecifications: [{ ResourceType: 'vpcx' as 'vpc', Tags: [] }],
        }),
      ),
    );
    expect(named(request)).toEqual(['enum TagSpecifications[0].ResourceType']);
  });

  it('names GroupName when CreateSecurityGroup misses it', async () => {
    const request = await sdk.capture(() =>
      ec2().send(
        new CreateSecurityGroupCommand({ Description: 'd' } as {
          Description: string;
          GroupName: string;
        }),
      ),
    );
    expect(named(request)).toEqual(['required GroupName']);
  });

  it('names MaxResults when it is below the model range (5..1000)', async () => {
    const request = await sdk.capture(() => ec2().send(new DescribeVpcsCommand({ MaxResults: 1 })));
    expect(problemsOf(request)).toEqual([
      {
        kind: 'range',
        path: 'MaxResults',
        constraint: 'Member must have value greater than or equal to 5',
        received: '1',
      },
    ]);
  });
});

describe('JSON protocol (CloudWatch Logs, ECS, Secrets Manager): the body', () => {
  it('passes a CreateLogGroup with a tag map', async () => {
    const request = await sdk.capture(() =>
      new CloudWatchLogsClient(sdk.config).send(
        new CreateLogGroupCommand({ logGroupName: '/ecs/iclinic', tags: { Name: 'iclinic' } }),
      ),
    );
    expect(named(request)).toEqual([]);
  });

  it('names logGroupName when it breaks the pattern', async () => {
    const request = await sdk.capture(() =>
      new CloudWatchLogsClient(sdk.config).send(
        new CreateLogGroupCommand({ logGroupName: '/ecs/iclinic api' }),
      ),
    );
    expect(named(request)).toEqual(['pattern logGroupName']);
  });

  it('names launchType when CreateService sends one outside the enum', async () => {
    const request = await sdk.capture(() =>
      new ECSClient(sdk.config).send(
        new CreateServiceCommand({ serviceName: 'api', launchType: 'FARGATEX' as LaunchType }),
      ),
    );
    expect(named(request)).toEqual(['enum launchType']);
  });

  it('names Name when CreateSecret sends one longer than 512', async () => {
    const request = await sdk.capture(() =>
      new SecretsManagerClient(sdk.config).send(
        new CreateSecretCommand({ Name: 's'.repeat(513), SecretString: 'x' }),
      ),
    );
    expect(named(request)).toEqual(['length Name']);
  });

  it('names a required member that is missing', async () => {
    const request = await sdk.capture(() =>
      new CloudWatchLogsClient(sdk.config).send(
        new CreateLogGroupCommand({} as { logGroupName: string }),
      ),
    );
    expect(named(request)).toEqual(['required logGroupName']);
  });
});

describe('REST-XML (CloudFront): URI, query string, headers and the XML body', () => {
  const cloudfront = () => new CloudFrontClient(sdk.config);
  const names = stackNames('iclinic', 'us-east-1');
  const config = (): DistributionConfig =>
    desiredDistributionConfig(
      names,
      'us-east-1',
      { originDomainName: 'alb-1.us-east-1.elb.amazonaws.com', originProtocolPolicy: 'http-only' },
      newOriginSecret(),
      'iclinic-us-east-1-1',
    );
  const create = (distribution: DistributionConfig) =>
    sdk.capture(() =>
      cloudfront().send(
        new CreateDistributionWithTagsCommand({
          DistributionConfigWithTags: {
            DistributionConfig: distribution,
            Tags: { Items: distributionTags(names, 'us-east-1') },
          },
        }),
      ),
    );
  const ROOT = 'DistributionConfigWithTags.DistributionConfig';

  it("passes the tool's own CreateDistributionWithTags", async () => {
    expect(named(await create(config()))).toEqual([]);
  });

  it('names ViewerProtocolPolicy deep in the body when it is outside the enum', async () => {
    const distribution = config();
    const behavior = { ...distribution.DefaultCacheBehavior, ViewerProtocolPolicy: 'https' };
    const request = await create({
      ...distribution,
      DefaultCacheBehavior: behavior as DistributionConfig['DefaultCacheBehavior'],
    });
    expect(named(request)).toEqual([`enum ${ROOT}.DefaultCacheBehavior.ViewerProtocolPolicy`]);
  });

  it('names Comment when the body misses it', async () => {
    const request = await create({
      ...config(),
      Comment: undefined,
    } as unknown as DistributionConfig);
    expect(named(request)).toEqual([`required ${ROOT}.Comment`]);
  });

  it('names a tag value longer than 256', async () => {
    const request = await sdk.capture(() =>
      cloudfront().send(
        new TagResourceCommand({
          Resource: 'arn:aws:cloudfront::123456789012:distribution/E2ABC',
          Tags: { Items: [{ Key: 'k', Value: 'v'.repeat(257) }] },
        }),
      ),
    );
    expect(named(request)).toEqual(['length Tags.Items[0].Value']);
  });

  it('names the Resource query parameter and a tag key that break their patterns', async () => {
    const request = await sdk.capture(() =>
      cloudfront().send(
        new TagResourceCommand({
          Resource: 'distribution/E2ABC',
          Tags: { Items: [{ Key: 'bad!', Value: 'v' }] },
        }),
      ),
    );
    expect(named(request).sort()).toEqual(['pattern Resource', 'pattern Tags.Items[0].Key']);
  });

  it('passes an UpdateDistribution: Id from the path, IfMatch from the header', async () => {
    const request = await sdk.capture(() =>
      cloudfront().send(
        new UpdateDistributionCommand({
          Id: 'E2ABC',
          IfMatch: 'ETAG1',
          DistributionConfig: config(),
        }),
      ),
    );
    expect(named(request)).toEqual([]);
  });

  it('reports a body element the model has no member for', async () => {
    const request = await create(config());
    const wire = request.wire;
    if (wire === undefined) throw new Error('no wire form');
    const body = wire.body.toString('utf8').replace('<Enabled>', '<Colour>red</Colour><Enabled>');
    expect(named({ ...request, wire: { ...wire, body: Buffer.from(body) } })).toEqual([
      `unknown ${ROOT}.Colour`,
    ]);
  });
});

describe('REST operations read from the model, not a table', () => {
  const model = (signingName: string): ServiceModel => {
    const found = modelFor(signingName);
    if (found === undefined) throw new Error(`no model for ${signingName}`);
    return found;
  };

  it('finds the operation of each CloudFront request the SDK sends, as the proxy does', async () => {
    const cloudfront = new CloudFrontClient(sdk.config);
    const arn = 'arn:aws:cloudfront::123456789012:distribution/E2ABC';
    const requests = [
      await sdk.capture(() =>
        cloudfront.send(
          new CreateDistributionWithTagsCommand({
            DistributionConfigWithTags: {
              DistributionConfig: { CallerReference: 'c' } as DistributionConfig,
              Tags: { Items: [] },
            },
          }),
        ),
      ),
      await sdk.capture(() => cloudfront.send(new TagResourceCommand({ Resource: arn, Tags: {} }))),
      await sdk.capture(() =>
        cloudfront.send(
          new UpdateDistributionCommand({
            Id: 'E2ABC',
            IfMatch: 'E1',
            DistributionConfig: { CallerReference: 'c' } as DistributionConfig,
          }),
        ),
      ),
    ];
    expect(
      requests.map((r) =>
        restOperation(model('cloudfront'), r.wire?.method ?? '', r.wire?.url ?? ''),
      ),
    ).toEqual(['CreateDistributionWithTags', 'TagResource', 'UpdateDistribution']);
  });

  it('finds the operation and the zone id of ChangeResourceRecordSets as the installed SDK sends it (no trailing slash)', async () => {
    const route53 = new Route53Client(sdk.config);
    const request = await sdk.capture(() =>
      route53.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: 'Z123',
          ChangeBatch: {
            Changes: [
              {
                Action: 'CREATE',
                ResourceRecordSet: {
                  Name: 'api.example.com.',
                  Type: 'CNAME',
                  TTL: 300,
                  ResourceRecords: [{ Value: 'x.example.net' }],
                },
              },
            ],
          },
        }),
      ),
    );
    const method = request.wire?.method ?? '';
    const url = request.wire?.url ?? '';
    expect(restOperation(model('route53'), method, url)).toBe('ChangeResourceRecordSets');
    expect(named(request)).toEqual([]);
  });

  it("finds Route 53's operations by their requestUri (a trailing slash, a query flag)", () => {
    const route53 = model('route53');
    expect(restOperation(route53, 'POST', '/2013-04-01/hostedzone/Z123/rrset/')).toBe(
      'ChangeResourceRecordSets',
    );
    expect(restOperation(route53, 'GET', '/2013-04-01/hostedzone/Z123')).toBe('GetHostedZone');
    expect(restOperation(route53, 'GET', '/2013-04-01/hostedzonesbyname?dnsname=example.com')).toBe(
      'ListHostedZonesByName',
    );
  });
});

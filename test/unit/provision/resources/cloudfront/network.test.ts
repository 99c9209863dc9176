import { DescribeManagedPrefixListsCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import {
  admitsCloudFront,
  cloudFrontIngressPermission,
  findCloudFrontPrefixList,
  openToTheInternet,
} from '../../../../../provision/resources/cloudfront/prefix-list.js';
import {
  deniedDefaultAction,
  isDeniedDefault,
  originRule,
  originRuleDrift,
} from '../../../../../provision/resources/cloudfront/listener.js';
import { CloudFrontRegionUnsupportedError } from '../../../../../provision/resources/cloudfront/errors.js';
import { awsError, testContext } from '../../../support/context.js';

const NAME = 'com.amazonaws.global.cloudfront.origin-facing';
const SECRET = { headerName: 'X-Origin-Verify', value: 'b'.repeat(64) };
const TG = 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/iclinic-tg/1';

describe('findCloudFrontPrefixList', () => {
  it('looks the list up by its name and returns its id', async () => {
    const { ctx, mocks } = testContext();
    mocks.ec2.on(DescribeManagedPrefixListsCommand).resolves({
      PrefixLists: [{ PrefixListId: 'pl-cf', PrefixListName: NAME, MaxEntries: 55 }],
    });
    expect(await findCloudFrontPrefixList(ctx)).toEqual({ id: 'pl-cf', maxEntries: 55 });
    expect(mocks.ec2.commandCalls(DescribeManagedPrefixListsCommand)[0]?.args[0].input).toEqual({
      Filters: [{ Name: 'prefix-list-name', Values: [NAME] }],
    });
  });

  it('names a region without the list as unsupported for CloudFront mode, and the modes that work there', async () => {
    const { ctx, mocks } = testContext();
    mocks.ec2.on(DescribeManagedPrefixListsCommand).resolves({ PrefixLists: [] });

    const jakarta = { ...ctx, region: 'ap-southeast-3' };
    const error = await findCloudFrontPrefixList(jakarta).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CloudFrontRegionUnsupportedError);
    const text = (error as Error).message;
    expect(text).toContain('CloudFront mode is not available in region ap-southeast-3');
    expect(text).toContain(NAME);
    expect(text).toContain('"npx iclinic-deploy up --plain-http"');
    expect(text).toContain('"npx iclinic-deploy up --certificate-arn <ACM certificate ARN>"');
    expect(text).not.toMatch(/every commercial region/i);
  });

  it('reads InvalidAction (no managed prefix lists in the region) as the same unsupported region', async () => {
    const { ctx, mocks } = testContext();
    mocks.ec2
      .on(DescribeManagedPrefixListsCommand)
      .rejects(
        awsError(
          'InvalidAction',
          'The action DescribeManagedPrefixLists is not valid for this web service.',
        ),
      );
    await expect(findCloudFrontPrefixList({ ...ctx, region: 'ap-northeast-3' })).rejects.toThrow(
      /not available in region ap-northeast-3.*InvalidAction: The action DescribeManagedPrefixLists is not valid/,
    );
  });

  it('lets any other error through, such as a missing permission', async () => {
    const { ctx, mocks } = testContext();
    const denied = awsError(
      'UnauthorizedOperation',
      'You are not authorized to perform this operation.',
    );
    mocks.ec2.on(DescribeManagedPrefixListsCommand).rejects(denied);
    await expect(findCloudFrontPrefixList(ctx)).rejects.toBe(denied);
  });
});

describe('the security group rule', () => {
  it('admits TCP 80 from the prefix list only', () => {
    const rule = cloudFrontIngressPermission('pl-cf');
    expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 80, ToPort: 80 });
    expect(rule.IpRanges).toBeUndefined();
    expect(admitsCloudFront([rule], 'pl-cf')).toBe(true);
  });

  it('sees a removed prefix-list rule as missing', () => {
    expect(admitsCloudFront([{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80 }], 'pl-cf')).toBe(
      false,
    );
  });

  it('finds the 0.0.0.0/0 rules to revoke', () => {
    const open = openToTheInternet([
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
      cloudFrontIngressPermission('pl-cf'),
    ]);
    expect(open).toEqual([
      {
        IpProtocol: 'tcp',
        FromPort: 80,
        ToPort: 80,
        IpRanges: [{ CidrIp: '0.0.0.0/0' }],
        Ipv6Ranges: [],
      },
    ]);
  });
});

describe('the listener rule and default action', () => {
  it('forwards at priority 1 only with the origin header', () => {
    expect(originRule(SECRET, TG)).toEqual({
      Priority: 1,
      Conditions: [
        {
          Field: 'http-header',
          HttpHeaderConfig: { HttpHeaderName: 'X-Origin-Verify', Values: [SECRET.value] },
        },
      ],
      Actions: [{ Type: 'forward', TargetGroupArn: TG }],
    });
  });

  it('answers anything else with a fixed 403', () => {
    const action = deniedDefaultAction();
    expect(action.FixedResponseConfig?.StatusCode).toBe('403');
    expect(isDeniedDefault([action])).toBe(true);
    expect(isDeniedDefault([{ Type: 'forward', TargetGroupArn: TG }])).toBe(false);
  });

  it('names a changed header value as drift without showing it', () => {
    const rule = originRule({ ...SECRET, value: 'c'.repeat(64) }, TG);
    const drift = originRuleDrift({ ...rule, Priority: '1' }, SECRET, TG);
    expect(drift).toEqual(['origin header condition']);
    expect(drift.join()).not.toContain(SECRET.value);
    expect(originRuleDrift({ ...originRule(SECRET, TG), Priority: '1' }, SECRET, TG)).toEqual([]);
  });
});

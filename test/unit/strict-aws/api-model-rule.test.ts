import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFrontClient, TagResourceCommand } from '@aws-sdk/client-cloudfront';
import { CreateLogGroupCommand, CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CreateSecurityGroupCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecords, summarize } from '../../support/strict-aws/models/report.js';
import { startStrictProxy } from '../../support/strict-aws/proxy.js';
import { apiModelMode, apiModelRule } from '../../support/strict-aws/rules/api-model.js';
import type { AwsRequest } from '../../support/strict-aws/types.js';
import { noMoto } from './rules-env.js';
import { startSdkCapture, type SdkCapture } from './sdk-capture.js';

let sdk: SdkCapture;
let dir: string;
beforeAll(async () => {
  sdk = await startSdkCapture();
  dir = mkdtempSync(join(tmpdir(), 'api-model-'));
});
afterAll(async () => {
  await sdk?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const TRUST = '{"Version":"2012-10-17","Statement":[]}';

function createRole(roleName: string): Promise<AwsRequest> {
  return sdk.capture(() =>
    new IAMClient(sdk.config).send(
      new CreateRoleCommand({ RoleName: roleName, AssumeRolePolicyDocument: TRUST }),
    ),
  );
}

describe('the API-model rule', () => {
  it("refuses a query request with ValidationError naming the operation and the member, in AWS's wording", async () => {
    const reply = await apiModelRule({ mode: 'refuse' }).before?.(
      await createRole('r'.repeat(65)),
      noMoto,
    );
    expect(reply).toEqual({
      status: 400,
      code: 'ValidationError',
      message:
        "1 validation error detected: Value length 65 at 'RoleName' failed to satisfy constraint: " +
        'Member must have length less than or equal to 64 ' +
        "(strict-aws: iam CreateRole checked against botocore's iam 2010-05-08 model)",
    });
  });

  it("answers in each protocol's own code: EC2 MissingParameter, JSON ValidationException, CloudFront InvalidArgument", async () => {
    const rule = apiModelRule({ mode: 'refuse' });
    const ec2 = await sdk.capture(() =>
      new EC2Client(sdk.config).send(
        new CreateSecurityGroupCommand({ Description: 'd' } as {
          Description: string;
          GroupName: string;
        }),
      ),
    );
    const logs = await sdk.capture(() =>
      new CloudWatchLogsClient(sdk.config).send(new CreateLogGroupCommand({ logGroupName: 'a b' })),
    );
    const cloudfront = await sdk.capture(() =>
      new CloudFrontClient(sdk.config).send(
        new TagResourceCommand({
          Resource: 'arn:aws:cloudfront::123456789012:distribution/E2ABC',
          Tags: { Items: [{ Key: 'bad!' }] },
        }),
      ),
    );
    const codes = await Promise.all(
      [ec2, logs, cloudfront].map(async (r) => (await rule.before?.(r, noMoto))?.code),
    );
    expect(codes).toEqual(['MissingParameter', 'ValidationException', 'InvalidArgument']);
  });

  it('shows the length of a value that breaks a pattern, never the value (it may be a secret)', async () => {
    const reply = await apiModelRule({ mode: 'refuse' }).before?.(
      await createRole('iclinic secret-ish'),
      noMoto,
    );
    expect(reply?.message).toContain("Value length 18 at 'RoleName'");
    expect(reply?.message).not.toContain('secret-ish');
  });

  it('in record mode lets a rejected request through and records it as not refused', async () => {
    const log = join(dir, 'record.jsonl');
    const rule = apiModelRule({ mode: 'record', log });
    expect(await rule.before?.(await createRole('r'.repeat(65)), noMoto)).toBeUndefined();
    expect(readRecords(log)).toEqual([
      expect.objectContaining({
        service: 'iam',
        operation: 'CreateRole',
        model: 'iam 2010-05-08',
        refused: false,
        problems: [expect.objectContaining({ kind: 'length', path: 'RoleName' })],
      }),
    ]);
  });

  it('records every request it checks, valid ones too, for the summary', async () => {
    const log = join(dir, 'summary.jsonl');
    const rule = apiModelRule({ mode: 'refuse', log });
    await rule.before?.(await createRole('iclinic-a'), noMoto);
    await rule.before?.(await createRole('iclinic-b'), noMoto);
    await rule.before?.(await createRole('bad name'), noMoto);
    expect(summarize(readRecords(log))).toEqual([
      'API models (botocore): 3 requests of 1 operations checked, 1 rejected; 0 patterns not compilable (skipped)',
      '  1× iam:CreateRole RoleName: Member must satisfy regular expression pattern: [\\w+=,.@-]+ (got length 8)',
    ]);
  });

  it('fails the SDK call itself through the proxy, with the operation and the member in the error', async () => {
    const proxy = await startStrictProxy({
      motoEndpoint: sdk.config.endpoint,
      seed: 's',
      rules: [apiModelRule({ mode: 'refuse' })],
    });
    const config = { ...sdk.config, endpoint: proxy.endpoint };
    try {
      await expect(
        new IAMClient(config).send(
          new CreateRoleCommand({ RoleName: 'r'.repeat(65), AssumeRolePolicyDocument: TRUST }),
        ),
      ).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(/'RoleName'.*iam CreateRole/),
      });
      await expect(
        new CloudFrontClient(config).send(
          new TagResourceCommand({
            Resource: 'arn:aws:cloudfront::123456789012:distribution/E2ABC',
            Tags: { Items: [{ Key: 'bad!' }] },
          }),
        ),
      ).rejects.toMatchObject({
        name: 'InvalidArgument',
        message: expect.stringMatching(/'Tags.Items\[0\].Key'.*cloudfront TagResource/),
      });
    } finally {
      await proxy.stop();
    }
  });

  it('refuses unless STRICT_AWS_API_MODEL=record', () => {
    expect(apiModelMode({})).toBe('refuse');
    expect(apiModelMode({ STRICT_AWS_API_MODEL: 'record' })).toBe('record');
  });
});

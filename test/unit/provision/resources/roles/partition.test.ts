import { describe, expect, it } from 'vitest';
import {
  planExecutionRole,
  readSecretPolicyDocument,
  TASK_EXECUTION_MANAGED_POLICY_ARN,
  trustPolicyDocument,
} from '../../../../../provision/resources/roles/index.js';
import { testContext } from '../../../support/context.js';

const SECRET_ARN =
  'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:iclinic/api-token-AbCdEf';

describe('planExecutionRole outside the commercial partition', () => {
  it("attaches GovCloud's own AmazonECSTaskExecutionRolePolicy in us-gov-west-1, not the arn:aws: one", () => {
    const { ctx } = testContext();
    const changes = planExecutionRole(
      { ...ctx, region: 'us-gov-west-1' },
      {
        roleArn: 'arn:aws-us-gov:iam::123456789012:role/iclinic-us-gov-west-1-exec',
        trustPolicy: trustPolicyDocument(),
        attachedPolicyArns: [TASK_EXECUTION_MANAGED_POLICY_ARN],
        inlinePolicy: readSecretPolicyDocument(SECRET_ARN),
        tagged: true,
      },
      { secretArn: SECRET_ARN },
    );
    expect(changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create managed policy attachment',
    ]);
  });
});

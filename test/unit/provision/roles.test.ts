import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  CreateServiceLinkedRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import {
  ensureExecutionRole,
  ensureServiceLinkedRoles,
  removeExecutionRole,
  TASK_EXECUTION_MANAGED_POLICY_ARN,
  trustPolicyDocument,
} from '../../../provision/roles.js';
import { awsError, mutatingOperations, testContext } from '../support/context.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/iclinic-task-execution';

const existingRole = {
  Role: {
    RoleName: 'iclinic-task-execution',
    Arn: ROLE_ARN,
    Path: '/',
    RoleId: 'AROA',
    CreateDate: new Date(),
    // IAM returns policy documents URL-encoded.
    AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trustPolicyDocument())),
    Tags: [{ Key: 'iclinic-deploy:stack', Value: 'iclinic' }],
  },
};

// Same statement, different key order and list form: not drift.
const equivalentInlinePolicy = encodeURIComponent(
  JSON.stringify({
    Statement: [
      { Resource: [SECRET_ARN], Action: ['secretsmanager:GetSecretValue'], Effect: 'Allow' },
    ],
    Version: '2012-10-17',
  }),
);

function convergedRole() {
  const { ctx, mocks } = testContext();
  mocks.iam.on(GetRoleCommand).resolves(existingRole);
  mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({
    AttachedPolicies: [{ PolicyArn: TASK_EXECUTION_MANAGED_POLICY_ARN, PolicyName: 'x' }],
  });
  mocks.iam.on(GetRolePolicyCommand).resolves({
    RoleName: 'iclinic-task-execution',
    PolicyName: 'iclinic-read-token',
    PolicyDocument: equivalentInlinePolicy,
  });
  return { ctx, mocks };
}

describe('ensureExecutionRole', () => {
  it('creates the role with an inline policy limited to GetSecretValue on the secret ARN', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam
      .on(GetRoleCommand)
      .rejectsOnce(
        awsError('NoSuchEntity', 'The role with name iclinic-task-execution cannot be found.'),
      )
      .resolves({ ...existingRole, Role: { ...existingRole.Role, Tags: [] } });
    mocks.iam.on(CreateRoleCommand).resolves({});
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    mocks.iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity', 'no policy'));

    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });

    expect(result).toMatchObject({ outcome: 'created', value: { roleArn: ROLE_ARN } });
    const trust = JSON.parse(
      mocks.iam.commandCalls(CreateRoleCommand)[0]?.args[0].input.AssumeRolePolicyDocument ?? '',
    );
    expect(trust.Statement[0].Principal).toEqual({ Service: 'ecs-tasks.amazonaws.com' });
    const put = mocks.iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input;
    expect(put?.PolicyName).toBe('iclinic-read-token');
    expect(JSON.parse(put?.PolicyDocument ?? '')).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRET_ARN },
      ],
    });
    expect(mocks.iam.commandCalls(AttachRolePolicyCommand)[0]?.args[0].input.PolicyArn).toBe(
      TASK_EXECUTION_MANAGED_POLICY_ARN,
    );
  });

  it('makes no mutating call when everything matches (URL-encoded, reordered policy)', async () => {
    const { ctx, mocks } = convergedRole();
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.outcome).toBe('unchanged');
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('re-attaches a detached managed policy', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.outcome).toBe('updated');
    expect(mutatingOperations(mocks.iam)).toEqual(['AttachRolePolicy']);
  });

  it('rewrites the inline policy when it points at another secret', async () => {
    const { ctx, mocks } = convergedRole();
    const widened = encodeURIComponent(
      JSON.stringify(trustPolicyDocument()).replace('sts:AssumeRole', 'secretsmanager:*'),
    );
    mocks.iam
      .on(GetRolePolicyCommand)
      .resolves({ RoleName: 'r', PolicyName: 'p', PolicyDocument: widened });
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.changes.join()).toMatch(/drifted inline policy/);
    expect(mutatingOperations(mocks.iam)).toEqual(['PutRolePolicy']);
  });

  it('rejects a secret name instead of an ARN before any call', async () => {
    const { ctx, mocks } = testContext();
    await expect(ensureExecutionRole(ctx, { secretArn: 'iclinic/api-token' })).rejects.toThrow(
      /Invalid secret ARN/,
    );
    expect(mocks.iam.calls()).toHaveLength(0);
  });
});

describe('ensureServiceLinkedRoles', () => {
  it('creates only the missing role and treats "has been taken" as existing', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'not found'));
    mocks.iam.on(ListRolesCommand).resolves({ Roles: [] });
    mocks.iam
      .on(CreateServiceLinkedRoleCommand, { AWSServiceName: 'ecs.amazonaws.com' })
      .rejects(
        awsError(
          'InvalidInput',
          'Service role name AWSServiceRoleForECS has been taken in this account',
        ),
      )
      .on(CreateServiceLinkedRoleCommand, { AWSServiceName: 'elasticloadbalancing.amazonaws.com' })
      .resolves({});

    const result = await ensureServiceLinkedRoles(ctx);

    expect(result.outcome).toBe('created');
    expect(result.changes).toEqual([
      'service-linked role AWSServiceRoleForElasticLoadBalancing: created',
    ]);
  });

  it('makes no mutating call when both roles exist', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetRoleCommand).resolves(existingRole);
    expect((await ensureServiceLinkedRoles(ctx)).outcome).toBe('unchanged');
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });
});

describe('removeExecutionRole', () => {
  it('detaches, deletes inline policies, then deletes the role', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['iclinic-read-token'] });
    const result = await removeExecutionRole(ctx);
    expect(result.removed).toEqual(['IAM role iclinic-task-execution']);
    expect(mutatingOperations(mocks.iam)).toEqual([
      'DetachRolePolicy',
      'DeleteRolePolicy',
      'DeleteRole',
    ]);
    expect(mocks.iam.commandCalls(DetachRolePolicyCommand)).toHaveLength(1);
    expect(mocks.iam.commandCalls(DeleteRolePolicyCommand)).toHaveLength(1);
    expect(mocks.iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
  });

  it('is safe when the role is already gone', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity', 'gone'));
    expect((await removeExecutionRole(ctx)).removed).toEqual([]);
  });
});

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
} from '../../../../provision/resources/roles.js';
import { awsError, mutatingOperations, testContext } from '../../support/context.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-AbCdEf';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/iclinic-us-east-1-exec';

const existingRole = {
  Role: {
    RoleName: 'iclinic-us-east-1-exec',
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
    RoleName: 'iclinic-us-east-1-exec',
    PolicyName: 'iclinic-us-east-1-read-token',
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
        awsError('NoSuchEntity', 'The role with name iclinic-us-east-1-exec cannot be found.'),
      )
      .resolves({ ...existingRole, Role: { ...existingRole.Role, Tags: [] } });
    mocks.iam.on(CreateRoleCommand).resolves(existingRole);
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    mocks.iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity', 'no policy'));

    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });

    expect(result.value).toEqual({ roleArn: ROLE_ARN });
    expect(result.changes.map((c) => `${c.action} ${c.kind}`)).toEqual([
      'create IAM role',
      'create managed policy attachment',
      'create inline policy',
    ]);
    const trust = JSON.parse(
      mocks.iam.commandCalls(CreateRoleCommand)[0]?.args[0].input.AssumeRolePolicyDocument ?? '',
    );
    expect(trust.Statement[0].Principal).toEqual({ Service: 'ecs-tasks.amazonaws.com' });
    const put = mocks.iam.commandCalls(PutRolePolicyCommand)[0]?.args[0].input;
    expect(put?.PolicyName).toBe('iclinic-us-east-1-read-token');
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
    expect(result.changes).toEqual([]);
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('re-attaches a detached managed policy', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.changes).toEqual([
      {
        action: 'create',
        kind: 'managed policy attachment',
        name: 'AmazonECSTaskExecutionRolePolicy',
        detail: 'on iclinic-us-east-1-exec',
      },
    ]);
    expect(mutatingOperations(mocks.iam)).toEqual(['AttachRolePolicy']);
  });

  it('rewrites an inline policy that grants more than GetSecretValue, naming both grants', async () => {
    const { ctx, mocks } = convergedRole();
    const widened = encodeURIComponent(
      JSON.stringify(trustPolicyDocument()).replace('sts:AssumeRole', 'secretsmanager:*'),
    );
    mocks.iam
      .on(GetRolePolicyCommand)
      .resolves({ RoleName: 'r', PolicyName: 'p', PolicyDocument: widened });
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.changes).toEqual([
      {
        action: 'update',
        kind: 'inline policy',
        name: 'iclinic-us-east-1-read-token',
        detail: 'statements',
        from: 'Allow secretsmanager:* on no resource',
        to: `Allow secretsmanager:GetSecretValue on ${SECRET_ARN}`,
      },
    ]);
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

    expect(result.changes).toEqual([
      {
        action: 'create',
        kind: 'service-linked role',
        name: 'AWSServiceRoleForElasticLoadBalancing',
        detail: 'for elasticloadbalancing.amazonaws.com',
      },
    ]);
  });

  it('makes no mutating call when both roles exist', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetRoleCommand).resolves(existingRole);
    expect((await ensureServiceLinkedRoles(ctx)).changes).toEqual([]);
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });
});

describe('removeExecutionRole', () => {
  it('detaches, deletes inline policies, then deletes the role', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam
      .on(ListRolePoliciesCommand)
      .resolves({ PolicyNames: ['iclinic-us-east-1-read-token'] });
    mocks.iam
      .on(GetRolePolicyCommand, { RoleName: 'iclinic-task-execution' })
      .rejects(awsError('NoSuchEntity', 'no role'))
      .on(GetRoleCommand, { RoleName: 'iclinic-task-execution' })
      .rejects(awsError('NoSuchEntity', 'no role'));
    const result = await removeExecutionRole(ctx);
    expect(result.changes).toEqual([
      {
        action: 'delete',
        kind: 'IAM role',
        name: 'iclinic-us-east-1-exec',
        detail: 'with its policies',
      },
    ]);
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
    mocks.iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity', 'gone'));
    mocks.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'gone'));
    expect((await removeExecutionRole(ctx)).changes).toEqual([]);
  });
});

describe('removeExecutionRole with a role made before the region was in its name', () => {
  function legacyRoleReading(secretArn: string) {
    const { ctx, mocks, report } = testContext();
    mocks.iam
      .on(ListAttachedRolePoliciesCommand, { RoleName: 'iclinic-us-east-1-exec' })
      .rejects(awsError('NoSuchEntity', 'gone'));
    mocks.iam
      .on(GetRolePolicyCommand, {
        RoleName: 'iclinic-task-execution',
        PolicyName: 'iclinic-read-token',
      })
      .resolves({
        RoleName: 'iclinic-task-execution',
        PolicyName: 'iclinic-read-token',
        PolicyDocument: encodeURIComponent(
          JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secretArn },
            ],
          }),
        ),
      });
    mocks.iam
      .on(ListAttachedRolePoliciesCommand, { RoleName: 'iclinic-task-execution' })
      .resolves({ AttachedPolicies: [] });
    mocks.iam
      .on(ListRolePoliciesCommand, { RoleName: 'iclinic-task-execution' })
      .resolves({ PolicyNames: ['iclinic-read-token'] });
    return { ctx, mocks, report };
  }

  it("deletes it when its inline policy names this region's secret", async () => {
    const { ctx, mocks } = legacyRoleReading(SECRET_ARN);
    const result = await removeExecutionRole(ctx);
    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'delete IAM role iclinic-task-execution',
    ]);
    expect(mocks.iam.commandCalls(DeleteRoleCommand)[0]?.args[0].input.RoleName).toBe(
      'iclinic-task-execution',
    );
  });

  it("leaves it, and says so, when its inline policy names another region's secret", async () => {
    const { ctx, mocks, report } = legacyRoleReading(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:iclinic/api-token-XyZ123',
    );
    const result = await removeExecutionRole(ctx);
    expect(result.changes).toEqual([]);
    expect(mocks.iam.commandCalls(DeleteRoleCommand)).toHaveLength(0);
    expect(mocks.iam.commandCalls(DeleteRolePolicyCommand)).toHaveLength(0);
    expect(report.warnings.join()).toMatch(
      /Left IAM role iclinic-task-execution .*eu-west-1, not us-east-1/,
    );
  });
});

describe('ensureExecutionRole right after CreateRole (IAM is eventually consistent)', () => {
  const createdRole = { Role: { ...existingRole.Role, Tags: [] } };

  function newRole() {
    const { ctx, mocks, clock } = testContext();
    // NoSuchEntity before the create and once more after it.
    mocks.iam
      .on(GetRoleCommand)
      .rejectsOnce(awsError('NoSuchEntity', 'The role cannot be found.'))
      .rejectsOnce(awsError('NoSuchEntity', 'The role cannot be found.'))
      .resolves(existingRole);
    mocks.iam.on(CreateRoleCommand).resolves(createdRole);
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    mocks.iam.on(GetRolePolicyCommand).rejects(awsError('NoSuchEntity', 'no policy'));
    return { ctx, mocks, clock };
  }

  it('succeeds with the ARN CreateRole returned when GetRole answers NoSuchEntity once after it', async () => {
    const { ctx } = newRole();
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.value).toEqual({ roleArn: ROLE_ARN });
  });

  it('never takes the unique id GetRole can return for a moment as the ARN', async () => {
    const { ctx, mocks } = newRole();
    mocks.iam
      .on(GetRoleCommand)
      .rejectsOnce(awsError('NoSuchEntity', 'The role cannot be found.'))
      .resolves({ Role: { ...existingRole.Role, Arn: 'AROAEXAMPLEID' } });
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.value.roleArn).toBe(ROLE_ARN);
  });

  it('retries PutRolePolicy and AttachRolePolicy on NoSuchEntity for the new role', async () => {
    const { ctx, mocks, clock } = newRole();
    mocks.iam
      .on(PutRolePolicyCommand)
      .rejectsOnce(awsError('NoSuchEntity', 'The role cannot be found.'))
      .resolves({});
    mocks.iam
      .on(AttachRolePolicyCommand)
      .rejectsOnce(awsError('NoSuchEntity', 'The role cannot be found.'))
      .resolves({});
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.changes[0]).toMatchObject({ action: 'create', kind: 'IAM role' });
    expect(mocks.iam.commandCalls(PutRolePolicyCommand)).toHaveLength(2);
    expect(mocks.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(2);
    expect(clock.slept.length).toBeGreaterThan(0);
  });

  it('gives up after about two minutes when the new role never appears', async () => {
    const { ctx, mocks, clock } = newRole();
    mocks.iam
      .on(AttachRolePolicyCommand)
      .rejects(awsError('NoSuchEntity', 'The role cannot be found.'));
    const started = clock.now();
    await expect(ensureExecutionRole(ctx, { secretArn: SECRET_ARN })).rejects.toThrow(
      /Gave up waiting for IAM to show role iclinic-us-east-1-exec \(AttachRolePolicy\)/,
    );
    expect(clock.now() - started).toBeLessThanOrEqual(120_000);
  });

  it('does not retry NoSuchEntity on a role that already existed', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
    mocks.iam.on(AttachRolePolicyCommand).rejects(awsError('NoSuchEntity', 'deleted meanwhile'));
    await expect(ensureExecutionRole(ctx, { secretArn: SECRET_ARN })).rejects.toThrow(
      /deleted meanwhile/,
    );
    expect(mocks.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
  });
});

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
import { NOT_CREATED_YET } from '../../../../../provision/plan.js';
import {
  ensureExecutionRole,
  ensureServiceLinkedRoles,
  planExecutionRole,
  readSecretPolicyDocument,
  removeExecutionRole,
  TASK_EXECUTION_MANAGED_POLICY_ARN,
  trustPolicyDocument,
} from '../../../../../provision/resources/roles/index.js';
import { awsError, mutatingOperations, testContext } from '../../../support/context.js';

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
    mocks.iam.on(ListRolesCommand).resolves({ Roles: [existingRole.Role] });
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

  it('deletes a role that GetRole does not show yet when a second look a moment later does', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam
      .on(GetRoleCommand, { RoleName: 'iclinic-us-east-1-exec' })
      .rejectsOnce(awsError('NoSuchEntity', 'not yet visible'))
      .resolves(existingRole);
    mocks.iam
      .on(GetRolePolicyCommand, { RoleName: 'iclinic-task-execution' })
      .rejects(awsError('NoSuchEntity', 'no role'))
      .on(GetRoleCommand, { RoleName: 'iclinic-task-execution' })
      .rejects(awsError('NoSuchEntity', 'no role'));
    mocks.iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
    const result = await removeExecutionRole(ctx);
    expect(result.changes.map((c) => c.name)).toEqual(['iclinic-us-east-1-exec']);
    expect(mocks.iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
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

  it('fails at once, naming the policy, when the managed policy to attach does not exist', async () => {
    const { ctx, mocks, clock } = newRole();
    const missing =
      'Policy arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy does not exist or is not attachable.';
    mocks.iam.on(PutRolePolicyCommand).resolves({});
    mocks.iam.on(AttachRolePolicyCommand).rejects(awsError('NoSuchEntity', missing));
    const started = clock.now();
    await expect(ensureExecutionRole(ctx, { secretArn: SECRET_ARN })).rejects.toThrow(missing);
    expect(mocks.iam.commandCalls(AttachRolePolicyCommand)).toHaveLength(1);
    expect(clock.now() - started).toBe(0);
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

describe('ensureExecutionRole in a dry run', () => {
  it('plans the role, the managed policy attachment and the inline policy on an empty account, and makes no mutating call', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'no role'));
    const result = await ensureExecutionRole(
      { ...ctx, dryRun: true },
      { secretArn: NOT_CREATED_YET },
    );
    expect(result).toEqual({
      value: { roleArn: NOT_CREATED_YET },
      changes: [
        {
          action: 'create',
          kind: 'IAM role',
          name: 'iclinic-us-east-1-exec',
          detail: 'trusted by ecs-tasks.amazonaws.com',
        },
        {
          action: 'create',
          kind: 'managed policy attachment',
          name: 'AmazonECSTaskExecutionRolePolicy',
          detail: 'on iclinic-us-east-1-exec',
        },
        {
          action: 'create',
          kind: 'inline policy',
          name: 'iclinic-us-east-1-read-token',
          detail: `secretsmanager:GetSecretValue on ${NOT_CREATED_YET}`,
        },
      ],
    });
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('plans an inline policy that reads another secret as exactly that update, old ARN to new', async () => {
    const { ctx, mocks } = convergedRole();
    const oldArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-Old123';
    mocks.iam.on(GetRolePolicyCommand).resolves({
      RoleName: 'iclinic-us-east-1-exec',
      PolicyName: 'iclinic-us-east-1-read-token',
      PolicyDocument: encodeURIComponent(JSON.stringify(readSecretPolicyDocument(oldArn))),
    });
    const result = await ensureExecutionRole({ ...ctx, dryRun: true }, { secretArn: SECRET_ARN });
    expect(result).toEqual({
      value: { roleArn: ROLE_ARN },
      changes: [
        {
          action: 'update',
          kind: 'inline policy',
          name: 'iclinic-us-east-1-read-token',
          detail: 'secret ARN',
          from: oldArn,
          to: SECRET_ARN,
        },
      ],
    });
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });

  it('applies a drifted secret ARN with one PutRolePolicy and nothing else', async () => {
    const { ctx, mocks } = convergedRole();
    const oldArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:iclinic/api-token-Old123';
    mocks.iam.on(GetRolePolicyCommand).resolves({
      RoleName: 'iclinic-us-east-1-exec',
      PolicyName: 'iclinic-us-east-1-read-token',
      PolicyDocument: encodeURIComponent(JSON.stringify(readSecretPolicyDocument(oldArn))),
    });
    const result = await ensureExecutionRole(ctx, { secretArn: SECRET_ARN });
    expect(result.changes).toHaveLength(1);
    expect(mutatingOperations(mocks.iam)).toEqual(['PutRolePolicy']);
  });

  it('rejects a secret name in a dry run too: only the NOT_CREATED_YET placeholder skips the check', async () => {
    const { ctx } = testContext();
    await expect(
      ensureExecutionRole({ ...ctx, dryRun: true }, { secretArn: 'iclinic/api-token' }),
    ).rejects.toThrow(/Invalid secret ARN/);
  });
});

describe('planExecutionRole', () => {
  it('plans the trust policy and the stack tag of a drifted role as updates with from/to', () => {
    const { ctx } = testContext();
    const changes = planExecutionRole(
      ctx,
      {
        roleArn: ROLE_ARN,
        trustPolicy: {
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }],
        },
        attachedPolicyArns: [TASK_EXECUTION_MANAGED_POLICY_ARN],
        inlinePolicy: readSecretPolicyDocument(SECRET_ARN),
        tagged: false,
      },
      { secretArn: SECRET_ARN },
    );
    expect(changes).toEqual([
      {
        action: 'update',
        kind: 'IAM role',
        name: 'iclinic-us-east-1-exec',
        detail: 'trust policy',
        from: 'ec2.amazonaws.com',
        to: 'ecs-tasks.amazonaws.com',
      },
      {
        action: 'update',
        kind: 'IAM role',
        name: 'iclinic-us-east-1-exec',
        detail: 'stack tag',
        from: 'none',
        to: 'iclinic-deploy:stack=iclinic',
      },
    ]);
  });
});

describe('ensureServiceLinkedRoles in a dry run', () => {
  it('plans the missing roles and creates none', async () => {
    const { ctx, mocks } = testContext();
    mocks.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity', 'not found'));
    mocks.iam.on(ListRolesCommand).resolves({ Roles: [] });
    const result = await ensureServiceLinkedRoles({ ...ctx, dryRun: true });
    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create service-linked role AWSServiceRoleForECS',
      'create service-linked role AWSServiceRoleForElasticLoadBalancing',
    ]);
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });
});

describe('removeExecutionRole paging and dry run', () => {
  it('detaches and deletes the policies of every page IAM returns', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam
      .on(ListAttachedRolePoliciesCommand, { RoleName: 'iclinic-us-east-1-exec' })
      .resolves({
        AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/A', PolicyName: 'A' }],
        IsTruncated: true,
        Marker: 'page-2',
      })
      .on(ListAttachedRolePoliciesCommand, { RoleName: 'iclinic-us-east-1-exec', Marker: 'page-2' })
      .resolves({
        AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::aws:policy/B', PolicyName: 'B' }],
        IsTruncated: false,
      });
    mocks.iam
      .on(ListRolePoliciesCommand, { RoleName: 'iclinic-us-east-1-exec' })
      .resolves({ PolicyNames: ['one'], IsTruncated: true, Marker: 'page-2' })
      .on(ListRolePoliciesCommand, { RoleName: 'iclinic-us-east-1-exec', Marker: 'page-2' })
      .resolves({ PolicyNames: ['two'], IsTruncated: false });
    mocks.iam
      .on(GetRolePolicyCommand, { RoleName: 'iclinic-task-execution' })
      .rejects(awsError('NoSuchEntity', 'no role'))
      .on(GetRoleCommand, { RoleName: 'iclinic-task-execution' })
      .rejects(awsError('NoSuchEntity', 'no role'));

    await removeExecutionRole(ctx);

    const detached = mocks.iam.commandCalls(DetachRolePolicyCommand);
    expect(detached.map((call) => call.args[0].input.PolicyArn)).toEqual([
      'arn:aws:iam::aws:policy/A',
      'arn:aws:iam::aws:policy/B',
    ]);
    const deletedPolicies = mocks.iam.commandCalls(DeleteRolePolicyCommand);
    expect(deletedPolicies.map((call) => call.args[0].input.PolicyName)).toEqual(['one', 'two']);
    expect(mocks.iam.commandCalls(DeleteRoleCommand)).toHaveLength(1);
  });

  it('deletes nothing in a dry run and names the roles it would delete', async () => {
    const { ctx, mocks } = convergedRole();
    mocks.iam
      .on(GetRolePolicyCommand, {
        RoleName: 'iclinic-task-execution',
        PolicyName: 'iclinic-read-token',
      })
      .resolves({
        RoleName: 'iclinic-task-execution',
        PolicyName: 'iclinic-read-token',
        PolicyDocument: encodeURIComponent(JSON.stringify(readSecretPolicyDocument(SECRET_ARN))),
      });
    const result = await removeExecutionRole({ ...ctx, dryRun: true });
    expect(result.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'delete IAM role iclinic-us-east-1-exec',
      'delete IAM role iclinic-task-execution',
    ]);
    expect(mutatingOperations(mocks.iam)).toEqual([]);
  });
});

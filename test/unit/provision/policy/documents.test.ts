import { describe, expect, it } from 'vitest';
import { statementsOf } from './scenarios.js';

describe('the deployer policy statements', () => {
  const statements = statementsOf({ region: 'sa-east-1', stack: 'iclinic-staging' });
  const statement = (sid: string) => {
    const found = statements.find((s) => s.Sid === sid);
    if (found === undefined) throw new Error(`no statement ${sid}`);
    return found;
  };

  it('scopes the secret actions to the stack secret with its six random characters', () => {
    const s = statement('TokenSecret');
    expect(s.Resource).toBe(
      'arn:aws:secretsmanager:sa-east-1:*:secret:iclinic-staging/api-token-??????',
    );
    expect(s.Action).toContain('secretsmanager:PutSecretValue');
    expect(s.Action.every((a) => a.startsWith('secretsmanager:'))).toBe(true);
  });

  it('grants secretsmanager actions in no other statement', () => {
    const elsewhere = statements.filter((s) => s.Sid !== 'TokenSecret').flatMap((s) => s.Action);
    expect(elsewhere.filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
  });

  it('grants iam:ListRoles, which has no resource-level scoping, on "*" only', () => {
    const listing = statements.filter((s) => s.Action.includes('iam:ListRoles'));
    expect(listing.map((s) => s.Resource)).toEqual(['*']);
  });

  it('allows PassRole only for the execution role and only to ECS tasks', () => {
    const passing = statements.filter((s) => s.Action.includes('iam:PassRole'));
    expect(passing).toHaveLength(1);
    expect(passing[0]?.Resource).toBe('arn:aws:iam::*:role/iclinic-staging-sa-east-1-exec');
    expect(passing[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
  });

  it('scopes the repository actions to the stack repository', () => {
    const s = statement('Repository');
    expect(s.Resource).toBe('arn:aws:ecr:sa-east-1:*:repository/iclinic-staging/api');
    expect(s.Action).not.toContain('ecr:GetAuthorizationToken');
  });

  it('limits the EC2, ELB and ECS statement to the region', () => {
    expect(statement('NetworkLoadBalancerAndEcs').Condition).toEqual({
      StringEquals: { 'aws:RequestedRegion': 'sa-east-1' },
    });
  });

  it('names the region in the execution role and also allows the pre-region name for down', () => {
    const roles = statementsOf({ region: 'eu-west-1', stack: 'iclinic' }).find(
      (s) => s.Sid === 'ExecutionRole',
    )?.Resource;
    expect(roles).toEqual([
      'arn:aws:iam::*:role/iclinic-eu-west-1-exec',
      'arn:aws:iam::*:role/iclinic-task-execution',
    ]);
  });

  it('names arn:aws-us-gov: resources in us-gov-west-1', () => {
    const gov = statementsOf({ region: 'us-gov-west-1', stack: 'iclinic' });
    expect(gov.find((s) => s.Sid === 'Repository')?.Resource).toBe(
      'arn:aws-us-gov:ecr:us-gov-west-1:*:repository/iclinic/api',
    );
    expect(gov.find((s) => s.Sid === 'PassExecutionRoleToEcs')?.Resource).toBe(
      'arn:aws-us-gov:iam::*:role/iclinic-us-gov-west-1-exec',
    );
  });
});

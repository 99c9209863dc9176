import { describe, expect, it } from 'vitest';
import { managedPolicyNames } from '../../support/moto.js';

describe('the AWS managed policies moto keeps', () => {
  it('include the execution role’s policy, named in a template literal by partition', () => {
    const source =
      'return `arn:${partitionOf(region)}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy`;';
    expect(managedPolicyNames([source])).toEqual(['AmazonECSTaskExecutionRolePolicy']);
  });

  it('are every policy a source names, by its last path segment, once', () => {
    const sources = [
      "const a = 'arn:aws:iam::aws:policy/ReadOnlyAccess';",
      "const b = 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess'; const c = 'arn:aws:iam::aws:policy/ReadOnlyAccess';",
    ];
    expect(managedPolicyNames(sources)).toEqual(['ReadOnlyAccess', 'ViewOnlyAccess']);
  });

  it('leave out an elided ARN in prose (arn:aws-us-gov:iam::aws:policy/...)', () => {
    const comment = '/** In each partition: arn:aws-us-gov:iam::aws:policy/... in GovCloud. */';
    expect(managedPolicyNames([comment])).toEqual([]);
  });
});

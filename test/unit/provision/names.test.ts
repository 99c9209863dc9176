import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  InvalidStackNameError,
  ReservedStackNameError,
  ROLE_NAME_MAX_LENGTH,
  stackNames,
  validateStackName,
} from '../../../provision/names.js';

// Every region AWS lists today, including the longest names and partitions.
const REAL_REGIONS = [
  'us-east-1',
  'us-west-2',
  'eu-west-1',
  'sa-east-1',
  'ap-southeast-5',
  'ap-southeast-7',
  'ap-northeast-3',
  'ca-west-1',
  'il-central-1',
  'mx-central-1',
  'us-gov-west-1',
  'us-gov-east-1',
  'us-isob-east-1',
  'eu-isoe-west-1',
];

/** Names of the stack-name shape (letter first, single hyphens), often with a reserved stem. */
const candidateName = fc
  .tuple(
    fc.constantFrom('', 'internal', 'sg', 'internal-', 'sg-'),
    fc.stringMatching(/^[a-z]$/),
    fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { maxLength: 4 }),
  )
  .map(([stem, letter, parts]) => `${stem}${[letter, ...parts].join('-')}`.slice(0, 24));
const validName = candidateName.filter((name) => {
  try {
    validateStackName(name);
    return true;
  } catch {
    return false;
  }
});
// The CLI's region pattern, with segment lengths like AWS's own.
const region = fc.oneof(
  fc.constantFrom(...REAL_REGIONS),
  fc
    .tuple(
      fc.stringMatching(/^[a-z]{2}$/),
      fc.constantFrom('', '-gov', '-iso', '-isob', '-isoe', '-isof'),
      fc.stringMatching(/^[a-z]{4,9}$/),
      fc.integer({ min: 1, max: 99 }),
    )
    .map(([area, partition, direction, n]) => `${area}${partition}-${direction}-${n}`),
);

describe('validateStackName', () => {
  it('refuses "internal" and "internal-..." (ALB names must not begin with internal-), saying the value and the fix', () => {
    for (const name of ['internal', 'internal-api']) {
      expect(() => validateStackName(name)).toThrow(ReservedStackNameError);
      expect(() => validateStackName(name)).toThrow(
        new RegExp(`"${name}".*"internal-".*Choose a name`),
      );
    }
  });

  it('refuses "sg" and "sg-..." (security group names cannot start with sg-)', () => {
    for (const name of ['sg', 'sg-prod']) {
      expect(() => validateStackName(name)).toThrow(
        /would make security group names begin with "sg-"/,
      );
    }
  });

  it('accepts names that only share letters with a reserved prefix', () => {
    for (const name of ['internalx', 'sgx', 'sga-b', 'my-internal']) {
      expect(validateStackName(name)).toBe(name);
    }
  });

  it('still refuses names outside the character rules with the old message', () => {
    expect(() => validateStackName('Bad_Name')).toThrow(InvalidStackNameError);
  });

  it('gives legal AWS names for every stack name it accepts (property)', () => {
    fc.assert(
      fc.property(validName, region, (name, regionName) => {
        const names = stackNames(name, regionName);
        expect(names.loadBalancer.startsWith('internal-')).toBe(false);
        expect(names.loadBalancer.length).toBeLessThanOrEqual(32);
        expect(names.targetGroup.length).toBeLessThanOrEqual(32);
        expect(names.loadBalancerSecurityGroup.startsWith('sg-')).toBe(false);
        expect(names.taskSecurityGroup.startsWith('sg-')).toBe(false);
        expect(names.executionRole.length).toBeLessThanOrEqual(ROLE_NAME_MAX_LENGTH);
        expect(names.executionRolePolicy.length).toBeLessThanOrEqual(128);
      }),
      { numRuns: 500 },
    );
  });
});

describe('stackNames', () => {
  it('puts the region in the execution role and its inline policy, IAM names being account-wide', () => {
    const east = stackNames('iclinic', 'us-east-1');
    const west = stackNames('iclinic', 'eu-west-1');
    expect(east.executionRole).toBe('iclinic-us-east-1-exec');
    expect(east.executionRolePolicy).toBe('iclinic-us-east-1-read-token');
    expect(west.executionRole).not.toBe(east.executionRole);
    expect(west.executionRolePolicy).not.toBe(east.executionRolePolicy);
    expect(west.legacyExecutionRole).toBe('iclinic-task-execution');
  });

  it('keeps the role name within 64 characters for the longest stack name in every AWS region', () => {
    const longest = 'a'.repeat(24);
    for (const name of REAL_REGIONS) {
      expect(stackNames(longest, name).executionRole.length).toBeLessThanOrEqual(64);
    }
  });

  it('refuses a region that would push the role name past 64 characters, naming the region', () => {
    expect(() => stackNames('a'.repeat(24), 'xx-abcdefghijklmnopqrstuvwxyzabcdef-1')).toThrow(
      /Region "xx-abcdefghijklmnopqrstuvwxyzabcdef-1" makes the IAM role name/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { partitionOf } from '../../../provision/partition.js';

describe('partitionOf', () => {
  it('gives the commercial partition for commercial regions', () => {
    expect(partitionOf('us-east-1')).toBe('aws');
    expect(partitionOf('ap-southeast-2')).toBe('aws');
    expect(partitionOf('sa-east-1')).toBe('aws');
  });

  it('gives GovCloud, China and the isolated regions their own partition', () => {
    expect(partitionOf('us-gov-west-1')).toBe('aws-us-gov');
    expect(partitionOf('cn-northwest-1')).toBe('aws-cn');
    expect(partitionOf('us-iso-east-1')).toBe('aws-iso');
    expect(partitionOf('us-isob-east-1')).toBe('aws-iso-b');
    expect(partitionOf('eu-isoe-west-1')).toBe('aws-iso-e');
  });
});

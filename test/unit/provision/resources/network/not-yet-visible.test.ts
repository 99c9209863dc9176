// Every spelling of "this id does not exist" that EC2 may answer right after
// a create, and that the network module reads as "not visible yet". EC2
// spells some codes two ways ("InvalidSubnetID" and "InvalidSubnetId",
// terraform-provider-aws internal/service/ec2/errors.go): each one is pinned
// here, and each one is produced by the fake EC2 during a whole ensureNetwork.
import { describe, expect, it } from 'vitest';
import { outcomeOf } from '../../../../../provision/plan.js';
import { ensureNetwork } from '../../../../../provision/resources/network/index.js';
import { isNotYetVisible } from '../../../../../provision/resources/network/shared.js';
import { awsError } from '../../../support/context.js';
import { fakeNetworkContext } from '../../../support/network-fake-ec2.js';

/** [id prefix of the resource just created, code EC2 may answer for it]. */
const NOT_YET_VISIBLE: readonly (readonly [string, string])[] = [
  ['vpc', 'InvalidVpcID.NotFound'],
  ['subnet', 'InvalidSubnetID.NotFound'],
  ['subnet', 'InvalidSubnetId.NotFound'],
  ['igw', 'InvalidInternetGatewayID.NotFound'],
  ['rtb', 'InvalidRouteTableID.NotFound'],
  ['rtb', 'InvalidRouteTableId.NotFound'],
  ['sg', 'InvalidGroup.NotFound'],
  ['sg', 'InvalidSecurityGroupID.NotFound'],
];

/** Codes that say something else than "not visible yet": retrying them would only delay the error. */
const OTHER_ERRORS = [
  'InvalidVpcID.Malformed',
  'InvalidSubnetID.Malformed',
  'InvalidParameterValue',
  'DependencyViolation',
  'UnauthorizedOperation',
  'InvalidRouteTableID.notfound',
  'InvalidNetworkInterfaceID.NotFound',
  'NotFound',
];

describe('isNotYetVisible', () => {
  it.each(NOT_YET_VISIBLE)('reads %s %s as not visible yet', (_prefix, code) => {
    expect(isNotYetVisible(awsError(code, 'The ID does not exist'))).toBe(true);
  });

  it.each(OTHER_ERRORS)('does not read %s as not visible yet', (code) => {
    expect(isNotYetVisible(awsError(code, 'The ID does not exist'))).toBe(false);
  });
});

describe('ensureNetwork when every first use of a new id answers one spelling', () => {
  it.each(NOT_YET_VISIBLE)('builds the network when a new %s answers %s', async (prefix, code) => {
    const { ctx, fake } = fakeNetworkContext();
    fake.lagFirstUse(undefined, { [prefix]: code });

    const result = await ensureNetwork(ctx, { containerPort: 8080, https: false });

    expect(fake.laggedCodes.has(code)).toBe(true);
    expect(fake.lagged.some((lagged) => lagged.includes(` ${prefix}-`))).toBe(true);
    expect(outcomeOf(result.changes)).toBe('created');
    expect(result.value.subnetIds).toHaveLength(2);
  });
});

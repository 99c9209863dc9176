import { describe, expect, it } from 'vitest';
import { validateDomainName, zoneHolds } from '../../../../../provision/resources/domain/name.js';

describe('validateDomainName', () => {
  it('lower-cases and drops a trailing dot', () => {
    expect(validateDomainName('API.Example.COM.')).toBe('api.example.com');
  });

  it.each([
    ['*.example.com', 'wildcards are not supported'],
    ['192.0.2.1', 'it is an IP address'],
    ['2001:db8::1', 'it is an IP address'],
    ['localhost', 'it has a single label'],
    ['api..example.com', 'it has an empty label'],
    ['-api.example.com', 'the label "-api" has a character other than'],
    ['api_x.example.com', 'the label "api_x" has a character other than'],
    [`${'a'.repeat(64)}.example.com`, 'has 64 characters, over the 63 DNS allows'],
    [`${'abcdefghi.'.repeat(25)}comm`, 'it has 254 characters, over the 253'],
    ['api.example.123', 'its last label is all digits'],
  ])('refuses %s: %s', (name, reason) => {
    expect(() => validateDomainName(name)).toThrow(reason);
  });

  it('accepts a name of exactly 253 characters and labels of 63', () => {
    const name = `${'abcdefghi.'.repeat(25)}com`;
    expect(name).toHaveLength(253);
    expect(validateDomainName(name)).toBe(name);
    expect(validateDomainName(`${'a'.repeat(63)}.example.com`)).toHaveLength(75);
  });
});

describe('zoneHolds', () => {
  it('holds the zone name itself and names under it, not a name that only ends the same', () => {
    expect(zoneHolds('example.com.', 'example.com')).toBe(true);
    expect(zoneHolds('example.com.', 'api.example.com')).toBe(true);
    expect(zoneHolds('example.com.', 'api.badexample.com')).toBe(false);
  });
});

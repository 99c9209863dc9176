import { describe, expect, it } from 'vitest';
import { explainError } from '../../../cli/explain.js';

function networkError(code: string, host: string): Error {
  return Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code });
}

describe('explainError', () => {
  it('turns a missing credentials error into advice on configuring them', () => {
    const error = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    const text = explainError(error, { region: 'us-east-1', env: {} });
    expect(text).toMatch(/Could not use AWS credentials/);
    expect(text).toMatch(/aws configure sso/);
  });

  it('points at the region when its endpoint has no DNS name', () => {
    const text = explainError(networkError('ENOTFOUND', 'ecs.us-east-9.amazonaws.com'), {
      region: 'us-east-9',
      env: {},
    });
    expect(text).toContain('Could not reach AWS in region "us-east-9"');
    expect(text).toContain('ecs.us-east-9.amazonaws.com');
    expect(text).toMatch(/real AWS region enabled for your account/);
  });

  it('names AWS_ENDPOINT_URL when it is set and unreachable', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    const text = explainError(error, {
      region: 'us-east-1',
      env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });
    expect(text).toContain('AWS_ENDPOINT_URL=http://127.0.0.1:9');
    expect(text).toMatch(/network, proxy or VPN/);
  });

  it('leaves alone an error that only mentions a network failure it wrapped', () => {
    const wrapped = new Error(
      'The token was NOT changed: getaddrinfo ENOTFOUND iclinic-alb-1.us-east-1.elb.amazonaws.com',
    );
    expect(explainError(wrapped, { region: 'us-east-1', env: {} })).toBe(wrapped.message);
  });

  it('passes any other error through unchanged', () => {
    expect(explainError(new Error('AccessDenied: not allowed'), { region: 'us-east-1' })).toBe(
      'AccessDenied: not allowed',
    );
  });
});

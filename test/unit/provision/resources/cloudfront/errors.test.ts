import { describe, expect, it } from 'vitest';
import {
  CloudFrontAccountNotVerifiedError,
  isAccountNotVerified,
} from '../../../../../provision/resources/cloudfront/errors.js';
import { awsError } from '../../../support/context.js';

const AWS_SAID = 'Your account must be verified before you can add new CloudFront resources.';

describe('CloudFrontAccountNotVerifiedError', () => {
  const text = new CloudFrontAccountNotVerifiedError('iclinic', AWS_SAID).message;

  it('quotes what AWS said and names the stack', () => {
    expect(text).toContain(`distribution of stack iclinic: "${AWS_SAID}"`);
  });

  it('says what it means: not a permission problem, and retrying will not help', () => {
    expect(text).toContain('not a missing IAM permission');
    expect(text).toContain('retrying will not help');
  });

  it('says only AWS Support lifts it', () => {
    expect(text).toContain('Only AWS Support lifts it');
  });

  it('offers both ways to deploy meanwhile: --plain-http and --certificate-arn', () => {
    expect(text).toContain('"npx iclinic-deploy up --plain-http"');
    expect(text).toContain('"npx iclinic-deploy up --certificate-arn <ACM certificate ARN>"');
  });
});

describe('isAccountNotVerified', () => {
  it("recognises CloudFront's AccessDenied that asks for verification", () => {
    expect(isAccountNotVerified(awsError('AccessDenied', AWS_SAID))).toBe(true);
  });

  it('leaves an AccessDenied for a missing permission alone', () => {
    const denied = awsError(
      'AccessDenied',
      'not authorized to perform: cloudfront:CreateDistribution',
    );
    expect(isAccountNotVerified(denied)).toBe(false);
  });

  it('needs the AccessDenied code, not only the words', () => {
    expect(isAccountNotVerified(awsError('InvalidArgument', AWS_SAID))).toBe(false);
  });
});

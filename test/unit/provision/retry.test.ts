import { describe, expect, it } from 'vitest';
import { errorMessage } from '../../../provision/retry.js';

/** How the SDK words an answer it could not parse (@smithy/core deserializerMiddleware). */
function unparsable(): Error {
  const error = new SyntaxError(`Unexpected token '<', "<!doctype "... is not valid JSON`);
  error.message +=
    '\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.';
  return error;
}

describe('errorMessage', () => {
  it('says an answer was not in the API’s format, without the SDK’s note to developers', () => {
    const text = errorMessage(unparsable());
    expect(text).not.toContain('Deserialization error');
    expect(text).not.toContain('$response');
    expect(text).toBe(
      `the answer was not in the AWS API's format (Unexpected token '<', "<!doctype "... is not valid JSON); ` +
        'an endpoint that does not serve this API (a proxy, or an emulator without it) may have answered',
    );
  });

  it('keeps any other message as it is', () => {
    expect(errorMessage(new Error('VpcLimitExceeded'))).toBe('VpcLimitExceeded');
  });
});

import { describe, expect, it } from 'vitest';
import { exitCodeFor, interruptedLine, resumeNote } from '../../../cli/run.js';
import { UsageError } from '../../../cli/errors.js';
import {
  EngineUnavailableError,
  ImageNotInRepositoryError,
} from '../../../provision/resources/image/index.js';

describe('exitCodeFor', () => {
  it('gives 2 for a missing container engine: the user fixes it before anything changes', () => {
    expect(exitCodeFor(new EngineUnavailableError('docker', '"docker" is not installed'))).toBe(2);
  });

  it('gives 2 for an --image the stack’s repository does not hold', () => {
    expect(
      exitCodeFor(new ImageNotInRepositoryError('x/iclinic/api:nope', 'iclinic/api', [])),
    ).toBe(2);
  });

  it('gives 2 for a usage error and 1 for a failure in AWS', () => {
    expect(exitCodeFor(new UsageError('bad flag'))).toBe(2);
    expect(exitCodeFor(new Error('VpcLimitExceeded'))).toBe(1);
  });
});

describe('after a Ctrl-C', () => {
  it('names the steps cut short and the command that resumes them', () => {
    const note = resumeNote('up', { name: 'demo', region: 'sa-east-1' });
    expect(interruptedLine(['Container image', 'Log group'], note)).toBe(
      'interrupted while running: Container image; Log group. Nothing is lost: run ' +
        '"npx iclinic-deploy up --name demo --region sa-east-1" again to resume; it finds what exists and carries on.',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { delayScaledClock } from '../../../cli/run.js';
import type { Clock } from '../../../provision/retry.js';

function recordingClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => 1_000, sleep: (ms) => (slept.push(ms), Promise.resolve()) };
}

describe('the ICLINIC_DEPLOY_DELAY_SCALE test hook', () => {
  it('multiplies sleep durations and leaves the clock (deadlines) untouched', async () => {
    const base = recordingClock();
    const clock = delayScaledClock(base, '0.02');
    await clock.sleep(5_000);
    expect(base.slept).toEqual([100]);
    expect(clock.now()).toBe(1_000);
  });

  it('is the real clock when unset', () => {
    const base = recordingClock();
    expect(delayScaledClock(base, undefined)).toBe(base);
  });

  it('refuses a value outside (0, 1], naming it', () => {
    for (const value of ['0', '2', 'fast', '-1']) {
      expect(() => delayScaledClock(recordingClock(), value)).toThrow(`received "${value}"`);
    }
  });
});

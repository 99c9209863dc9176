import { describe, expect, it } from 'vitest';
import { taskRange } from '../../../cli/commands/up.js';
import { UsageError } from '../../../cli/errors.js';

describe('up task range', () => {
  it('defaults to 2 to 6 tasks', () => {
    expect(taskRange({})).toEqual({ minTasks: 2, maxTasks: 6 });
  });

  it('takes --desired-count N as the fixed size N to N', () => {
    expect(taskRange({ desiredCount: 3 })).toEqual({ minTasks: 3, maxTasks: 3 });
  });

  it('refuses --desired-count with --min-tasks or --max-tasks, as a usage error', () => {
    expect(() => taskRange({ desiredCount: 3, maxTasks: 8 })).toThrow(UsageError);
    expect(() => taskRange({ desiredCount: 3, minTasks: 1 })).toThrow(
      /--desired-count 3 fixes the size; it cannot be combined with --min-tasks or --max-tasks/,
    );
  });

  it('raises the default maximum to a larger minimum, and lowers the default minimum to a smaller maximum', () => {
    expect(taskRange({ minTasks: 8 })).toEqual({ minTasks: 8, maxTasks: 8 });
    expect(taskRange({ maxTasks: 1 })).toEqual({ minTasks: 1, maxTasks: 1 });
  });

  it('refuses a minimum above the maximum', () => {
    expect(() => taskRange({ minTasks: 5, maxTasks: 3 })).toThrow(/--min-tasks 5, --max-tasks 3/);
  });
});

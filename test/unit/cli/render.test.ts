import { describe, expect, it } from 'vitest';
import {
  changeCounts,
  changeLine,
  planText,
  plainLines,
  stepSummary,
} from '../../../cli/render.js';
import type { StepRecord } from '../../../provision/graph.js';
import { ChangeSet, type Change } from '../../../provision/plan.js';

const [created, updated, deleted] = new ChangeSet()
  .create('security group', 'iclinic-alb', 'tcp 80 from 0.0.0.0/0')
  .update('target group', 'iclinic-tg', 'health check interval', '30 s', '10 s')
  .delete('log group', '/ecs/iclinic/api').list as [Change, Change, Change];

describe('changeLine', () => {
  it('words a creation in the future tense for a dry run', () => {
    expect(changeLine(created, 'plan')).toBe(
      '+ create security group iclinic-alb: tcp 80 from 0.0.0.0/0',
    );
  });

  it('words an update with its old and new value after the run', () => {
    expect(changeLine(updated, 'done')).toBe(
      '~ updated target group iclinic-tg: health check interval 30 s → 10 s',
    );
  });

  it('words a deletion without detail', () => {
    expect(changeLine(deleted, 'plan')).toBe('- delete log group /ecs/iclinic/api');
  });
});

describe('changeCounts', () => {
  it('counts each action, creations first', () => {
    expect(changeCounts([updated, created, created], 'done')).toBe('2 created, 1 updated');
    expect(changeCounts([updated, created, created], 'plan')).toBe('2 to create, 1 to update');
  });
});

describe('stepSummary', () => {
  it('prefers the step’s own summary, then its counts, then its status', () => {
    const base = { status: 'done' as const, changes: [], durationMs: 1234 };
    expect(stepSummary({ ...base, summary: 'HTTP 200 after 1 attempt(s)' })).toBe(
      'HTTP 200 after 1 attempt(s) (1.2 s)',
    );
    expect(stepSummary({ ...base, status: 'created', changes: [created] })).toBe(
      '1 created (1.2 s)',
    );
    expect(stepSummary({ ...base, status: 'absent' })).toBe('nothing to remove (1.2 s)');
  });
});

describe('plainLines', () => {
  it('gives a finished step one line, and its changes only with verbose', () => {
    const event = {
      type: 'step-finished' as const,
      key: 'network',
      title: 'Network',
      status: 'created' as const,
      changes: [created],
      durationMs: 2000,
    };
    expect(plainLines(event, { verbose: false })).toEqual(['✓ Network: 1 created (2.0 s)']);
    expect(plainLines(event, { verbose: true })).toEqual([
      '✓ Network: 1 created (2.0 s)',
      '    + created security group iclinic-alb: tcp 80 from 0.0.0.0/0',
    ]);
  });
});

describe('plainLines after a failure', () => {
  it('says why a step failed on a line of its own', () => {
    const failed = {
      type: 'step-failed' as const,
      key: 'preflight',
      title: 'Check credentials',
      error: 'No usable AWS credentials.\nmore',
      durationMs: 100,
    };
    expect(plainLines(failed, { verbose: false })).toEqual([
      '✗ Check credentials: failed after 0.1 s',
      '    No usable AWS credentials.',
    ]);
  });

  it('lists the steps skipped after it only with --verbose', () => {
    const skipped = {
      type: 'step-skipped' as const,
      key: 'network',
      title: 'Network',
      reason: 'an earlier step failed',
    };
    expect(plainLines(skipped, { verbose: false })).toEqual([]);
    expect(plainLines(skipped, { verbose: true })).toEqual([
      '- Network: skipped (an earlier step failed)',
    ]);
  });
});

describe('plainLines in a dry run', () => {
  it('words a planned step in the future tense, its counts and its changes alike', () => {
    const event = {
      type: 'step-finished' as const,
      key: 'roles',
      title: 'Service-linked roles',
      status: 'will-create' as const,
      changes: [created, created],
      durationMs: 300,
    };
    expect(plainLines(event, { verbose: true })).toEqual([
      '✓ Service-linked roles: 2 to create (0.3 s)',
      '    + create security group iclinic-alb: tcp 80 from 0.0.0.0/0',
      '    + create security group iclinic-alb: tcp 80 from 0.0.0.0/0',
    ]);
  });

  it('words a planned removal in the future tense', () => {
    expect(stepSummary({ status: 'will-remove', changes: [deleted], durationMs: 0 })).toBe(
      '1 to delete (0.0 s)',
    );
  });
});

describe('planText', () => {
  const heading = { command: 'up', stack: 'iclinic', region: 'eu-west-1' };
  const record = (changes: StepRecord['changes']): StepRecord => ({
    key: 'network',
    title: 'Network',
    status: 'unchanged',
    changes,
    durationMs: 0,
  });

  it('says nothing would change when no step has a change', () => {
    expect(planText([record([])], heading)).toBe(
      'Dry run of "up" for stack "iclinic" in eu-west-1 (read the account, changed nothing):\nNothing to change.',
    );
  });

  it('lists each change under its step and totals them', () => {
    expect(planText([record([created, updated])], heading)).toBe(
      [
        'Dry run of "up" for stack "iclinic" in eu-west-1 (read the account, changed nothing):',
        'Network:',
        '  + create security group iclinic-alb: tcp 80 from 0.0.0.0/0',
        '  ~ update target group iclinic-tg: health check interval 30 s → 10 s',
        'In all: 1 to create, 1 to update.',
      ].join('\n'),
    );
  });
});

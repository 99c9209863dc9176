/**
 * Every step of `up` that changes something, in the order they can finish:
 * the e2e crash cases stop `up` right after each (ICLINIC_DEPLOY_FAIL_AFTER).
 * resume.test.ts and resume-down.test.ts each take all of them; they are two
 * files so the two halves run side by side on two workers.
 */
export const CRASH_STEPS = [
  'preflight',
  'service-linked-roles',
  'network',
  'load-balancer',
  'repository',
  'image',
  'secret',
  'log-group',
  'execution-role',
  'cluster',
  'task-definition',
  'service',
  'rollout',
] as const;

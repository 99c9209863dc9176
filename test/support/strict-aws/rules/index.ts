/**
 * Every rule of the strict layer, in the order the proxy asks them: AWS
 * authorizes first; a throttled or failed call never reaches the service, so
 * the stateful rules after it do not see it.
 */
import type { StrictRule } from '../types.js';
import { consistencyRules } from './consistency.js';
import { dependencyRules } from './dependencies.js';
import { faultRules } from './faults.js';
import { lifecycleRules } from './lifecycle.js';
import { nameRules } from './names.js';
import { permissionRule } from './permissions.js';

export function allStrictRules(): StrictRule[] {
  return [
    permissionRule(),
    ...faultRules(),
    ...consistencyRules(),
    ...dependencyRules(),
    ...lifecycleRules(),
    ...nameRules(),
  ];
}

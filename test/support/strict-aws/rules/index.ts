/**
 * Every rule of the strict layer, in the order the proxy asks them: AWS
 * authorizes first, then checks the input against the API model; a
 * throttled or failed call never reaches the service, so the stateful rules
 * after it do not see it.
 */
import { API_MODEL_LOG } from '../models/report.js';
import type { StrictRule } from '../types.js';
import { apiModelRule } from './api-model.js';
import { certificateRules } from './certificates.js';
import { consistencyRules } from './consistency.js';
import { dependencyRules } from './dependencies.js';
import { faultRules } from './faults.js';
import { lifecycleRules } from './lifecycle.js';
import { nameRules } from './names.js';
import { permissionRule } from './permissions.js';

export function allStrictRules(): StrictRule[] {
  return [
    permissionRule(),
    apiModelRule({ log: API_MODEL_LOG }),
    ...faultRules(),
    ...consistencyRules(),
    ...dependencyRules(),
    ...certificateRules(),
    ...lifecycleRules(),
    ...nameRules(),
  ];
}

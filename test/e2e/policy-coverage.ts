// Run by `npm test` after the suite (posttest): every AWS operation the
// end-to-end suite made the CLI call must be allowed by the policy that
// `iclinic-deploy policy` prints, or a user who applied it would hit
// AccessDenied where the tests passed. Each worker logs to its own file;
// recordedOperations reads them all.
import {
  CALL_LOG_DIR,
  operationsMissingFromPolicy,
  recordedOperations,
} from '../support/call-log.js';

const performed = recordedOperations();
if (performed === undefined || performed.size === 0) {
  console.log(
    `policy coverage: no end-to-end run recorded AWS operations in ${CALL_LOG_DIR}; nothing to check.`,
  );
} else {
  const missing = operationsMissingFromPolicy(performed);
  if (missing.length > 0) {
    console.error(
      `policy coverage: the end-to-end suite called ${missing.length} AWS operation(s) that "iclinic-deploy policy" does not allow: ${missing.join(', ')}. Add them to provision/policy/actions.ts.`,
    );
    process.exit(1);
  }
  console.log(
    `policy coverage: all ${performed.size} AWS operations the end-to-end suite called are in the deployer policy.`,
  );
}

// Names the secret, registry and set-token tests use for the shared test context.
export {
  mutatingOperations as mutatingOperationsOf,
  operations as operationsOf,
  testContext as leadContext,
} from './context.js';

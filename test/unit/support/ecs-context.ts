// Names the ECS, IAM and logs tests use for the shared test context.
export {
  FakeClock,
  RecordingReporter,
  awsError,
  mutatingOperations as mutatingCalls,
  testContext as mockedContext,
} from './context.js';

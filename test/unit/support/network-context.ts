// Names the network and load balancer tests use for the shared test context.
import { testContext } from './context.js';

export {
  FakeClock as NetworkFakeClock,
  RecordingReporter as NetworkRecordingReporter,
  awsError as networkAwsError,
  callInputs,
  mutatingOperations,
  operations,
} from './context.js';

export function networkTestContext(stack = 'iclinic') {
  const { ctx, mocks, clock, report } = testContext(stack);
  return { ctx, ec2: mocks.ec2, elbv2: mocks.elbv2, clock, report };
}

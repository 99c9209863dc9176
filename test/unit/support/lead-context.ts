import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { CallLog, isMutatingOperation, type StackContext } from '../../../provision/context.js';
import { stackNames } from '../../../provision/names.js';
import { FakeClock, RecordingReporter } from './ecs-context.js';

const options = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

/** A StackContext whose ECS, ECR, Secrets Manager and ELBv2 clients are mocked. */
export function leadContext(stack = 'iclinic') {
  const clients = {
    ec2: new EC2Client(options),
    ecs: new ECSClient(options),
    ecr: new ECRClient(options),
    secrets: new SecretsManagerClient(options),
    elbv2: new ElasticLoadBalancingV2Client(options),
    iam: new IAMClient(options),
    logs: new CloudWatchLogsClient(options),
    sts: new STSClient(options),
    quotas: new ServiceQuotasClient(options),
  };
  const mocks = {
    ecs: mockClient(clients.ecs),
    ecr: mockClient(clients.ecr),
    secrets: mockClient(clients.secrets),
    elbv2: mockClient(clients.elbv2),
  };
  const clock = new FakeClock();
  const report = new RecordingReporter();
  const ctx: StackContext = {
    names: stackNames(stack),
    region: 'us-east-1',
    clients,
    calls: new CallLog(),
    report,
    clock,
  };
  return { ctx, mocks, clock, report };
}

interface RecordedCalls {
  calls(): { args: readonly unknown[] }[];
}

/** Operation names in call order, e.g. ["DescribeSecret", "CreateSecret"]. */
export function operationsOf(mock: RecordedCalls): string[] {
  return mock
    .calls()
    .map((call) =>
      (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''),
    );
}

export function mutatingOperationsOf(mock: RecordedCalls): string[] {
  return operationsOf(mock).filter((operation) => isMutatingOperation(operation));
}

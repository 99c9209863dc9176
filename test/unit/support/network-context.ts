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
import {
  CallLog,
  isMutatingOperation,
  type Reporter,
  type StackContext,
} from '../../../provision/context.js';
import { stackNames } from '../../../provision/names.js';
import type { Clock } from '../../../provision/retry.js';

/** Sleeping advances time at once, so retries and polls take no wall-clock time. */
export class NetworkFakeClock implements Clock {
  readonly slept: number[] = [];
  private current = Date.parse('2026-01-01T00:00:00Z');
  now(): number {
    return this.current;
  }
  sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.current += ms;
    return Promise.resolve();
  }
}

export class NetworkRecordingReporter implements Reporter {
  readonly progressLines: string[] = [];
  readonly warnings: string[] = [];
  progress(message: string): void {
    this.progressLines.push(message);
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}

const options = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

/** A StackContext whose EC2 and ELBv2 clients are mocked. */
export function networkTestContext(stack = 'iclinic') {
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
  const ec2 = mockClient(clients.ec2);
  const elbv2 = mockClient(clients.elbv2);
  const clock = new NetworkFakeClock();
  const report = new NetworkRecordingReporter();
  const ctx: StackContext = {
    names: stackNames(stack),
    region: 'us-east-1',
    clients,
    calls: new CallLog(),
    report,
    clock,
  };
  return { ctx, ec2, elbv2, clock, report };
}

export function networkAwsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

interface RecordedCalls {
  calls(): { args: readonly unknown[] }[];
}

/** Operation names in call order, e.g. ["DescribeVpcs", "CreateVpc"]. */
export function operations(mock: RecordedCalls): string[] {
  return mock
    .calls()
    .map((call) =>
      (call.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''),
    );
}

export function mutatingOperations(mock: RecordedCalls): string[] {
  return operations(mock).filter((operation) => isMutatingOperation(operation));
}

/** The input of every call, in order, with its operation name. */
export function callInputs(mock: RecordedCalls): { operation: string; input: unknown }[] {
  return mock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: unknown };
    return { operation: command.constructor.name.replace(/Command$/, ''), input: command.input };
  });
}

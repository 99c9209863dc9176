// The one test double of StackContext every unit test builds on: real SDK
// clients with aws-sdk-client-mock on each, a clock whose sleep advances time
// at once (retries and polls cost no wall-clock time), and a reporter that
// records lines instead of printing them.
import { ACMClient, ListCertificatesCommand } from '@aws-sdk/client-acm';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudFrontClient, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { CallLog, type Reporter, type StackContext } from '../../../provision/context.js';
import { stackNames } from '../../../provision/names.js';
import type { Clock } from '../../../provision/retry.js';

export class FakeClock implements Clock {
  readonly slept: number[] = [];
  constructor(private current = Date.parse('2026-01-01T00:00:00Z')) {}
  now(): number {
    return this.current;
  }
  sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.current += ms;
    return Promise.resolve();
  }
}

export class RecordingReporter implements Reporter {
  readonly progressLines: string[] = [];
  /** The `until` of each progress line (undefined when it gave none). */
  readonly progressUntil: (number | undefined)[] = [];
  readonly warnings: string[] = [];
  progress(message: string, until?: number): void {
    this.progressLines.push(message);
    this.progressUntil.push(until);
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}

const options = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };

export function testContext(stack = 'iclinic') {
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
    autoscaling: new ApplicationAutoScalingClient(options),
    cloudwatch: new CloudWatchClient(options),
    sns: new SNSClient(options),
    cloudfront: new CloudFrontClient(options),
    acm: new ACMClient(options),
    route53: new Route53Client(options),
  };
  const mocks = {
    ec2: mockClient(clients.ec2),
    ecs: mockClient(clients.ecs),
    ecr: mockClient(clients.ecr),
    secrets: mockClient(clients.secrets),
    elbv2: mockClient(clients.elbv2),
    iam: mockClient(clients.iam),
    logs: mockClient(clients.logs),
    sts: mockClient(clients.sts),
    quotas: mockClient(clients.quotas),
    autoscaling: mockClient(clients.autoscaling),
    cloudwatch: mockClient(clients.cloudwatch),
    sns: mockClient(clients.sns),
    cloudfront: mockClient(clients.cloudfront),
    acm: mockClient(clients.acm),
    route53: mockClient(clients.route53),
  };
  // Most tests are about other resources: an account without distributions
  // unless a test says otherwise (status, set-token and down all look).
  mocks.cloudfront.on(ListDistributionsCommand).resolves({
    DistributionList: { Marker: '', MaxItems: 100, IsTruncated: false, Quantity: 0, Items: [] },
  });
  // Likewise no certificate and no hosted zone (up, status and down look for the stack's domain).
  mocks.acm.on(ListCertificatesCommand).resolves({ CertificateSummaryList: [] });
  mocks.route53.on(ListHostedZonesCommand).resolves({
    HostedZones: [],
    IsTruncated: false,
    Marker: '',
    MaxItems: 100,
  });
  const clock = new FakeClock();
  const report = new RecordingReporter();
  const ctx: StackContext = {
    names: stackNames(stack, 'us-east-1'),
    region: 'us-east-1',
    clients,
    calls: new CallLog(),
    report,
    clock,
  };
  return { ctx, mocks, clock, report };
}

/** An AWS SDK-style error: the SDK puts the error code in `name`. */
export function awsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

interface RecordedCalls {
  calls(): { args: readonly unknown[] }[];
}

/** Operation names in call order, e.g. ["DescribeVpcs", "CreateVpc"]. */
export function operations(mock: RecordedCalls): string[] {
  return callInputs(mock).map((call) => call.operation);
}

/**
 * The tests' own idea of a read: the verbs AWS uses for calls that change
 * nothing. Deliberately not production's isMutatingOperation, so a call that
 * classifier gets wrong cannot blind these assertions too
 * (provision/context.test.ts checks both against explicit lists).
 */
export const READ_ONLY_VERB = /^(Describe|Get|List|BatchGet|Filter)[A-Z]/;

/** The calls that change something, by the tests' own oracle (READ_ONLY_VERB). */
export function mutatingOperations(mock: RecordedCalls): string[] {
  return operations(mock).filter((operation) => !READ_ONLY_VERB.test(operation));
}

/** The input of every call, in order, with its operation name. */
export function callInputs(mock: RecordedCalls): { operation: string; input: unknown }[] {
  return mock.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: unknown };
    return { operation: command.constructor.name.replace(/Command$/, ''), input: command.input };
  });
}

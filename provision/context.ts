import { ACMClient } from '@aws-sdk/client-acm';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { Reporter } from './events.js';
import type { StackNames } from './names.js';
import type { Change } from './plan.js';
import type { Clock } from './retry.js';

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
  readonly ecr: ECRClient;
  readonly secrets: SecretsManagerClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly iam: IAMClient;
  readonly logs: CloudWatchLogsClient;
  readonly sts: STSClient;
  readonly quotas: ServiceQuotasClient;
  readonly autoscaling: ApplicationAutoScalingClient;
  readonly cloudwatch: CloudWatchClient;
  readonly sns: SNSClient;
  /** CloudFront is global: the SDK signs for us-east-1 and calls cloudfront.amazonaws.com whatever the region. */
  readonly cloudfront: CloudFrontClient;
  /**
   * ACM in us-east-1 whatever the stack's region: CloudFront takes only
   * certificates from there ("To use an ACM certificate with CloudFront, make
   * sure you request (or import) the certificate in the US East (N. Virginia)
   * Region (us-east-1)"):
   * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cnames-and-https-requirements.html#https-requirements-aws-region
   */
  readonly acm: ACMClient;
  /** Route 53 is global: the SDK signs for us-east-1 whatever the region. */
  readonly route53: Route53Client;
}

/** Every AWS call the run made, so `--json` and the benchmarks can report them. */
export class CallLog {
  total = 0;
  mutating = 0;
  readonly byOperation = new Map<string, number>();

  record(service: string, operation: string): void {
    this.total += 1;
    if (isMutatingOperation(operation)) this.mutating += 1;
    const key = `${service}:${operation}`;
    this.byOperation.set(key, (this.byOperation.get(key) ?? 0) + 1);
  }

  mutatingOperations(): string[] {
    return [...this.byOperation.keys()].filter((key) =>
      isMutatingOperation(key.split(':')[1] ?? ''),
    );
  }

  toJSON(): { total: number; mutating: number; byOperation: Record<string, number> } {
    return {
      total: this.total,
      mutating: this.mutating,
      byOperation: Object.fromEntries([...this.byOperation.entries()].sort()),
    };
  }
}

// CloudWatch Logs reads through FilterLogEvents (the `logs` command runs
// read-only, like status).
const READ_ONLY_PREFIXES = [
  'Describe',
  'Get',
  'List',
  'BatchGet',
  'Head',
  'Lookup',
  'Search',
  'Filter',
];

export function isMutatingOperation(operation: string): boolean {
  return !READ_ONLY_PREFIXES.some((prefix) => operation.startsWith(prefix));
}

export class MutationInReadOnlyModeError extends Error {
  constructor(operation: string) {
    super(`Refusing to call ${operation}: this run is read-only (--dry-run or status).`);
    this.name = 'MutationInReadOnlyModeError';
  }
}

export interface ClientSettings {
  readonly region: string;
  readonly profile?: string;
  /** When true, any mutating call throws before it leaves the process. */
  readonly readOnly?: boolean;
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string },
    ): void;
  };
}

function instrument<T>(client: T, service: string, calls: CallLog, readOnly: boolean): T {
  (client as unknown as MiddlewareClient).middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      if (readOnly && isMutatingOperation(operation)) {
        throw new MutationInReadOnlyModeError(`${service}:${operation}`);
      }
      calls.record(service, operation);
      return next(args);
    },
    { step: 'initialize', name: 'iclinicDeployCallLog' },
  );
  return client;
}

/** Where the certificates of CloudFront distributions live (AwsClients.acm). */
export const CERTIFICATE_REGION = 'us-east-1';

/**
 * Clients use the SDK's default credential chain; `AWS_ENDPOINT_URL` and
 * `AWS_ENDPOINT_URL_<SERVICE>` are honoured by the SDK itself, which is how
 * the tests point the CLI at an emulator.
 */
export function createClients(settings: ClientSettings, calls: CallLog): AwsClients {
  const config = {
    region: settings.region,
    ...(settings.profile === undefined ? {} : { profile: settings.profile }),
    maxAttempts: 5,
  };
  const readOnly = settings.readOnly ?? false;
  return {
    ec2: instrument(new EC2Client(config), 'ec2', calls, readOnly),
    ecs: instrument(new ECSClient(config), 'ecs', calls, readOnly),
    ecr: instrument(new ECRClient(config), 'ecr', calls, readOnly),
    secrets: instrument(new SecretsManagerClient(config), 'secretsmanager', calls, readOnly),
    elbv2: instrument(
      new ElasticLoadBalancingV2Client(config),
      'elasticloadbalancing',
      calls,
      readOnly,
    ),
    iam: instrument(new IAMClient(config), 'iam', calls, readOnly),
    logs: instrument(new CloudWatchLogsClient(config), 'logs', calls, readOnly),
    sts: instrument(new STSClient(config), 'sts', calls, readOnly),
    quotas: instrument(new ServiceQuotasClient(config), 'servicequotas', calls, readOnly),
    // Named by their IAM service prefixes, like the others, so the call log
    // maps onto the deployer policy's actions.
    autoscaling: instrument(
      new ApplicationAutoScalingClient(config),
      'application-autoscaling',
      calls,
      readOnly,
    ),
    cloudwatch: instrument(new CloudWatchClient(config), 'cloudwatch', calls, readOnly),
    sns: instrument(new SNSClient(config), 'sns', calls, readOnly),
    cloudfront: instrument(new CloudFrontClient(config), 'cloudfront', calls, readOnly),
    acm: instrument(
      new ACMClient({ ...config, region: CERTIFICATE_REGION }),
      'acm',
      calls,
      readOnly,
    ),
    route53: instrument(new Route53Client(config), 'route53', calls, readOnly),
  };
}

export type { Reporter } from './events.js';
export { silentReporter } from './events.js';

export interface StackContext {
  readonly names: StackNames;
  readonly region: string;
  readonly clients: AwsClients;
  readonly calls: CallLog;
  readonly report: Reporter;
  readonly clock: Clock;
  /**
   * Plan only: every ensure and remove describes the account and returns
   * the changes it would make, and makes none (the clients are read-only
   * too, so a slip fails loudly instead of mutating).
   */
  readonly dryRun?: boolean;
}

/**
 * What an ensure returns: the changes it planned (and, unless dry run,
 * applied, in that order) and the resource's current value. In a dry run a
 * value AWS would assign on creation is NOT_CREATED_YET (plan.ts).
 */
export interface Converged<T> {
  readonly changes: readonly Change[];
  readonly value: T;
}

/** What a remove returns: one `delete` change per resource it deleted (or, in a dry run, would delete). */
export interface Removal {
  readonly changes: readonly Change[];
}

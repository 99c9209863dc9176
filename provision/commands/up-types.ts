/** What `up` is given and what each of its steps yields. */
import type { ContainerEngine, ImagePlatform } from '../resources/image/index.js';
import type { DistributionRef } from '../resources/cloudfront/index.js';
import type { ensureLoadBalancer } from '../resources/load-balancer/index.js';
import type { ensureAlarms } from '../resources/alarms/index.js';
import type { ensureAutoscaling } from '../resources/autoscaling.js';
import type { ensureLogGroup } from '../resources/logs/index.js';
import type { ensureNetwork } from '../resources/network/index.js';
import type { ensureRepository } from '../resources/registry.js';
import type { ensureExecutionRole, ensureServiceLinkedRoles } from '../resources/roles/index.js';
import type { ensureSecret } from '../resources/secret.js';
import type { ensureCluster, ensureService, ensureTaskDefinition } from '../resources/ecs/index.js';
import type { CertificateInfo } from '../resources/certificate/index.js';
import type { DomainCertificate, DomainSettings } from '../resources/domain/index.js';
import type { DirectCheck } from '../verify.js';

export interface UpSettings {
  /** An already pushed image; when absent the local engine builds and pushes one. */
  readonly image?: string;
  readonly engine: ContainerEngine;
  readonly platform: ImagePlatform;
  readonly certificateArn?: string;
  /**
   * HTTPS on CloudFront's *.cloudfront.net name in front of the load
   * balancer (the default). Off with --plain-http, and with --certificate-arn
   * (the user's own domain is served by the load balancer's HTTPS listener).
   */
  readonly cloudFront: boolean;
  /** --domain (and --hosted-zone-id): the user's name on the distribution. Only with CloudFront. */
  readonly domain?: DomainSettings;
  readonly cpu: number;
  readonly memory: number;
  /** Application Auto Scaling keeps the task count in this range; equal for a fixed size. */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** Subscribed to the alarms' SNS topic (AWS mails a confirmation link first). */
  readonly alarmEmail?: string;
  readonly timeoutMs: number;
  readonly verify: boolean;
  /** Used only when the secret does not exist yet. */
  readonly initialToken?: string;
  /**
   * How the final check calls the load balancer's own name to see it refused
   * (CloudFront mode). Tests replace it; the default calls it from here.
   */
  readonly directCheck?: DirectCheck;
}

/** What an ensure yields once converged. */
type ValueOf<F extends (...args: never[]) => Promise<{ value: unknown }>> = Awaited<
  ReturnType<F>
>['value'];

/** Each step's result, by step key. */
export interface UpSteps {
  readonly preflight: { account: string; arn: string };
  readonly 'service-linked-roles': ValueOf<typeof ensureServiceLinkedRoles>;
  readonly network: ValueOf<typeof ensureNetwork>;
  readonly 'load-balancer': ValueOf<typeof ensureLoadBalancer>;
  /** undefined when CloudFront is off. */
  readonly distribution: DistributionRef | undefined;
  readonly 'origin-rule': undefined;
  readonly 'distribution-deployed': undefined;
  /** undefined without --domain. */
  readonly certificate: DomainCertificate | undefined;
  /** The issued certificate; undefined without --domain. */
  readonly 'certificate-issued': CertificateInfo | undefined;
  /** The name on the distribution and its alias records. */
  readonly 'domain-records': undefined;
  /** What an earlier --domain left: its records and certificate. */
  readonly 'domain-cleanup': undefined;
  readonly repository: ValueOf<typeof ensureRepository>;
  readonly image: { imageUri: string };
  readonly secret: ValueOf<typeof ensureSecret>;
  readonly 'log-group': ValueOf<typeof ensureLogGroup>;
  readonly 'execution-role': ValueOf<typeof ensureExecutionRole>;
  readonly cluster: ValueOf<typeof ensureCluster>;
  readonly 'task-definition': ValueOf<typeof ensureTaskDefinition>;
  readonly service: ValueOf<typeof ensureService>;
  readonly alarms: ValueOf<typeof ensureAlarms>;
  readonly autoscaling: ValueOf<typeof ensureAutoscaling>;
  readonly rollout: undefined;
  /** The token is read here, once the rollout is over, so the result can show it. */
  readonly verify: { token: string | undefined; verified: boolean };
}

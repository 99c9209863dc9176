import { ACMClient } from '@aws-sdk/client-acm';
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { Route53Client } from '@aws-sdk/client-route-53';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';

/**
 * SDK clients for assertions, pointed at the emulator with dummy credentials.
 * Give them moto's own endpoint, not the strict proxy's: what a test reads to
 * check the outcome must not be subject to the injected faults.
 */
export function testClients(endpoint: string, region = 'us-east-1') {
  const config = {
    region,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  return {
    ec2: new EC2Client(config),
    ecs: new ECSClient(config),
    ecr: new ECRClient(config),
    secrets: new SecretsManagerClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    iam: new IAMClient(config),
    logs: new CloudWatchLogsClient(config),
    autoscaling: new ApplicationAutoScalingClient(config),
    cloudwatch: new CloudWatchClient(config),
    sns: new SNSClient(config),
    // Global: signed for us-east-1 whatever the stack's region.
    cloudfront: new CloudFrontClient({ ...config, region: 'us-east-1' }),
    // CloudFront's certificates live in us-east-1; Route 53 is global.
    acm: new ACMClient({ ...config, region: 'us-east-1' }),
    route53: new Route53Client({ ...config, region: 'us-east-1' }),
  };
}

export type TestClients = ReturnType<typeof testClients>;

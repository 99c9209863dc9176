import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import {
  checkCredentials,
  fargateVcpusAtPeak,
  upGraph,
  withTargetHealth,
  type UpSettings,
} from '../../../../provision/commands/up.js';
import { runGraph, topologicalOrder, type StepGraph } from '../../../../provision/graph.js';
import { verifiedUrl } from '../../../../provision/commands/up-edge.js';
import type { RunEvent } from '../../../../provision/events.js';
import type { UpSteps } from '../../../../provision/commands/up.js';
import { DeploymentFailedError } from '../../../../provision/resources/ecs/index.js';
import { testContext } from '../../support/context.js';

const settings: UpSettings = {
  engine: 'docker',
  platform: 'linux/arm64',
  cpu: 256,
  memory: 512,
  minTasks: 2,
  maxTasks: 6,
  timeoutMs: 60_000,
  verify: true,
  cloudFront: true,
};

function graph() {
  const { ctx } = testContext();
  return upGraph(ctx, settings);
}

describe('upGraph', () => {
  it('orders the service after everything it reads: task definition, load balancer, origin rule, network, cluster and roles', () => {
    expect(graph().service.after).toEqual([
      'task-definition',
      'load-balancer',
      'origin-rule',
      'network',
      'cluster',
      'service-linked-roles',
    ]);
  });

  it('creates the cluster only after the service-linked roles', () => {
    expect(graph().cluster.after).toEqual(['service-linked-roles']);
  });

  it('registers the task definition after the image, role, log group and the secret it pins', () => {
    expect(graph()['task-definition'].after).toEqual([
      'image',
      'execution-role',
      'log-group',
      'secret',
    ]);
  });

  it('behind CloudFront, builds and pushes the image only once the distribution exists, so an unverified account is refused before the build', () => {
    expect(graph().image.after).toEqual(['repository', 'distribution']);
  });

  it('starts the load balancer and the image build independently with --plain-http or --certificate-arn', () => {
    const { ctx } = testContext();
    const g = upGraph(ctx, { ...settings, cloudFront: false });
    expect(g['load-balancer'].after).toEqual(['network']);
    expect(g.image.after).toEqual(['repository']);
  });

  it('does not hold back an --image that needs no build or push', () => {
    const { ctx } = testContext();
    const g = upGraph(ctx, { ...settings, image: 'registry.example/api:1' });
    expect(g.image.after).toEqual(['repository']);
  });

  it('skips the image step when CloudFront refuses the distribution, so nothing is built or pushed', async () => {
    const { ctx } = testContext();
    const g = upGraph(ctx, settings);
    const refused = new Error('refused');
    const ran: string[] = [];
    const events: RunEvent[] = [];
    const probe = (key: keyof UpSteps & string, fail = false) => ({
      ...g[key],
      run: async () => {
        ran.push(key);
        if (fail) throw refused;
        return { value: undefined as never };
      },
    });
    const only = {
      preflight: probe('preflight'),
      network: probe('network'),
      'load-balancer': probe('load-balancer'),
      repository: probe('repository'),
      certificate: probe('certificate'),
      distribution: probe('distribution', true),
      image: probe('image'),
    } as unknown as StepGraph<UpSteps>;
    const run = runGraph(only, { events: (e) => events.push(e), clock: ctx.clock });
    await expect(run.results).rejects.toBe(refused);
    expect(ran).not.toContain('image');
    expect(events).toContainEqual(expect.objectContaining({ type: 'step-skipped', key: 'image' }));
  });

  it('scales the service only once it exists, and puts the alarms once the load balancer does', () => {
    const g = graph();
    expect(g.autoscaling.after).toEqual(['service', 'load-balancer']);
    expect(g.alarms.after).toEqual(['load-balancer']);
  });

  it('lets the autoscaling overlap the deployment wait rather than follow it', () => {
    expect(graph().autoscaling.after).not.toContain('rollout');
  });

  it('creates the distribution once the load balancer (its origin) exists, and the header rule once the distribution (its secret) does', () => {
    const g = graph();
    expect(g.distribution.after).toEqual(['load-balancer', 'certificate']);
    expect(g['origin-rule'].after).toEqual(['load-balancer', 'distribution']);
  });

  it('waits for the distribution to deploy beside the ECS rollout, and verifies only after both', () => {
    const g = graph();
    expect(g['distribution-deployed'].after).toEqual(['distribution', 'domain-records']);
    expect(g.rollout.after).not.toContain('distribution-deployed');
    expect(g.verify.after).toEqual(expect.arrayContaining(['rollout', 'distribution-deployed']));
  });

  it('skips the CloudFront steps with --plain-http', async () => {
    const { ctx } = testContext();
    const plain = upGraph(ctx, { ...settings, cloudFront: false });
    const input = {
      get: () => {
        throw new Error('read nothing');
      },
      report: ctx.report,
      signal: new AbortController().signal,
    };
    await expect(plain.distribution.run(input)).resolves.toEqual({
      value: undefined,
      summary: 'not used (--plain-http)',
    });
  });

  it('is a valid graph that starts with the preflight check and ends with verify', () => {
    const order = topologicalOrder(graph());
    expect(order[0]).toBe('preflight');
    expect(order.at(-1)).toBe('verify');
  });
});

describe('fargateVcpusAtPeak', () => {
  it('needs 1 vCPU for two 256-unit tasks at most, since a rolling deployment doubles them', () => {
    expect(fargateVcpusAtPeak({ cpu: 256, maxTasks: 2 })).toBe(1);
  });

  it('counts the maximum the scaler may reach, doubled by the rolling deployment', () => {
    expect(fargateVcpusAtPeak({ cpu: 256, maxTasks: 6 })).toBe(3);
    expect(fargateVcpusAtPeak({ cpu: 1024, maxTasks: 3 })).toBe(6);
  });
});

describe('checkCredentials', () => {
  it('returns the account and caller', async () => {
    const { ctx, mocks } = testContext();
    mocks.sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/dev' });
    await expect(checkCredentials(ctx)).resolves.toEqual({
      account: '123456789012',
      arn: 'arn:aws:iam::123456789012:user/dev',
    });
  });

  it('lets the SDK error through unwrapped, so the CLI words it once', async () => {
    const { ctx, mocks } = testContext();
    const refused = Object.assign(
      new Error('The security token included in the request is invalid.'),
      {
        name: 'InvalidClientTokenId',
      },
    );
    mocks.sts.on(GetCallerIdentityCommand).rejects(refused);
    await expect(checkCredentials(ctx)).rejects.toThrow(
      /^The security token included in the request is invalid\.$/,
    );
  });
});

describe('withTargetHealth', () => {
  it('adds what the load balancer saw of each target to a failed rollout', async () => {
    const { ctx, mocks } = testContext();
    mocks.elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        {
          Target: { Id: '10.0.0.7', Port: 8080 },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.ResponseCodeMismatch',
            Description: 'Health checks failed with these codes: [401]',
          },
        },
      ],
    });
    const failure = new DeploymentFailedError('Deployment ecs-svc/1 FAILED', 'ecs-svc/1', [
      'event: task stopped',
    ]);
    const error = await withTargetHealth(ctx, 'arn:tg', failure).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeploymentFailedError);
    expect((error as Error).message).toContain(
      'Target 10.0.0.7:8080 unhealthy (Target.ResponseCodeMismatch',
    );
    expect((error as Error).message).toContain('task stopped');
  });

  it('passes other errors through untouched', async () => {
    const { ctx } = testContext();
    const original = new Error('throttled');
    await expect(withTargetHealth(ctx, 'arn:tg', original)).rejects.toBe(original);
  });
});

describe('verifiedUrl', () => {
  const certificate = {
    arn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
    domain: 'api.example.com',
    status: 'ISSUED',
    inUseBy: [],
  };

  it('checks through https://<domain>/ when the records are in a Route 53 zone of the account', () => {
    const found = {
      domain: 'api.example.com',
      zone: { id: 'Z1', name: 'example.com' },
      certificate,
    };
    expect(verifiedUrl('https://d1.cloudfront.net/', found)).toBe('https://api.example.com/');
  });

  it("checks through the distribution's own name when the DNS is elsewhere (the CNAME may not exist yet)", () => {
    const found = { domain: 'api.example.com', zone: undefined, certificate };
    expect(verifiedUrl('https://d1.cloudfront.net/', found)).toBe('https://d1.cloudfront.net/');
  });

  it("checks through the distribution's own name without --domain", () => {
    expect(verifiedUrl('https://d1.cloudfront.net/', undefined)).toBe('https://d1.cloudfront.net/');
  });
});

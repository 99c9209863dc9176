import { describe, expect, it } from 'vitest';
import { formatAge, formatDomain, formatStatus } from '../../../cli/commands/status.js';
import type { StackStatus } from '../../../provision/commands/status.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function status(overrides: Partial<StackStatus> = {}): StackStatus {
  return {
    stack: 'iclinic',
    region: 'us-east-1',
    resources: [
      { resource: 'VPC', name: 'iclinic-vpc', present: true },
      { resource: 'ECS service', name: 'iclinic-api', present: true },
    ],
    url: 'http://iclinic-alb-1.us-east-1.elb.amazonaws.com',
    service: undefined,
    targets: [],
    token: {
      lastChanged: '2026-01-01T09:00:00.000Z',
      previousTokenAccepted: true,
      previousTokenValidUntil: '2026-01-01T12:05:00.000Z',
    },
    ...overrides,
  };
}

describe('formatAge', () => {
  it.each([
    ['2026-01-01T11:59:30Z', '30 s ago'],
    ['2026-01-01T11:30:00Z', '30 min ago'],
    ['2026-01-01T09:00:00Z', '3 h ago'],
    ['2025-12-25T12:00:00Z', '7 days ago'],
  ])('says %s was %s', (instant, expected) => {
    expect(formatAge(instant, NOW)).toBe(expected);
  });
});

describe('formatStatus', () => {
  it('gives the token age and until when the previous token works', () => {
    const text = formatStatus(status(), NOW);
    expect(text).toContain('last changed 3 h ago (2026-01-01T09:00:00.000Z)');
    expect(text).toContain('previous token is still accepted until 2026-01-01T12:05:00.000Z');
  });

  it('names the stack and region in the command that recreates missing parts', () => {
    const text = formatStatus(
      status({
        stack: 'demo',
        region: 'sa-east-1',
        resources: [
          { resource: 'VPC', name: 'demo-vpc', present: true },
          { resource: 'ECS service', name: 'demo-api', present: false },
        ],
      }),
      NOW,
    );
    expect(text).toContain(
      '"npx iclinic-deploy up --name demo --region sa-east-1" creates them again',
    );
  });

  it('says nothing is deployed when every resource is missing', () => {
    const text = formatStatus(
      status({
        resources: [{ resource: 'VPC', name: 'iclinic-vpc', present: false }],
        url: undefined,
        token: undefined,
      }),
      NOW,
    );
    expect(text).toContain('Nothing is deployed. Run "npx iclinic-deploy up --region us-east-1"');
  });

  it('prints every resource, the URL and the token age, as a whole', () => {
    expect(formatStatus(status(), NOW)).toBe(
      [
        'Stack "iclinic" in us-east-1',
        '',
        '  VPC          present  iclinic-vpc',
        '  ECS service  present  iclinic-api',
        '',
        'URL:      http://iclinic-alb-1.us-east-1.elb.amazonaws.com/',
        'Targets:  none registered yet',
        'Token:    last changed 3 h ago (2026-01-01T09:00:00.000Z)',
        '          the previous token is still accepted until 2026-01-01T12:05:00.000Z',
      ].join('\n'),
    );
  });
});

describe('formatStatus of the operated service', () => {
  const operated = status({
    service: {
      status: 'ACTIVE',
      runningCount: 3,
      desiredCount: 3,
      pendingCount: 0,
      taskDefinitionArn: 'arn:td:8',
      image: 'repo:b',
      deployments: [],
      latestTaskDefinitionCreatedAt: undefined,
    },
    scaling: {
      minTasks: 2,
      maxTasks: 6,
      policies: [
        {
          name: 'iclinic-requests-per-task',
          metric: 'ALBRequestCountPerTarget',
          targetValue: 3000,
        },
        { name: 'iclinic-cpu', metric: 'ECSServiceAverageCPUUtilization', targetValue: 60 },
      ],
    },
    alarms: [{ name: 'iclinic-unhealthy-targets', state: 'OK' }],
    alarmEmails: [{ address: 'ops@example.com', pendingConfirmation: true }],
    revisions: [
      { revision: 8, image: 'repo:b', registeredAt: '2026-01-01T11:00:00.000Z', running: true },
      { revision: 7, image: 'repo:a', registeredAt: '2026-01-01T10:00:00.000Z', running: false },
    ],
  });

  it('shows the minimum, maximum and current tasks and each policy in words', () => {
    const text = formatStatus(operated, NOW);
    expect(text).toContain('Scaling:  2 to 6 tasks (current: 3 desired)');
    expect(text).toContain('iclinic-requests-per-task: requests per task per minute at 3000');
    expect(text).toContain('iclinic-cpu: average CPU % at 60');
  });

  it('shows each alarm state and an email still waiting for its confirmation click', () => {
    const text = formatStatus(operated, NOW);
    expect(text).toContain('Alarm:    iclinic-unhealthy-targets OK');
    expect(text).toContain('ops@example.com PENDING');
  });

  it('lists the revisions newest first with image and date, marking the running one', () => {
    const text = formatStatus(operated, NOW);
    expect(text).toContain('     8  2026-01-01T11:00:00.000Z  repo:b  (running)');
    expect(text).toContain('     7  2026-01-01T10:00:00.000Z  repo:a');
  });
});

describe('formatDomain', () => {
  it('shows the name, the certificate with its expiry, and each record the stack wants', () => {
    expect(
      formatDomain({
        name: 'api.example.com',
        certificate: {
          arn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
          status: 'ISSUED',
          notAfter: '2027-12-01T00:00:00.000Z',
        },
        zone: 'example.com',
        records: [
          'api.example.com A: alias d1.cloudfront.net',
          'api.example.com AAAA: missing ("up" writes it)',
        ],
      }),
    ).toEqual([
      'Domain:   https://api.example.com/',
      'Cert:     ISSUED, expires 2027-12-01 (arn:aws:acm:us-east-1:123456789012:certificate/abc)',
      'Records:  in the Route 53 zone example.com',
      '          api.example.com A: alias d1.cloudfront.net',
      '          api.example.com AAAA: missing ("up" writes it)',
    ]);
  });

  it('says the records are outside the account when no zone holds the name', () => {
    const lines = formatDomain({
      name: 'api.example.org',
      certificate: undefined,
      zone: undefined,
      records: [],
    });
    expect(lines.slice(1)).toEqual([
      'Cert:     none ("up --domain" requests it)',
      "Records:  DNS hosted outside this account's Route 53 (api.example.org CNAME to the distribution)",
    ]);
  });
});

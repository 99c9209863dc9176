import type { Command } from 'commander';
import { collectStatus, type StackStatus } from '../../provision/commands/status.js';
import { stackFlags } from '../../provision/names.js';
import type { DomainStatus } from '../../provision/resources/domain/index.js';
import type { CliCommand } from '../command.js';
import { formatCiStatus } from './ci.js';

/** "3 h ago"-style age of an instant, for people. */
export function formatAge(instant: string, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(instant)) / 1000));
  if (seconds < 90) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** What `status` prints; pure, so the whole text has unit tests. */
/** The --domain lines: the name, its certificate and its records. */
export function formatDomain(domain: DomainStatus): string[] {
  const certificate = domain.certificate;
  const expiry = certificate?.notAfter ? `, expires ${certificate.notAfter.slice(0, 10)}` : '';
  const lines = [
    `Domain:   https://${domain.name}/`,
    certificate === undefined
      ? 'Cert:     none ("up --domain" requests it)'
      : `Cert:     ${certificate.status}${expiry} (${certificate.arn})`,
  ];
  if (domain.zone === undefined) {
    lines.push(
      `Records:  DNS hosted outside this account's Route 53 (${domain.name} CNAME to the distribution)`,
    );
  } else {
    lines.push(`Records:  in the Route 53 zone ${domain.zone}`);
    for (const record of domain.records) lines.push(`          ${record}`);
  }
  return lines;
}

export function formatStatus(status: StackStatus, nowMs: number): string {
  const flags = stackFlags(status.stack, status.region);
  const lines: string[] = [`Stack "${status.stack}" in ${status.region}`, ''];
  const width = Math.max(...status.resources.map((r) => r.resource.length));
  for (const r of status.resources) {
    const mark = r.present ? 'present' : 'MISSING';
    lines.push(
      `  ${r.resource.padEnd(width)}  ${mark.padEnd(8)} ${r.name}${r.detail ? `  (${r.detail})` : ''}`,
    );
  }
  lines.push('');
  const missing = status.resources.filter((r) => !r.present).length;
  const ci = status.ci ? formatCiStatus(status.ci, status.stack, status.region) : [];
  if (missing === status.resources.length) {
    lines.push(
      `Nothing is deployed. Run "npx iclinic-deploy up${flags}" to create the stack.`,
      ...ci,
    );
    return lines.join('\n');
  }
  if (missing > 0)
    lines.push(
      `${missing} resource(s) missing: "npx iclinic-deploy up${flags}" creates them again.`,
    );
  if (status.url) lines.push(`URL:      ${status.url}/`);
  if (status.domain !== undefined) lines.push(...formatDomain(status.domain));
  if (status.service) {
    lines.push(
      `Tasks:    ${status.service.runningCount} running / ${status.service.desiredCount} desired (${status.service.pendingCount} pending)`,
    );
    if (status.service.image) lines.push(`Image:    ${status.service.image}`);
    for (const d of status.service.deployments)
      lines.push(`Deploy:   ${d.id} ${d.status} ${d.rolloutState ?? ''}`.trimEnd());
  }
  if (status.targets.length > 0) {
    lines.push(
      `Targets:  ${status.targets.map((t) => `${t.id}:${t.port ?? ''} ${t.state}${t.reason ? ` (${t.reason})` : ''}`).join(', ')}`,
    );
  } else if (status.url) {
    lines.push('Targets:  none registered yet');
  }
  if (status.token) {
    lines.push(
      status.token.lastChanged === undefined
        ? 'Token:    last changed: unknown'
        : `Token:    last changed ${formatAge(status.token.lastChanged, nowMs)} (${status.token.lastChanged})`,
    );
    lines.push(
      status.token.previousTokenAccepted
        ? `          the previous token is still accepted until ${status.token.previousTokenValidUntil ?? '?'}`
        : '          no previous token is accepted',
    );
  }
  lines.push(...formatOperateStatus(status));
  lines.push(...ci);
  return lines.join('\n');
}

const METRIC_WORDS: Readonly<Record<string, string>> = {
  ALBRequestCountPerTarget: 'requests per task per minute',
  ECSServiceAverageCPUUtilization: 'average CPU %',
};

/** Pure: the scaler, alarms and revisions part of `status`. */
export function formatOperateStatus(status: StackStatus): string[] {
  const lines: string[] = [];
  if (status.scaling) {
    const { minTasks, maxTasks, policies } = status.scaling;
    lines.push(
      `Scaling:  ${minTasks} to ${maxTasks} tasks (current: ${status.service?.desiredCount ?? 0} desired)`,
    );
    for (const p of policies) {
      lines.push(
        `          ${p.name}: ${METRIC_WORDS[p.metric] ?? p.metric} at ${p.targetValue ?? '?'}`,
      );
    }
    if (policies.length === 0) lines.push('          no scaling policy (up puts them back)');
  } else if (status.service) {
    lines.push('Scaling:  none (fixed task count; up registers it)');
  }
  for (const alarm of status.alarms ?? []) lines.push(`Alarm:    ${alarm.name} ${alarm.state}`);
  for (const email of status.alarmEmails ?? []) {
    lines.push(
      email.pendingConfirmation
        ? `Email:    ${email.address} PENDING: click the link AWS mailed to start receiving alarms`
        : `Email:    ${email.address} confirmed`,
    );
  }
  const revisions = status.revisions ?? [];
  if (revisions.length > 0)
    lines.push('Revisions (newest first; "rollback --to N" redeploys one):');
  for (const r of revisions) {
    const mark = r.running ? '  (running)' : '';
    lines.push(
      `  ${String(r.revision).padStart(4)}  ${r.registeredAt ?? '?'}  ${r.image ?? '?'}${mark}`,
    );
  }
  return lines;
}

export const statusCommand: CliCommand<undefined, StackStatus> = {
  declare: (program: Command) =>
    program
      .command('status')
      .description(
        'show what exists and what is missing, the URL, running/desired tasks, the image, target health and token age',
      ),
  readsOnly: true,
  plans: false,
  parse: async () => undefined,
  run: async (ctx) => collectStatus(ctx),
  render: (status) => ({ json: status, lines: [formatStatus(status, Date.now())] }),
};

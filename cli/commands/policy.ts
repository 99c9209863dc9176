import type { Command } from 'commander';
import { deployerPolicy, type PolicyDocument } from '../../provision/policy/index.js';
import type { CliCommand } from '../command.js';
import { UsageError } from '../errors.js';

export interface PolicySettings {
  /** 1-based; undefined prints every document as a JSON array. */
  readonly part: number | undefined;
}

/** The number of documents the policy comes in, for help texts and errors. */
export const POLICY_PARTS = deployerPolicy({ region: 'us-east-1', stack: 'iclinic' }).length;

export function parsePolicyPart(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const part = Number(value);
  if (!Number.isInteger(part) || part < 1 || part > POLICY_PARTS) {
    throw new UsageError(
      `--part must be a whole number from 1 to ${POLICY_PARTS} (the policy comes in ${POLICY_PARTS} documents, one managed policy each); received "${value}".`,
    );
  }
  return part;
}

/**
 * The policy is JSON already: the same text with or without --json. Each
 * document is one IAM managed policy (they are too large for one:
 * MANAGED_POLICY_MAX_CHARS); --part N prints document N alone, ready for
 * `aws iam create-policy --policy-document file://...`.
 */
export const policyCommand: CliCommand<PolicySettings, PolicyDocument | PolicyDocument[]> = {
  declare: (program: Command) =>
    program
      .command('policy')
      .description(
        `print the least-privilege IAM policy the deployer needs for every command: ${POLICY_PARTS} JSON documents, one IAM managed policy each`,
      )
      .option('--part <n>', `print only document N (1-${POLICY_PARTS}), for aws iam create-policy`),
  readsOnly: true,
  plans: false,
  ownJson: true,
  parse: async (command: Command) => ({
    part: parsePolicyPart(command.opts<{ part?: string }>().part),
  }),
  run: async (ctx, settings) => {
    const documents = deployerPolicy({ region: ctx.region, stack: ctx.names.stack });
    if (settings.part === undefined) return documents;
    const document = documents[settings.part - 1];
    if (document === undefined) throw new UsageError(`--part ${settings.part}: no such document.`);
    return document;
  },
  render: (policy) => ({ json: policy, lines: [JSON.stringify(policy, null, 2)] }),
};

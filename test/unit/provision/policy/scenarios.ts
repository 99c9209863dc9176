import {
  deployerPolicy,
  type PolicyDocument,
  type Statement,
} from '../../../../provision/policy/index.js';

/** The stacks and regions the tests use, the longest stack name, and a region of another partition. */
export const SCENARIOS = [
  { stack: 'iclinic', region: 'us-east-1' },
  { stack: 'iclinic', region: 'eu-west-1' },
  { stack: 'iclinic-staging', region: 'sa-east-1' },
  { stack: 'abcdefghijklmnopqrstuvwx', region: 'ap-southeast-2' },
  { stack: 'iclinic', region: 'us-gov-west-1' },
  { stack: 'abcdefghijklmnopqrstuvwx', region: 'us-gov-west-1' },
] as const;

/** The documents `policy` prints (one or several). */
export function documentsOf(options: { stack: string; region: string }): PolicyDocument[] {
  const printed: PolicyDocument | PolicyDocument[] = deployerPolicy(options);
  return Array.isArray(printed) ? printed : [printed];
}

export function statementsOf(options: { stack: string; region: string }): Statement[] {
  return documentsOf(options).flatMap((document) => document.Statement);
}

export function resourcesOf(statement: Statement): string[] {
  return typeof statement.Resource === 'string' ? [statement.Resource] : statement.Resource;
}

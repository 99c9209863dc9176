/**
 * Plans are data. A change names an action on one resource; the CLI chooses
 * the words and the tense ("will create" in a dry run, "created" after it),
 * so the same value serves the run, the dry run, the progress output and
 * the --json record.
 */

export type ChangeAction = 'create' | 'update' | 'replace' | 'delete';

export interface Change {
  readonly action: ChangeAction;
  /** Kind of resource, lower case: "security group", "log group". */
  readonly kind: string;
  /** The resource's name or id as the user knows it. */
  readonly name: string;
  /** What about it: the setting changed, a rule added, a reason. */
  readonly detail?: string;
  /** For updates: the value found in the account. */
  readonly from?: string;
  /** For updates: the value the tool sets. */
  readonly to?: string;
}

/** Collects the changes of one ensure or remove, in the order they are planned. */
export class ChangeSet {
  private readonly items: Change[] = [];

  create(kind: string, name: string, detail?: string): this {
    return this.add({ action: 'create', kind, name, ...(detail === undefined ? {} : { detail }) });
  }

  /** A setting that differs: `from` is what the account has, `to` what the tool sets. */
  update(kind: string, name: string, detail: string, from?: string, to?: string): this {
    return this.add({
      action: 'update',
      kind,
      name,
      detail,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    });
  }

  replace(kind: string, name: string, detail: string): this {
    return this.add({ action: 'replace', kind, name, detail });
  }

  delete(kind: string, name: string, detail?: string): this {
    return this.add({ action: 'delete', kind, name, ...(detail === undefined ? {} : { detail }) });
  }

  add(...changes: readonly Change[]): this {
    this.items.push(...changes);
    return this;
  }

  get list(): readonly Change[] {
    return this.items;
  }

  get isEmpty(): boolean {
    return this.items.length === 0;
  }
}

export type Outcome = 'created' | 'updated' | 'unchanged';

/** Any creation or replacement wins, then any update or deletion. */
export function outcomeOf(changes: readonly Change[]): Outcome {
  if (changes.some((c) => c.action === 'create' || c.action === 'replace')) return 'created';
  if (changes.length > 0) return 'updated';
  return 'unchanged';
}

/**
 * Placeholder for a value AWS assigns on creation (an id, an ARN, a DNS
 * name). A dry run on an empty account passes it downstream, so a step that
 * needs the id of a resource that does not exist yet plans its own creation
 * instead of looking it up.
 */
export const NOT_CREATED_YET = '(not created yet)';

export function isNotCreatedYet(value: string | undefined): boolean {
  return value === NOT_CREATED_YET;
}

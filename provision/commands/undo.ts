import type { StackContext } from '../context.js';
import { stackFlags } from '../names.js';
import { errorMessage } from '../retry.js';

export class RotationFailedError extends Error {
  constructor(detail: string, restored: readonly string[]) {
    super(
      `The token was NOT changed: ${detail}\n` +
        (restored.length > 0 ? `Restored: ${restored.join('; ')}. ` : '') +
        'The service keeps running with the previous token.',
    );
    this.name = 'RotationFailedError';
  }
}

/**
 * The inverse actions of the steps that succeeded, run newest first on
 * failure (kamal's boot.rb pattern). An inverse says what it put back, or
 * nothing when there was nothing to put back; a wait it needs (a rollback
 * deployment to complete) runs after every inverse, so one slow rollback
 * does not hold up putting the rest back.
 */
export class UndoList {
  private readonly inverses: (() => Promise<Inverted>)[] = [];

  push(inverse: () => Promise<Inverted>): void {
    this.inverses.push(inverse);
  }

  /** Runs every inverse in reverse order; `restored` gets a line for each thing put back. */
  async run(restored: string[]): Promise<void> {
    const waits: (() => Promise<string>)[] = [];
    for (const inverse of [...this.inverses].reverse()) {
      const done = await inverse();
      if (done.restored !== undefined) restored.push(done.restored);
      if (done.thenWait !== undefined) waits.push(done.thenWait);
    }
    for (const wait of waits) restored.push(await wait());
  }
}

export interface Inverted {
  readonly restored?: string;
  readonly thenWait?: () => Promise<string>;
}

/** Runs the undo list and says what it put back, in the error the user reads. */
export async function undoRotation(
  ctx: StackContext,
  undo: UndoList,
  reason: unknown,
): Promise<never> {
  const restored: string[] = [];
  try {
    await undo.run(restored);
  } catch (undoError) {
    const flags = stackFlags(ctx.names.stack, ctx.region);
    throw new RotationFailedError(
      `${errorMessage(reason)}\nRestoring the previous state also failed: ${errorMessage(undoError)}. Run "npx iclinic-deploy status${flags}" to see what runs; "npx iclinic-deploy token${flags}" prints the token stored now; then run "npx iclinic-deploy set-token" again.`,
      restored,
    );
  }
  throw new RotationFailedError(errorMessage(reason), restored);
}

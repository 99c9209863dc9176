/**
 * Failure reasons where the user is: a failed rollout (up, rollback) is
 * reported with the last log lines of a task it stopped, beside the service
 * events and stopped reasons the deployment wait already gives. Moved out of
 * up.ts so rollback reports the same way.
 */
import type { StackContext } from '../context.js';
import { DeploymentFailedError } from '../resources/ecs/index.js';
import { stoppedTaskLogs, type StoppedTaskLogs } from '../resources/logs/reader.js';
import { errorMessage } from '../retry.js';

/** Pure: the lines appended to the failure, one block per stopped task. */
export function stoppedTaskLines(logs: readonly StoppedTaskLogs[]): string[] {
  return logs.flatMap((task) =>
    task.lines.length === 0
      ? [`Stopped task ${task.taskId} wrote no log lines (it may have failed before starting).`]
      : [`Last log lines of stopped task ${task.taskId}:`, ...task.lines.map((l) => `  ${l}`)],
  );
}

/**
 * Rethrows `error`; a DeploymentFailedError gains the stopped task's last
 * log lines. Best effort: a failure to read them is one more line, never a
 * different error.
 */
export async function withStoppedTaskLogs(ctx: StackContext, error: unknown): Promise<never> {
  if (!(error instanceof DeploymentFailedError)) throw error;
  let lines: string[];
  try {
    lines = stoppedTaskLines(await stoppedTaskLogs(ctx, { deploymentId: error.deploymentId }));
  } catch (readError) {
    lines = [`(Could not read the stopped tasks' logs: ${errorMessage(readError)})`];
  }
  if (lines.length === 0) throw error;
  throw new DeploymentFailedError(error.message, error.deploymentId, lines);
}

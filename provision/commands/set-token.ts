import type { StackContext } from '../context.js';
import { runGraph, type GraphRun, type StepGraph, type StepInput } from '../graph.js';
import { ignoreEvents } from '../events.js';
import { ChangeSet, NOT_CREATED_YET, type Change } from '../plan.js';
import { readRunningRotation, type RunningRotation } from './running.js';
import { stackServiceUrl } from './service-url.js';
import { undoRotation, UndoList, type Inverted } from './undo.js';
import {
  deregisterTaskDefinition,
  ensureTaskDefinition,
  findService,
  rolledBackByEcs,
  rollService,
  taskSettingsFrom,
  waitForDeployment,
  type StartedDeployment,
  type TaskDefinitionRef,
} from '../resources/ecs/index.js';
import { errorMessage } from '../retry.js';
import {
  restoreCurrentVersion,
  secretReferences,
  writeTokenSecret,
  type SecretRef,
} from '../resources/secret.js';
import { VerificationError, verifyEndpoint, verifyTimeout } from '../verify.js';

export { RotationFailedError } from './undo.js';
export type { RunningRotation } from './running.js';

export interface SetTokenSettings {
  readonly token: string;
  /**
   * How long the previous token is still accepted after the command ends:
   * it is accepted until the end of `timeoutMs` plus this (see runSetToken).
   */
  readonly graceMs: number;
  readonly timeoutMs: number;
  readonly verify: boolean;
}

const TITLES = {
  check: 'Check the running stack',
  'secret-version': 'Write the new token',
  'task-definition': 'Register a task definition pinned to that version',
  rollout: 'Roll the service',
  verify: 'Verify through the load balancer',
} as const;

export class UnverifiedRotationError extends Error {
  constructor(detail: string, previousUntil: string | undefined) {
    super(
      `The new token is deployed (the rollout completed), but it could not be checked through the load balancer: ${detail}\n` +
        (previousUntil === undefined
          ? 'The previous token is no longer accepted by the new tasks. '
          : `The previous token keeps working until ${previousUntil}. `) +
        'Nothing was rolled back: "npx iclinic-deploy token" prints the new token; check by hand with curl, or run "npx iclinic-deploy status".',
    );
    this.name = 'UnverifiedRotationError';
  }
}

export interface SetTokenResult {
  readonly previousTokenValidUntil: string | undefined;
  /** NOT_CREATED_YET in a dry run. */
  readonly taskDefinitionArn: string;
  /** NOT_CREATED_YET in a dry run; undefined when nothing was rolled out. */
  readonly deploymentId: string | undefined;
  readonly verified: boolean;
  /** The service already ran with the token given: nothing was changed. */
  readonly unchanged: boolean;
  /** What the run changed, or in a dry run would change, in order. */
  readonly changes: readonly Change[];
}

export interface SetTokenStepResults {
  readonly check: RunningRotation;
  readonly 'secret-version': SecretRef;
  readonly 'task-definition': TaskDefinitionRef;
  readonly rollout: string | undefined;
  readonly verify: boolean;
}

/** The summary of every step after the check when the service already runs with the token. */
export const ALREADY_CURRENT = 'nothing to change: the service already runs with this token';

interface Rotation {
  readonly ctx: StackContext;
  readonly settings: SetTokenSettings;
  readonly undo: UndoList;
  /** Milliseconds left of --timeout, at least `floorMs`. */
  readonly remaining: (floorMs: number) => number;
  readonly validUntil: string;
  /** Called once the new token is stored, before the rollout: the CLI shows a generated one then. */
  readonly onTokenStored?: () => void;
}

/** The context with progress lines attributed to the step. */
function within(ctx: StackContext, input: StepInput<SetTokenStepResults>): StackContext {
  return { ...ctx, report: input.report };
}

export function setTokenSteps(rotation: Rotation): StepGraph<SetTokenStepResults> {
  const { ctx } = rotation;
  return {
    check: {
      kind: 'check',
      title: TITLES.check,
      after: [],
      run: async (input) => {
        const running = await readRunningRotation(within(ctx, input), rotation.settings);
        const found = `service ${ctx.names.service} and secret ${ctx.names.secret} found`;
        return {
          value: running,
          summary: running.alreadyCurrent ? `${found}; ${ALREADY_CURRENT}` : found,
        };
      },
    },
    'secret-version': {
      kind: 'ensure',
      title: TITLES['secret-version'],
      after: ['check'],
      run: (input) => writeSecretVersion(rotation, input.get('check')),
    },
    'task-definition': {
      kind: 'ensure',
      title: TITLES['task-definition'],
      after: ['check', 'secret-version'],
      run: (input) =>
        registerPinnedRevision(
          { ...rotation, ctx: within(ctx, input) },
          input.get('check'),
          input.get('secret-version'),
        ),
    },
    rollout: {
      kind: 'ensure',
      title: TITLES.rollout,
      after: ['check', 'task-definition'],
      run: (input) =>
        rollOntoRevision(
          { ...rotation, ctx: within(ctx, input) },
          input.get('check'),
          input.get('task-definition'),
        ),
    },
    verify: {
      kind: 'check',
      title: TITLES.verify,
      after: ['check', 'rollout'],
      run: (input) => verifyRotation({ ...rotation, ctx: within(ctx, input) }, input.get('check')),
    },
  };
}

async function writeSecretVersion(rotation: Rotation, running: RunningRotation) {
  const { ctx, settings } = rotation;
  if (running.alreadyCurrent) {
    const value = { arn: running.secretArn, versionId: running.secretVersionId };
    return { value, summary: ALREADY_CURRENT };
  }
  const noGrace = settings.graceMs === 0;
  const change = new ChangeSet().update(
    'secret',
    ctx.names.secret,
    'current version',
    running.secretVersionId,
    NOT_CREATED_YET,
  );
  if (ctx.dryRun) {
    return {
      value: { arn: running.secretArn, versionId: NOT_CREATED_YET },
      changes: change.list,
    };
  }
  const written = await writeTokenSecret(ctx, {
    token: settings.token,
    previousToken: noGrace ? '' : running.previousToken,
    previousTokenValidUntil: noGrace ? '' : rotation.validUntil,
  });
  rotation.undo.push(async () => {
    await restoreCurrentVersion(ctx, {
      versionId: running.secretVersionId,
      fromVersionId: written.versionId,
    });
    return { restored: `secret ${ctx.names.secret} current version` };
  });
  rotation.onTokenStored?.();
  const changes = new ChangeSet().update(
    'secret',
    ctx.names.secret,
    'current version',
    running.secretVersionId,
    written.versionId,
  );
  return { value: written, changes: changes.list };
}

async function registerPinnedRevision(
  rotation: Rotation,
  running: RunningRotation,
  secret: SecretRef,
) {
  const { ctx } = rotation;
  if (running.alreadyCurrent) {
    const revision = running.definition.revision ?? 0;
    return {
      value: { taskDefinitionArn: running.taskDefinitionArn, revision },
      summary: ALREADY_CURRENT,
    };
  }
  const registered = await ensureTaskDefinition(ctx, {
    ...taskSettingsFrom(running.definition, ctx.names.containerName),
    secrets: secretReferences(secret),
  });
  const arn = registered.value.taskDefinitionArn;
  if (!ctx.dryRun && arn !== running.taskDefinitionArn) {
    rotation.undo.push(async () =>
      (await deregisterTaskDefinition(ctx, arn)) ? { restored: `deregistered ${arn}` } : {},
    );
  }
  return registered;
}

async function rollOntoRevision(
  rotation: Rotation,
  running: RunningRotation,
  revision: TaskDefinitionRef,
) {
  const { ctx, settings } = rotation;
  if (running.alreadyCurrent) return { value: undefined, summary: ALREADY_CURRENT };
  const arn = revision.taskDefinitionArn;
  const changes = new ChangeSet().update(
    'ECS service',
    ctx.names.service,
    'task definition',
    running.taskDefinitionArn,
    arn,
  ).list;
  if (ctx.dryRun) return { value: NOT_CREATED_YET, changes };
  // Pushed before the call: an UpdateService that failed on the way back
  // may still have been applied, and the inverse looks at what runs.
  const sent: { answered?: StartedDeployment } = {};
  rotation.undo.push(() => putServiceBack(rotation, running, sent.answered));
  const started = await rollService(ctx, arn);
  sent.answered = started;
  if (started.deploymentId === undefined) {
    throw new Error('ECS started no PRIMARY deployment for the update; cannot follow it.');
  }
  await waitForDeployment(ctx, {
    deploymentId: started.deploymentId,
    ...(started.createdAt === undefined ? {} : { deploymentCreatedAt: started.createdAt }),
    timeoutMs: rotation.remaining(60_000),
  });
  // Only a rollout that ran past --timeout (the waits get at least a minute) leaves less.
  if (
    settings.graceMs > 0 &&
    ctx.clock.now() + settings.graceMs > Date.parse(rotation.validUntil)
  ) {
    ctx.report.warn(
      `The rollout ran past --timeout: the previous token is accepted only until ${rotation.validUntil}, less than --grace after the rollout completed. Use a longer --timeout next time.`,
    );
  }
  return {
    value: started.deploymentId,
    changes,
    summary: `deployment ${started.deploymentId} completed`,
  };
}

/**
 * A stale read must never make the undo keep the service on the new token
 * while the secret goes back: without proof that ECS already rolled our
 * deployment back, the service is put back (at worst one extra rollout).
 */
async function putServiceBack(
  rotation: Rotation,
  running: RunningRotation,
  answered: StartedDeployment | undefined,
): Promise<Inverted> {
  const { ctx } = rotation;
  const now = await findService(ctx);
  const needed =
    answered === undefined
      ? // UpdateService failed: AWS most likely refused it; look at what runs.
        now?.taskDefinition !== running.taskDefinitionArn
      : !rolledBackByEcs(
          now,
          { id: answered.deploymentId, createdAt: answered.createdAt },
          running.taskDefinitionArn,
        );
  if (!needed) return {};
  const back = await rollService(ctx, running.taskDefinitionArn);
  const restored = `service ${ctx.names.service} back on ${running.taskDefinitionArn}`;
  const id = back.deploymentId;
  if (id === undefined) return { restored };
  // "Restored" means running again on the previous revision, not just asked to.
  const thenWait = async () => {
    await waitForDeployment(ctx, {
      deploymentId: id,
      ...(back.createdAt === undefined ? {} : { deploymentCreatedAt: back.createdAt }),
      timeoutMs: rotation.remaining(5 * 60_000),
    });
    return `rollback deployment ${id} completed`;
  };
  return { restored, thenWait };
}

async function serviceUrl(ctx: StackContext): Promise<string> {
  const url = await stackServiceUrl(ctx);
  if (url === undefined)
    throw new Error(`Load balancer ${ctx.names.loadBalancer} not found; cannot verify.`);
  return `${url}/`;
}

/**
 * The service answered wrongly: what runs is not what was meant, so the
 * error stays a VerificationError and the rotation is undone. Not reaching
 * it from this machine says nothing about the service, and undoing a
 * completed rotation would bring back a token that may have been changed for
 * being leaked: that is an UnverifiedRotationError, and nothing is undone.
 */
async function verifyRotation(rotation: Rotation, running: RunningRotation) {
  const { ctx, settings } = rotation;
  if (running.alreadyCurrent) return { value: false, summary: ALREADY_CURRENT };
  if (ctx.dryRun) return { value: false, summary: 'skipped (dry run)' };
  if (!settings.verify) return { value: false, summary: 'skipped (--no-verify)' };
  const previousUntil = settings.graceMs === 0 ? undefined : rotation.validUntil;
  try {
    const url = await serviceUrl(ctx);
    const expect = async (token: string, expectStatus: number) => {
      const timeoutMs = verifyTimeout(rotation.remaining(60_000));
      await verifyEndpoint({
        url,
        token,
        expectStatus,
        timeoutMs,
        clock: ctx.clock,
        report: ctx.report,
      });
    };
    await expect(settings.token, 200);
    if (settings.graceMs === 0) await expect(running.previousToken, 401);
  } catch (error) {
    if (error instanceof VerificationError && error.definitive) throw error;
    throw new UnverifiedRotationError(errorMessage(error), previousUntil);
  }
  return {
    value: true,
    summary: settings.graceMs === 0 ? 'new token 200, previous token 401' : 'new token 200',
  };
}

export interface SetTokenRunOptions {
  /**
   * Starts the step graph: the CLI's starts it with progress output, the
   * test hook and the --json record; the default runs it silently.
   */
  readonly start?: <R>(graph: StepGraph<R>) => GraphRun<R>;
  /** Called once the new token is stored, before the rollout and the verification. */
  readonly onTokenStored?: () => void;
}

/**
 * Writes the new token, rolls the service onto a revision pinned to it, and
 * verifies. If anything from the secret write to the end of the rollout
 * fails, the service, the secret's AWSCURRENT stage and the task definitions
 * are put back, so what is stored always matches what runs. A run cut short
 * before it could put things back (Ctrl-C, lost connection) is noticed by the
 * next one: the token the service actually runs with is the one it keeps as
 * the previous token. With ctx.dryRun it reads the account and returns the
 * changes it would make, and makes none.
 */
export async function runSetToken(
  ctx: StackContext,
  settings: SetTokenSettings,
  options: SetTokenRunOptions = {},
): Promise<SetTokenResult> {
  const deadline = ctx.clock.now() + settings.timeoutMs;
  const rotation: Rotation = {
    ctx,
    settings,
    undo: new UndoList(),
    remaining: (floorMs) => Math.max(floorMs, deadline - ctx.clock.now()),
    // The deadline goes into the secret version before the rollout, and the
    // tasks read it only when they start, so it cannot be moved once the
    // new token is printed; counted from the write, a rollout of a few
    // minutes on Fargate spent the default grace before clients could
    // switch. Counted from --timeout, by which the command has either
    // printed the token or given up and undone the rotation, clients get
    // at least --grace after the print, however long the rollout took.
    validUntil: new Date(deadline + settings.graceMs).toISOString(),
    ...(options.onTokenStored === undefined ? {} : { onTokenStored: options.onTokenStored }),
  };
  const graph = setTokenSteps(rotation);
  const run = options.start?.(graph) ?? runGraph(graph, { events: ignoreEvents, clock: ctx.clock });
  try {
    const results = await run.results;
    const unchanged = results.check.alreadyCurrent;
    return {
      previousTokenValidUntil:
        settings.graceMs === 0 || unchanged ? undefined : rotation.validUntil,
      taskDefinitionArn: results['task-definition'].taskDefinitionArn,
      deploymentId: results.rollout,
      verified: results.verify,
      unchanged,
      changes: run.records.flatMap((record) => record.changes),
    };
  } catch (error) {
    const checked = run.records.some((r) => r.key === 'check' && r.status !== 'failed');
    if (!checked || error instanceof UnverifiedRotationError) throw error;
    return await undoRotation(ctx, rotation.undo, error);
  }
}

import type { Command } from 'commander';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { CallLog, createClients, type StackContext } from '../provision/context.js';
import type { ContainerEngine, ImagePlatform } from '../provision/image.js';
import { stackFlags, stackNames } from '../provision/names.js';
import { deployerPolicy } from '../provision/policy.js';
import {
  errorCode,
  errorMessage,
  hasErrorCode,
  realClock,
  type Clock,
} from '../provision/retry.js';
import { readTokenSecret } from '../provision/secret.js';
import { runSetToken, setTokenPlan, type SetTokenSettings } from '../provision/set-token.js';
import { collectStatus, formatStatus } from '../provision/status.js';
import { formatPlan, StepRunner, type PlannedStep } from '../provision/steps.js';
import { generateToken, InvalidTokenError, validateToken } from '../provision/token.js';
import { validateFargateSize } from '../provision/service.js';
import { runUp, upPlan, type UpSettings } from '../provision/up.js';
import { explainError } from './explain.js';
import { downPlan, runDown } from '../teardown/down.js';
import { resolveRegion, type GlobalOptions } from './options.js';
import { printJson, stderrReporter, type RunRecord } from './output.js';

type CommandName = 'up' | 'status' | 'down' | 'set-token' | 'token' | 'policy';

interface UpOptions {
  tokenStdin: boolean;
  showToken: boolean;
  image?: string;
  engine: ContainerEngine;
  platform: ImagePlatform;
  certificateArn?: string;
  cpu: number;
  memory: number;
  desiredCount: number;
  verify: boolean;
}

interface SetTokenOptions {
  generate: boolean;
  grace: number;
  showToken: boolean;
  verify: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError(
      'Expected the token on stdin, but stdin is a terminal; pipe it in, e.g. printf %s "$TOKEN" | npx iclinic-deploy ...',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // A trailing newline from echo or a file is not part of the token.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function confirmDown(stack: string, region: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `down deletes every resource of stack "${stack}" in ${region}; pass --yes to confirm when not running in a terminal.`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(
    `This deletes every resource of stack "${stack}" in ${region}, including the token and the images. Type the stack name to confirm: `,
  );
  prompt.close();
  if (answer.trim() !== stack) throw new UsageError('Not confirmed; nothing was deleted.');
}

function printPlan(globals: GlobalOptions, command: string, plan: readonly PlannedStep[]): void {
  if (globals.json) {
    process.stdout.write(
      `${JSON.stringify({ command, stack: globals.name, region: globals.region, dryRun: true, plan }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      `Plan for "${command}" on stack "${globals.name}" in ${globals.region} (dry run: no AWS call is made):\n${formatPlan(plan)}\n`,
    );
  }
}

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Test hook, like ICLINIC_DEPLOY_FAIL_AFTER: ICLINIC_DEPLOY_DELAY_SCALE (a
 * number in (0, 1]) shortens every sleep of the CLI's retries and polls so
 * the end-to-end suite, whose emulator answers "not yet" on purpose, runs in
 * little time. Deadlines (clock.now) are untouched: the CLI gives up after
 * the same wall-clock time as without it. Not meant for users.
 */
export function delayScaledClock(clock: Clock, scale: string | undefined): Clock {
  if (scale === undefined || scale === '') return clock;
  const factor = Number(scale);
  if (!(factor > 0 && factor <= 1)) {
    throw new Error(
      `ICLINIC_DEPLOY_DELAY_SCALE must be a number in (0, 1] (it is a test hook); received "${scale}". Unset it.`,
    );
  }
  return { now: () => clock.now(), sleep: (ms) => clock.sleep(ms * factor) };
}

export async function runCommand(name: CommandName, command: Command): Promise<void> {
  const raw = command.optsWithGlobals<GlobalOptions & { region?: string }>();
  let clock: Clock;
  try {
    clock = delayScaledClock(realClock, process.env.ICLINIC_DEPLOY_DELAY_SCALE);
  } catch (error) {
    process.exitCode = 2;
    process.stderr.write(`error: ${errorMessage(error)}\n`);
    return;
  }
  const started = clock.now();
  let region: string;
  try {
    region = (await resolveRegion(raw.region, raw.profile)).region;
  } catch (error) {
    process.exitCode = 2;
    process.stderr.write(`error: ${errorMessage(error)}\n`);
    return;
  }
  const globals: GlobalOptions = { ...raw, region };

  if (name === 'policy') {
    out(JSON.stringify(deployerPolicy({ region: globals.region, stack: globals.name }), null, 2));
    return;
  }

  const names = stackNames(globals.name);
  const calls = new CallLog();
  const report = stderrReporter();
  const readOnly = globals.dryRun || name === 'status' || name === 'token';
  const ctx: StackContext = {
    names,
    region: globals.region,
    clients: createClients(
      {
        region: globals.region,
        ...(globals.profile ? { profile: globals.profile } : {}),
        readOnly,
      },
      calls,
    ),
    calls,
    report,
    clock,
  };
  const timeoutMs = globals.timeout * 60_000;
  let runner: StepRunner | undefined;
  let result: unknown;
  try {
    switch (name) {
      case 'up': {
        const options = command.opts<UpOptions>();
        try {
          validateFargateSize(options.cpu, options.memory);
        } catch (error) {
          throw new UsageError(errorMessage(error));
        }
        if (options.image !== undefined && command.getOptionValueSource('platform') === 'default') {
          throw new UsageError(
            `--image needs --platform: say which architecture ${options.image} was built for (linux/amd64 or linux/arm64). ` +
              'The Fargate tasks run on that architecture; a mismatch makes every task fail with "exec format error".',
          );
        }
        let initialToken: string | undefined;
        if (options.tokenStdin) {
          initialToken = await readStdin();
          for (const warning of validateToken(initialToken).warnings) report.warn(warning);
        }
        const settings: UpSettings = {
          ...(options.image === undefined ? {} : { image: options.image }),
          engine: options.engine,
          platform: options.platform,
          ...(options.certificateArn === undefined
            ? {}
            : { certificateArn: options.certificateArn }),
          cpu: options.cpu,
          memory: options.memory,
          desiredCount: options.desiredCount,
          timeoutMs,
          verify: options.verify,
          ...(initialToken === undefined ? {} : { initialToken }),
        };
        const plan = upPlan(ctx, settings);
        if (globals.dryRun) return printPlan(globals, name, plan);
        runner = new StepRunner(plan, report, clock, process.env.ICLINIC_DEPLOY_FAIL_AFTER);
        const up = await runUp(ctx, settings, runner);
        result = {
          url: up.url,
          image: up.imageUri,
          taskDefinition: up.taskDefinitionArn,
          deploymentId: up.deploymentId,
          verified: up.verified,
          ...(options.showToken ? { token: up.token } : {}),
        };
        if (!globals.json) {
          out();
          out(
            up.verified
              ? `The API is up at ${up.url}/`
              : `The API is deployed at ${up.url}/ (not checked: --no-verify)`,
          );
          if (options.showToken) {
            out(`Token: ${up.token}`);
            out(`Try it:  curl -H "Authorization: Token ${up.token}" ${up.url}/`);
          } else {
            out(
              `Try it:  curl -H "Authorization: Token $(npx iclinic-deploy token${stackFlags(globals.name, globals.region)})" ${up.url}/`,
            );
            out(
              '(the token is not printed; "iclinic-deploy token" prints it, "up --show-token" shows it here)',
            );
          }
          if (options.certificateArn !== undefined) {
            out(
              `The certificate names your domain, not this address: point a DNS record (CNAME) of that domain at ${up.url.replace(/^https:\/\//, '')} and call https://<your domain>/ (until then, curl needs -k on this address).`,
            );
          }
        }
        return;
      }
      case 'status': {
        if (globals.dryRun) return printPlan(globals, name, []);
        const status = await collectStatus(ctx);
        result = status;
        if (!globals.json) out(formatStatus(status));
        return;
      }
      case 'token': {
        if (globals.dryRun) return printPlan(globals, name, []);
        const secret = await readTokenSecret(ctx).catch((error: unknown) => {
          if (hasErrorCode(error, 'ResourceNotFoundException')) {
            throw new Error(
              `Stack "${globals.name}" has no token secret (${names.secret}) in ${globals.region}; run "iclinic-deploy up${stackFlags(globals.name, globals.region)}" first, or pass the --name and --region you deployed with.`,
            );
          }
          throw error;
        });
        if (globals.json) {
          out(
            JSON.stringify({
              command: name,
              stack: globals.name,
              region: globals.region,
              token: secret.token,
            }),
          );
        } else {
          out(secret.token);
        }
        return;
      }
      case 'down': {
        const plan = downPlan(ctx);
        if (globals.dryRun) return printPlan(globals, name, plan);
        if (!globals.yes) await confirmDown(globals.name, globals.region);
        runner = new StepRunner(plan, report, clock);
        const removed = await runDown(ctx, runner, timeoutMs);
        result = { removed };
        if (!globals.json) {
          out(
            removed.length === 0
              ? `Nothing of stack "${globals.name}" was found in ${globals.region}; nothing to remove.`
              : `Removed ${removed.length} resource(s):`,
          );
          for (const item of removed) out(`  - ${item}`);
        }
        return;
      }
      case 'set-token': {
        const options = command.opts<SetTokenOptions>();
        const value = command.args[0];
        if (options.generate && value !== undefined)
          throw new UsageError('Give either a token value or --generate, not both.');
        if (!options.generate && value === undefined) {
          throw new UsageError(
            'Missing the new token: pass it as an argument, "-" to read it from stdin, or --generate.',
          );
        }
        const token = options.generate
          ? generateToken()
          : value === '-'
            ? await readStdin()
            : (value ?? '');
        for (const warning of validateToken(token).warnings) report.warn(warning);
        const settings: SetTokenSettings = {
          token,
          graceMs: options.grace,
          timeoutMs,
          verify: options.verify,
        };
        const plan = setTokenPlan(ctx, settings);
        if (globals.dryRun) return printPlan(globals, name, plan);
        runner = new StepRunner(plan, report, clock, process.env.ICLINIC_DEPLOY_FAIL_AFTER);
        const rotated = await runSetToken(ctx, settings, runner);
        result = {
          previousTokenValidUntil: rotated.previousTokenValidUntil,
          taskDefinition: rotated.taskDefinitionArn,
          deploymentId: rotated.deploymentId,
          verified: rotated.verified,
        };
        if (!globals.json) {
          out();
          out(
            rotated.verified
              ? 'The new token is live.'
              : 'The new token is deployed (not checked through the load balancer: --no-verify).',
          );
          if (options.generate || options.showToken) out(`New token: ${token}`);
          out(
            rotated.previousTokenValidUntil === undefined
              ? 'The previous token is no longer accepted.'
              : `The previous token keeps working until ${rotated.previousTokenValidUntil}.`,
          );
        } else if (options.generate) {
          result = { ...(result as object), token };
        }
        return;
      }
    }
  } catch (error) {
    process.exitCode = error instanceof UsageError || error instanceof InvalidTokenError ? 2 : 1;
    if (globals.json) {
      result = undefined;
      printJson(
        record(false, {
          name: errorCode(error),
          message: explainError(error, { region: globals.region, env: process.env }),
        }),
      );
    } else {
      process.stderr.write(
        `\nerror: ${explainError(error, { region: globals.region, env: process.env })}\n`,
      );
    }
    return;
  } finally {
    if (
      globals.json &&
      process.exitCode !== 1 &&
      process.exitCode !== 2 &&
      !globals.dryRun &&
      name !== 'token'
    ) {
      printJson(record(true));
    }
    const callLogFile = process.env.ICLINIC_DEPLOY_CALL_LOG;
    if (callLogFile !== undefined && callLogFile !== '' && calls.total > 0) {
      // Test hook: the end-to-end suite collects every operation of every run
      // and checks each against the deployer policy.
      appendFileSync(callLogFile, `${[...calls.byOperation.keys()].join('\n')}\n`);
    }
  }

  function record(ok: boolean, error?: { name: string; message: string }): RunRecord {
    return {
      command: name,
      stack: globals.name,
      region: globals.region,
      ok,
      dryRun: globals.dryRun,
      durationMs: clock.now() - started,
      steps: runner?.records ?? [],
      awsCalls: calls.toJSON(),
      ...(result === undefined ? {} : { result }),
      ...(error === undefined ? {} : { error }),
    };
  }
}

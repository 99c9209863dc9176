import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { workerCallLog } from './call-log.js';
import { REPO_ROOT } from './moto.js';
import { stackAppId } from './strict-aws/protocol.js';

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The value of `--flag VALUE` or `--flag=VALUE` in args. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  for (const [index, arg] of args.entries()) {
    if (arg === flag) return args[index + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

/**
 * The e2e suite's sleep factor (ICLINIC_DEPLOY_DELAY_SCALE, see cli/run.ts):
 * the strict layer makes the CLI retry and poll, and at full length those
 * waits (2 s retries, 5-10 s polls) would add minutes.
 */
export const E2E_DELAY_SCALE = '0.02';

/** The environment the CLI runs with in the tests: fake keys, no user config, the test hooks. */
export function cliEnv(
  args: readonly string[],
  options: { endpoint?: string; env?: Record<string, string> } = {},
): NodeJS.ProcessEnv {
  const region = flagValue(args, '--region') || options.env?.AWS_REGION || 'us-east-1';
  const stack = flagValue(args, '--name') ?? 'iclinic';
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    // Keep the user's real AWS config out of the tests.
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_SDK_UA_APP_ID: stackAppId(stack, region),
    ICLINIC_DEPLOY_DELAY_SCALE: E2E_DELAY_SCALE,
    ...(options.endpoint === undefined ? {} : { AWS_ENDPOINT_URL: options.endpoint }),
    // Set by the e2e global setup: this worker's file of the suite's call log.
    ...(process.env.ICLINIC_DEPLOY_CALL_LOG_DIR === undefined
      ? {}
      : { ICLINIC_DEPLOY_CALL_LOG: workerCallLog(process.env.ICLINIC_DEPLOY_CALL_LOG_DIR) }),
    ...options.env,
  };
}

/**
 * Runs the compiled CLI binary as a user would, pointed at `endpoint` (the
 * strict proxy in the e2e suite). The stack and region go into the SDK's
 * user agent (AWS_SDK_UA_APP_ID, appended as `app/...`) so the proxy can
 * check each request against that stack's deployer policy.
 */
export function runCli(
  args: readonly string[],
  options: {
    endpoint?: string;
    env?: Record<string, string>;
    stdin?: string;
    timeoutMs?: number;
    /** The directory the CLI runs in (ci github writes its workflow there). */
    cwd?: string;
  } = {},
): Promise<CliResult> {
  const env = cliEnv(args, options);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI timed out: ${args.join(' ')}\n${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    // The CLI may exit before reading its input; EPIPE then is not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.stdin ?? '');
  });
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './moto.js';

export const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled CLI binary as a user would, pointed at the emulator. */
export function runCli(
  args: readonly string[],
  options: {
    endpoint?: string;
    env?: Record<string, string>;
    stdin?: string;
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
      // Keep the user's real AWS config out of the tests.
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      ...(options.endpoint === undefined ? {} : { AWS_ENDPOINT_URL: options.endpoint }),
      ...(process.env.ICLINIC_DEPLOY_CALL_LOG === undefined
        ? {}
        : { ICLINIC_DEPLOY_CALL_LOG: process.env.ICLINIC_DEPLOY_CALL_LOG }),
      ...options.env,
    };
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
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

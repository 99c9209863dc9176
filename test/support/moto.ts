import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');

export function motoServerPath(): string {
  const candidates = [process.env.MOTO_SERVER, join(REPO_ROOT, '.venv-moto', 'bin', 'moto_server')];
  const found = candidates.find((c): c is string => c !== undefined && existsSync(c));
  if (found === undefined) {
    throw new Error(
      'moto_server not found: run "bash .ci/setup-moto.sh" (creates .venv-moto) or set MOTO_SERVER to its path.',
    );
  }
  return found;
}

/**
 * The AWS managed policies (last segment of `iam::aws:policy/PATH/NAME`) some
 * source names, whatever the partition before it (the CLI builds the ARN per
 * partition in a template literal).
 */
export function managedPolicyNames(sources: readonly string[]): string[] {
  const names = new Set<string>();
  for (const source of sources) {
    for (const match of source.matchAll(
      /:iam::aws:policy\/(?:[\w+=,.@-]+\/)*([A-Za-z0-9][\w+=,.@-]*)/g,
    )) {
      names.add(match[1] ?? '');
    }
  }
  return [...names].sort();
}

/**
 * The AWS managed policies the CLI's source names (it attaches them by ARN).
 * Read from the source so a policy the CLI starts attaching is there in moto too.
 */
function managedPoliciesTheCliNames(): string[] {
  const sources: string[] = [];
  for (const dir of ['cli', 'provision', 'teardown']) {
    const files = readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' });
    for (const file of files.filter((name) => name.endsWith('.ts'))) {
      sources.push(readFileSync(join(REPO_ROOT, dir, file), 'utf8'));
    }
  }
  return managedPolicyNames(sources);
}

function firstBytes(file: string, count: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(count);
    return buffer.toString('utf8', 0, readSync(fd, buffer, 0, count, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * moto_server with only the AWS managed policies the CLI names. With
 * MOTO_IAM_LOAD_MANAGED_POLICIES, moto builds all of them (about 1,600) into
 * its IAM backends again at every reset: about 2 s of moto's CPU per reset,
 * which the e2e suite does before every test, against 0.1 s with only the
 * policies the stack attaches. moto's own python runs its entry point after
 * narrowing its table of policies (moto.iam.models, moto 5); a name moto does
 * not know stops it at start.
 */
const NARROWED_MOTO = `
import json, sys
from moto.iam import models
from moto.server import main
keep = json.loads(sys.argv[1])
every = json.loads(models.aws_managed_policies_data)
absent = [name for name in keep if name not in every]
if absent:
    sys.exit("moto knows no AWS managed policy named " + ", ".join(absent))
models.aws_managed_policies_data = json.dumps({name: every[name] for name in keep})
main(sys.argv[2:])
`;

/**
 * The command that starts moto: narrowed when moto_server is a script of a
 * python we can run and the CLI names some managed policy (else all of them).
 */
function motoCommand(serverArgs: string[]): [string, string[]] {
  const server = motoServerPath();
  // pip writes console scripts with the python that has moto as their #! line.
  const python = /^#!(\S+)/.exec(firstBytes(server, 500))?.[1];
  const keep = managedPoliciesTheCliNames();
  if (python === undefined || !existsSync(python) || keep.length === 0) return [server, serverArgs];
  return [python, ['-c', NARROWED_MOTO, JSON.stringify(keep), ...serverArgs]];
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export interface Moto {
  readonly endpoint: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Settings that make moto behave closer to AWS for this stack: managed
 * policies exist, and services report their tasks running so rollouts complete.
 * Several motos start side by side (one per e2e worker, and other suites on a
 * shared machine): a port taken between freePort() and moto's bind is retried
 * on another port.
 */
export async function startMoto(desiredCount = 2): Promise<Moto> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMotoOnce(await freePort(), desiredCount);
    } catch (error) {
      const portTaken = error instanceof Error && /Address already in use/.test(error.message);
      if (!portTaken || attempt === 3) throw error;
    }
  }
}

async function startMotoOnce(port: number, desiredCount: number): Promise<Moto> {
  const [command, args] = motoCommand(['-H', '127.0.0.1', '-p', String(port)]);
  const child = spawn(command, args, {
    env: {
      ...process.env,
      MOTO_IAM_LOAD_MANAGED_POLICIES: 'true',
      MOTO_ECS_SERVICE_RUNNING: String(desiredCount),
      // ACM issues a DNS-validated certificate at once (default: 60 s later); the strict layer
      // makes its first describes read PENDING_VALIDATION (rules/certificates.ts).
      MOTO_ACM_VALIDATION_WAIT: '0',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok || response.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not start within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    endpoint,
    process: child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
}

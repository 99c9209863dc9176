// The challenge's Flask app (bench/flask_app.py) as the benchmark's
// baseline: installed from PyPI into a venv under node_modules/.cache (git
// ignores node_modules) and run on Flask's development server, pinned to
// the server core like the containers.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exec, freePort, REPO_ROOT } from '../test/support/container-engine.js';

const VENV = join(REPO_ROOT, 'node_modules', '.cache', 'bench-flask');
const PYTHON = join(VENV, 'bin', 'python');
const REQUIREMENTS = ['Flask==3.1.3', 'Flask-HTTPAuth==4.8.1'];

export interface FlaskServer {
  url: string;
  pid: number;
  stop(): void;
}

async function mustExec(command: string, args: string[]): Promise<void> {
  const result = await exec(command, args, { timeoutMs: 300_000 });
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.slice(-800)}`);
  }
}

/** Creates the venv and installs the pinned packages once; later runs reuse it. */
export async function ensureFlask(): Promise<void> {
  const marker = join(VENV, `installed-${REQUIREMENTS.join('-')}`);
  if (existsSync(marker)) return;
  const python = process.env.BENCH_PYTHON ?? 'python3';
  await mustExec(python, ['-m', 'venv', VENV]);
  await mustExec(PYTHON, [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    ...REQUIREMENTS,
  ]);
  await mustExec('touch', [marker]);
}

export async function startFlask(token: string, cpu: number): Promise<FlaskServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'taskset',
    ['-c', String(cpu), PYTHON, join(REPO_ROOT, 'bench', 'flask_app.py')],
    { env: { ...process.env, ICLINIC_PASS: token, PORT: String(port) }, stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/`, { headers: { authorization: `Token ${token}` } });
      if (res.status === 200)
        return { url, pid: child.pid ?? NaN, stop: () => child.kill('SIGTERM') };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  throw new Error(`the Flask app did not answer 200 on ${url}/ within 30 s`);
}

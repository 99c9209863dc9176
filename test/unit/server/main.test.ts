import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../../server/main.ts', import.meta.url));
// Starting node with tsx takes about a second, many more on a loaded shared
// machine: the test's limit is generous, and a child that never exits (a
// server that started when it should not) is killed just before it.
const STARTUP_LIMIT_MS = 60_000;

function runMain(env: Record<string, string>) {
  const { ICLINIC_PASS: _pass, ...inherited } = process.env;
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', MAIN],
      {
        env: { ...inherited, PORT: '0', ...env },
        encoding: 'utf8',
        timeout: STARTUP_LIMIT_MS - 5_000,
      },
      (_error, stdout, stderr) => resolve({ status: child.exitCode, stdout, stderr }),
    );
  });
}

describe('server entry point', () => {
  it(
    'exits 1 with a message on stderr when ICLINIC_PASS is missing',
    async () => {
      const result = await runMain({});
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/ICLINIC_PASS is not set or empty/);
      expect(result.stdout).not.toMatch(/listening/);
    },
    STARTUP_LIMIT_MS,
  );

  it(
    'exits 1 with a message on stderr when ICLINIC_PASS is empty',
    async () => {
      const result = await runMain({ ICLINIC_PASS: '' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/ICLINIC_PASS is not set or empty/);
    },
    STARTUP_LIMIT_MS,
  );
});

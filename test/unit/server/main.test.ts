import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../../server/main.ts', import.meta.url));

function runMain(env: Record<string, string>) {
  const { ICLINIC_PASS: _pass, ...inherited } = process.env;
  return spawnSync(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...inherited, PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('server entry point', () => {
  it('exits 1 with a message on stderr when ICLINIC_PASS is missing', () => {
    const result = runMain({});
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ICLINIC_PASS is not set or empty/);
    expect(result.stdout).not.toMatch(/listening/);
  });

  it('exits 1 with a message on stderr when ICLINIC_PASS is empty', () => {
    const result = runMain({ ICLINIC_PASS: '' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/ICLINIC_PASS/);
  });
});

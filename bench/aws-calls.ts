// Prints AWS call counts (total and mutating) and wall time of `up` from
// zero, a no-op `up`, `set-token` and `down`, run by the compiled CLI against
// moto. Figures, not assertions: the e2e suite asserts the behaviour.
// Run: npm run build && npm run bench:aws
import { startMoto } from '../test/support/moto.js';
import { runCli } from '../test/support/cli.js';

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/api:v1';
const RUNS: [string, string[]][] = [
  ['up (empty account)', ['up', '--image', IMAGE, '--platform', 'linux/amd64', '--no-verify']],
  ['up (nothing to change)', ['up', '--image', IMAGE, '--platform', 'linux/amd64', '--no-verify']],
  ['status', ['status']],
  ['set-token --generate', ['set-token', '--generate', '--no-verify']],
  ['down', ['down', '--yes']],
  ['down (nothing left)', ['down', '--yes']],
];

const moto = await startMoto(2);
try {
  const rows: string[][] = [['command', 'wall time', 'AWS calls', 'mutating']];
  for (const [label, args] of RUNS) {
    const started = performance.now();
    const result = await runCli([...args, '--json'], { endpoint: moto.endpoint });
    const wall = performance.now() - started;
    if (result.code !== 0) throw new Error(`${label} failed: ${result.stderr}`);
    const record = JSON.parse(result.stdout) as { awsCalls: { total: number; mutating: number } };
    rows.push([
      label,
      `${(wall / 1000).toFixed(2)} s`,
      String(record.awsCalls.total),
      String(record.awsCalls.mutating),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
  console.log(
    `\nnode ${process.version}, moto at ${moto.endpoint}; wall time includes starting Node for each command.`,
  );
} finally {
  await moto.stop();
}

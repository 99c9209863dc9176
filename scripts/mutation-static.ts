/**
 * `npm run mutation:static`, after `npm run mutation`: re-tests by hand the
 * static mutants Stryker reported as surviving, and prints the score with
 * their real outcome.
 *
 * Why: a static mutant changes code that runs when its module loads (a
 * constant, a table). The unit project shares one module graph per worker
 * (isolate: false, for speed), so in Stryker's runs a module imported before
 * the mutant was switched on keeps its original value, and the mutant looks
 * like a survivor although a test would kill it. Here each such mutant is
 * written into its file and the whole unit suite runs in a fresh process;
 * the file is put back after each run, Ctrl-C included.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Position {
  line: number;
  column: number;
}
interface Mutant {
  id: string;
  mutatorName: string;
  replacement: string;
  status: string;
  static?: boolean;
  location: { start: Position; end: Position };
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

const ROOT = join(import.meta.dirname, '..');
const REPORT = join(ROOT, 'reports/mutation/report.json');
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const DETECTED = new Set(['Killed', 'Timeout']);

/** The offset of a report position (line and column count from 1). */
function offsetOf(source: string, at: Position): number {
  const lines = source.split('\n');
  return lines.slice(0, at.line - 1).reduce((n, line) => n + line.length + 1, 0) + at.column - 1;
}

function mutated(source: string, mutant: Mutant): string {
  const { start, end } = mutant.location;
  return (
    source.slice(0, offsetOf(source, start)) +
    mutant.replacement +
    source.slice(offsetOf(source, end))
  );
}

class Interrupted extends Error {
  constructor() {
    super('Interrupted: the file under test is put back as it was.');
  }
}

/** The first failing test's name, or undefined when the whole suite passes. */
function killer(): string | undefined {
  const run = spawnSync(
    'npx',
    ['vitest', 'run', '--project', 'unit*', '--bail=1', '--reporter=dot'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  // Ctrl-C reaches the suite too (same process group): stop, once the file is put back.
  if (run.signal !== null || run.status === 130) throw new Interrupted();
  if (run.status === 0) return undefined;
  // eslint-disable-next-line no-control-regex -- vitest colours its output
  const output = `${run.stdout}${run.stderr}`.replace(/\u001b\[[0-9;]*m/g, '');
  // A failing test names itself after ">"; a file that fails to load, by its path alone.
  const failed = /FAIL .*?> (.*)/.exec(output)?.[1] ?? /FAIL\s+\S+\s+(\S+)/.exec(output)?.[1];
  return failed ?? `the suite failed (exit ${String(run.status)})`;
}

function testStatic(file: string, source: string, mutant: Mutant): string | undefined {
  const path = join(ROOT, file);
  try {
    writeFileSync(path, mutated(source, mutant));
    return killer();
  } finally {
    writeFileSync(path, source);
  }
}

// Without a listener Node would die at once on Ctrl-C, with a mutant still written in its file;
// with one, the signal waits until the suite (which gets it too) has ended and the file is put back.
process.on('SIGINT', () => undefined);

function main(): void {
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as Report;
  const rows: string[] = [];
  let detected = 0;
  let total = 0;
  for (const [file, { source, mutants }] of Object.entries(report.files)) {
    if (readFileSync(join(ROOT, file), 'utf8') !== source) {
      throw new Error(
        `${file} changed since the report was written: run "npm run mutation" again.`,
      );
    }
    let fileDetected = 0;
    let fileTotal = 0;
    for (const mutant of mutants) {
      if (!DETECTED.has(mutant.status) && !UNDETECTED.has(mutant.status)) continue;
      fileTotal += 1;
      if (DETECTED.has(mutant.status)) {
        fileDetected += 1;
        continue;
      }
      if (mutant.static !== true) continue;
      const at = `${file}:${mutant.location.start.line}:${mutant.location.start.column}`;
      const by = testStatic(file, source, mutant);
      console.log(
        `${at} ${mutant.mutatorName} -> ${by === undefined ? 'survives' : `killed by ${by}`}`,
      );
      if (by !== undefined) fileDetected += 1;
    }
    detected += fileDetected;
    total += fileTotal;
    rows.push(`${((100 * fileDetected) / fileTotal).toFixed(2).padStart(6)} %  ${file}`);
  }
  console.log(['', 'Score with the static survivors re-tested:', ...rows.sort()].join('\n'));
  console.log(
    `${((100 * detected) / total).toFixed(2).padStart(6)} %  all files (${detected} of ${total})`,
  );
}

try {
  main();
} catch (error) {
  if (!(error instanceof Interrupted)) throw error;
  console.error(error.message);
  process.exitCode = 130;
}

/**
 * Runs the built CLI under a real pseudo-terminal, as a user's shell would:
 * util-linux `script` gives it a terminal of a fixed size, and every chunk
 * the terminal receives is kept, so a test can replay the frames (see
 * screen.ts) and press Ctrl-C at a moment it chooses.
 */
import { spawn } from 'node:child_process';
import { CLI, cliEnv } from './cli.js';
import { screen, type Screen } from './screen.js';

export interface TerminalRun {
  readonly code: number;
  /** What the terminal showed after each chunk of output: the frames, in order. */
  readonly frames: readonly (readonly string[])[];
  /** The terminal once the command ended: scrollback, then the screen. */
  readonly final: readonly string[];
  /** Rows that were a wrapped continuation in some frame (a line wider than the terminal). */
  readonly wrapped: readonly string[];
}

export interface TerminalOptions {
  readonly endpoint: string;
  readonly columns: number;
  readonly rows: number;
  readonly env?: Record<string, string>;
  /** Presses Ctrl-C once this returns true for the screen shown. */
  readonly interruptWhen?: (rows: readonly string[]) => boolean;
  readonly timeoutMs?: number;
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

export function runInTerminal(
  args: readonly string[],
  options: TerminalOptions,
): Promise<TerminalRun> {
  const command = [
    `stty cols ${options.columns} rows ${options.rows}`,
    `exec ${[process.execPath, CLI, ...args].map(quote).join(' ')}`,
  ].join('; ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { ...cliEnv(args, options), TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const shown: Screen = screen(options.columns, options.rows);
  const frames: string[][] = [];
  const wrapped = new Set<string>();
  let interrupted = false;
  let parsing = Promise.resolve();
  // Decoded across chunks: a read can end inside a character (the terminal hands
  // on a long write in pieces), which decoding each chunk alone turns into U+FFFD.
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    parsing = parsing.then(async () => {
      await shown.feed(chunk);
      const rows = shown.rows();
      frames.push(rows);
      for (const row of shown.wrappedRows()) wrapped.add(row);
      if (!interrupted && options.interruptWhen?.(rows) === true) {
        interrupted = true;
        // The terminal turns ^C into SIGINT for the process in the foreground.
        child.stdin.write('\u0003');
      }
    });
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`CLI under a terminal timed out: ${args.join(' ')}\n${shown.all().join('\n')}`),
      );
    }, options.timeoutMs ?? 150_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      void parsing.then(() =>
        resolve({ code: code ?? 1, frames, final: shown.all(), wrapped: [...wrapped] }),
      );
    });
    child.stdin.on('error', () => undefined);
  });
}

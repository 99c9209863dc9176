/**
 * The live list as a user sees it: the built CLI under a real
 * pseudo-terminal (util-linux `script`) of 80×24, each chunk of its output
 * replayed through a terminal emulator (test/support/screen.ts).
 */
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { endpoint, upArgs } from '../support/e2e.js';
import { runCli } from '../support/cli.js';
import { resetMoto } from '../support/moto.js';
import { runInTerminal, type TerminalRun } from '../support/terminal.js';

const COLUMNS = 80;
const ROWS = 24;
/** A line of the list: a step's mark, or a running step's line under it. */
const LIST_LINE = /^([✓✗!·-]|[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]) |^ {4}\S/;
const SPINNER = /^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /;
const VERIFY = 'Call the service through CloudFront';

let titles: string[] = [];
let deployed: TerminalRun;

beforeAll(async () => {
  await resetMoto(endpoint);
  deployed = await runInTerminal(upArgs('--name', 'tty'), {
    endpoint,
    columns: COLUMNS,
    rows: ROWS,
  });
  // TERMINAL_FRAMES=<file> keeps what the terminal showed, to look at by hand.
  const keep = process.env.TERMINAL_FRAMES;
  if (keep !== undefined && keep !== '') {
    const frames = deployed.frames.map(
      (rows, index) => `--- frame ${index + 1}\n${rows.join('\n')}`,
    );
    writeFileSync(keep, [...frames, `--- final\n${deployed.final.join('\n')}`].join('\n'));
  }
  const again = await runCli(upArgs('--name', 'tty', '--json'), { endpoint });
  expect(again.code, again.stderr).toBe(0);
  titles = (JSON.parse(again.stdout) as { steps: { title: string }[] }).steps.map((s) => s.title);
}, 300_000);

describe('up under a terminal', () => {
  it('ends with a final frame that lists every step once, with its outcome', () => {
    expect(deployed.code, deployed.final.join('\n')).toBe(0);
    for (const title of titles) {
      const lines = deployed.final.filter((line) => line.startsWith(`✓ ${title.slice(0, 30)}`));
      expect(lines, title).toHaveLength(1);
    }
    expect(deployed.final.filter((line) => /^✓ /.test(line))).toHaveLength(titles.length);
  });

  it('leaves no stale line: no frame shows a step twice, none is left running or pending', () => {
    for (const frame of deployed.frames) {
      const marked = frame.filter((line) => LIST_LINE.test(line) && !line.startsWith('    '));
      expect(new Set(marked.map((line) => line.slice(2, 30))).size, frame.join('\n')).toBe(
        marked.length,
      );
    }
    expect(deployed.final.filter((line) => SPINNER.test(line) || line.startsWith('· '))).toEqual(
      [],
    );
  });

  it('fits every line of the list in the terminal’s width and height', () => {
    expect(deployed.wrapped.filter((line) => LIST_LINE.test(line))).toEqual([]);
    // While steps run, every row is a step's line or a running step's line under it.
    const live = deployed.frames.filter((rows) => rows.some((line) => SPINNER.test(line)));
    expect(live.length).toBeGreaterThan(0);
    for (const rows of live) {
      expect(
        rows.filter((line) => line !== '' && !LIST_LINE.test(line)),
        rows.join('\n'),
      ).toEqual([]);
    }
    for (const frame of deployed.frames) expect(frame.length).toBeLessThanOrEqual(ROWS);
  });

  it('shows the running check’s elapsed time moving, its countdown and what it waits for, and a Ctrl-C says what was cut short', async () => {
    const running = new RegExp(`^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] ${VERIFY} \\((\\d+) s(; gives up in \\d+ (s|min))?`);
    const elapsed = new Set<string>();
    let countdown = false;
    // Moto's CloudFront name does not resolve here: the check waits, and is interrupted.
    const run = await runInTerminal(
      upArgs('--name', 'tty').filter((a) => a !== '--no-verify'),
      {
        endpoint,
        columns: COLUMNS,
        rows: ROWS,
        interruptWhen: (rows) => {
          for (const match of rows.map((line) => running.exec(line))) {
            if (match?.[1] !== undefined) elapsed.add(match[1]);
            if (match?.[2] !== undefined) countdown = true;
          }
          return countdown && elapsed.size >= 3;
        },
      },
    );
    expect(elapsed.size, [...elapsed].join(', ')).toBeGreaterThanOrEqual(3);
    expect(countdown).toBe(true);
    expect(
      run.frames.some((rows) =>
        rows.some((line) => /^ {4}waiting for https:\/\/\S+ to answer 200/.test(line)),
      ),
    ).toBe(true);
    expect(run.code).toBe(130);
    expect(run.final).toContainEqual(
      expect.stringMatching(new RegExp(`^! ${VERIFY}: interrupted after \\d+ s$`)),
    );
    const last = run.final.slice(-3).join('');
    expect(last).toContain(
      `interrupted while running: ${VERIFY}. Nothing is lost: run "npx iclinic-deploy up --name tty --region us-east-1" again to resume`,
    );
  });
});

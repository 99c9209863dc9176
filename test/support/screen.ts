/**
 * What a terminal shows for a stream of output: @xterm/headless (xterm.js
 * without a browser) interprets the bytes, cursor moves and erasures
 * included, so a test reads the screen as a user would see it.
 */
import xterm from '@xterm/headless';

export interface Screen {
  /** Feeds more output, then resolves once the terminal has parsed it. */
  feed(data: string): Promise<void>;
  /** The visible rows, trailing spaces trimmed, empty rows at the bottom left out. */
  rows(): string[];
  /** Everything written so far: the scrollback above the screen, then the screen. */
  all(): string[];
  /** The visible rows whose text went on in the row below: lines too long for the width. */
  wrappedRows(): string[];
}

export function screen(columns: number, rows: number): Screen {
  const terminal = new xterm.Terminal({
    cols: columns,
    rows,
    scrollback: 5000,
    allowProposedApi: true,
  });
  const lines = (from: number, to: number): string[] => {
    const buffer = terminal.buffer.active;
    const out: string[] = [];
    for (let y = from; y < to; y += 1) out.push(buffer.getLine(y)?.translateToString(true) ?? '');
    while (out.length > 0 && out.at(-1) === '') out.pop();
    return out;
  };
  return {
    feed: (data) =>
      new Promise((resolve) => terminal.write(data.replace(/\r?\n/g, '\r\n'), resolve)),
    rows: () => lines(terminal.buffer.active.viewportY, terminal.buffer.active.viewportY + rows),
    all: () => lines(0, terminal.buffer.active.length),
    wrappedRows: () => {
      const buffer = terminal.buffer.active;
      const wrapped: string[] = [];
      for (let y = buffer.viewportY; y < buffer.viewportY + rows; y += 1) {
        const line = buffer.getLine(y);
        if (line?.isWrapped === true)
          wrapped.push(buffer.getLine(y - 1)?.translateToString(true) ?? '');
      }
      return wrapped;
    },
  };
}

// Log lines are gathered and written once per event-loop turn. Writing to a
// pipe is synchronous on Linux, and one write per request (plus the reader on
// the other end: conmon, the awslogs driver) measured at a fifth of the
// server's throughput under load; one write per turn costs a fraction of it.

export interface LineWriter {
  /** Queues one line (without its newline). */
  write(line: string): void;
  /** Writes whatever is queued now; call before exiting. */
  flush(): void;
}

export function createLineWriter(
  sink: (chunk: string) => void,
  schedule: (callback: () => void) => void = setImmediate,
): LineWriter {
  let queued: string[] = [];
  const flush = (): void => {
    if (queued.length === 0) return;
    const chunk = `${queued.join('\n')}\n`;
    queued = [];
    sink(chunk);
  };
  return {
    write(line) {
      if (queued.push(line) === 1) schedule(flush);
    },
    flush,
  };
}

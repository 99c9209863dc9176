import { describe, expect, it } from 'vitest';
import { createLineWriter } from '../../../server/log.js';

function manualWriter() {
  const chunks: string[] = [];
  const pending: (() => void)[] = [];
  const writer = createLineWriter(
    (chunk) => chunks.push(chunk),
    (callback) => pending.push(callback),
  );
  const tick = () => pending.splice(0).forEach((callback) => callback());
  return { writer, chunks, tick };
}

describe('log line writer', () => {
  it('writes the lines queued in one turn as one chunk, each ending in a newline', () => {
    const { writer, chunks, tick } = manualWriter();
    writer.write('{"a":1}');
    writer.write('{"b":2}');
    expect(chunks).toEqual([]);
    tick();
    expect(chunks).toEqual(['{"a":1}\n{"b":2}\n']);
  });

  it('starts a new chunk for lines queued after a flush', () => {
    const { writer, chunks, tick } = manualWriter();
    writer.write('one');
    tick();
    writer.write('two');
    tick();
    expect(chunks).toEqual(['one\n', 'two\n']);
  });

  it('flush writes at once what is queued and nothing when the queue is empty', () => {
    const { writer, chunks, tick } = manualWriter();
    writer.write('before exit');
    writer.flush();
    writer.flush();
    tick();
    expect(chunks).toEqual(['before exit\n']);
  });

  it('writes on the next turn of the event loop by default', async () => {
    const chunks: string[] = [];
    const writer = createLineWriter((chunk) => chunks.push(chunk));
    writer.write('later');
    expect(chunks).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunks).toEqual(['later\n']);
  });
});

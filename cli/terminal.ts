import { createInterface } from 'node:readline/promises';
import { UsageError } from './errors.js';

/** The whole of stdin; a trailing newline from echo or a file is not part of the value. */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError(
      'Expected the token on stdin, but stdin is a terminal; pipe it in, e.g. printf %s "$TOKEN" | npx iclinic-deploy ...',
    );
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export async function confirmDown(stack: string, region: string): Promise<void> {
  if (!process.stdin.isTTY) {
    throw new UsageError(
      `down deletes every resource of stack "${stack}" in ${region}; pass --yes to confirm when not running in a terminal.`,
    );
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await prompt.question(
    `This deletes every resource of stack "${stack}" in ${region}, including the token and the images. Type the stack name to confirm: `,
  );
  prompt.close();
  if (answer.trim() !== stack) throw new UsageError('Not confirmed; nothing was deleted.');
}

#!/usr/bin/env node
import { buildProgram } from './program.js';

// The AWS SDK warns on every run that future releases will need Node 22; the
// tool supports Node 20 today, so that notice is noise for its users.
const printWarning = process.listeners('warning');
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'NodeVersionSupportWarning') return;
  for (const listener of printWarning) listener(warning);
});

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
